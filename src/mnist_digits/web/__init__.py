"""Draw a digit, see it read live: the web page and REST API (``mnist-digits serve``).

``mnist_digits.web.app.create_app(settings)`` builds the FastAPI app; the model is loaded
once, in its lifespan.

May import: ``predict``, ``samples`` (corrections and collect mode), ``core`` and its own
modules only, so a serving install needs no PyTorch.
"""
