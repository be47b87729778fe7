"""mnist-digits: read handwritten digits end to end."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mnist-digits")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
