"""User-facing errors.

Every error a person can cause (bad input, missing data, a broken file) is raised as a
``MnistDigitsError`` whose message is one line: what was wrong, and what to do. The CLI prints
that line and exits with status 2; it never shows a traceback for these.
"""


class MnistDigitsError(Exception):
    """An error caused by input or environment, with a one-line message for the user."""


class DataError(MnistDigitsError):
    """The dataset could not be read, verified or fetched."""


class CheckpointError(MnistDigitsError):
    """A checkpoint or run directory is missing, incomplete or not ours."""


class ConfigError(MnistDigitsError):
    """A configuration value or file is invalid."""


class ImageError(MnistDigitsError):
    """An image could not be read or is not usable."""


class Interrupted(MnistDigitsError):
    """Training was interrupted by the user; its state was saved for ``--resume``."""
