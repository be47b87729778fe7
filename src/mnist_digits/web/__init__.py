"""Draw a digit, see it read live: the web page and REST API (``mnist-digits serve``).

``create_app(settings)`` builds the FastAPI app; the model is loaded once, in its lifespan.
"""

from mnist_digits.web.app import app_from_env, create_app
from mnist_digits.web.settings import Settings

__all__ = ["Settings", "app_from_env", "create_app"]
