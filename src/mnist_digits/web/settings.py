"""Server settings: defaults, overridden by environment variables, overridden by CLI flags.

Environment variables (each optional):

- ``MNIST_DIGITS_MODEL``: run folder or ``.safetensors`` file; unset means the shipped model.
- ``MNIST_DIGITS_MAX_UPLOAD``: request body limit in bytes, or with a K/M suffix (``10M``).
- ``MNIST_DIGITS_CORS_ORIGINS``: comma-separated origins allowed to call the API from a browser.
- ``MNIST_DIGITS_THREADS``: torch threads per server process.
- ``MNIST_DIGITS_BODY_TIMEOUT``: seconds a client gets to send a request body (default 30).
- ``MNIST_DIGITS_COLLECT``: ``0`` (or ``false``, ``no``, ``off``) turns the samples routes off.
- ``MNIST_DIGITS_SAMPLES``: the samples database; unset means ``samples.sqlite3`` in the data
  home (``$MNIST_DIGITS_HOME``, else ``~/.cache/mnist-digits``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.core.limits import MAX_BYTES
from mnist_digits.web.schemas import MAX_BATCH

# One torch thread per process: the model is tiny (34k parameters), so a request gains nothing
# from intra-op threads, and with one thread per uvicorn worker N workers use N cores cleanly.
DEFAULT_THREADS = 1
# 30 s for the body: a 5 MB phone photo at 2 Mbit/s takes 20 s; a stalled upload is cut off.
DEFAULT_BODY_TIMEOUT = 30.0
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


@dataclass(frozen=True)
class Settings:
    """Everything the web app needs to start.

    Attributes:
        model: run folder or weights file; None means the model shipped with the package.
        max_upload: largest request body accepted, in bytes (larger gets 413).
        cors_origins: origins allowed cross-origin access; empty means same-origin only.
        threads: torch threads in each server process.
        max_batch: most images in one ``/api/predict/batch`` request (at most ``MAX_BATCH``,
            64, which the schema enforces while parsing).
        body_timeout: seconds a client gets to send a request's body once its headers are in
            (408 after that): a stalled or 1 byte/s upload cannot hold a connection and its
            spooled file for ever.
        collect: whether people may store corrections and collected samples (the
            ``/api/samples`` routes answer 403 and the page hides its controls when off).
        samples: the samples database; None means ``samples.sqlite3`` in the data home.
    """

    model: str | None = None
    max_upload: int = MAX_BYTES
    cors_origins: tuple[str, ...] = ()
    threads: int = DEFAULT_THREADS
    max_batch: int = MAX_BATCH
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    collect: bool = True
    samples: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``MNIST_DIGITS_*`` variables, then ``overrides`` that are not None.

        Raises:
            MnistDigitsError: a variable holds a value that cannot be used (one-line message).
        """
        env = os.environ if environ is None else environ
        found: dict[str, Any] = {}
        if env.get("MNIST_DIGITS_MODEL"):
            found["model"] = env["MNIST_DIGITS_MODEL"]
        if env.get("MNIST_DIGITS_MAX_UPLOAD"):
            found["max_upload"] = parse_size(env["MNIST_DIGITS_MAX_UPLOAD"])
        if env.get("MNIST_DIGITS_CORS_ORIGINS"):
            found["cors_origins"] = parse_origins(env["MNIST_DIGITS_CORS_ORIGINS"])
        if env.get("MNIST_DIGITS_THREADS"):
            found["threads"] = _positive("MNIST_DIGITS_THREADS", env["MNIST_DIGITS_THREADS"])
        if env.get("MNIST_DIGITS_BODY_TIMEOUT"):
            found["body_timeout"] = parse_seconds(
                "MNIST_DIGITS_BODY_TIMEOUT", env["MNIST_DIGITS_BODY_TIMEOUT"]
            )
        if env.get("MNIST_DIGITS_COLLECT"):
            found["collect"] = parse_switch("MNIST_DIGITS_COLLECT", env["MNIST_DIGITS_COLLECT"])
        if env.get("MNIST_DIGITS_SAMPLES"):
            found["samples"] = env["MNIST_DIGITS_SAMPLES"]
        found.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **found)

    def to_env(self) -> dict[str, str]:
        """The variables that make ``from_env`` rebuild these settings in a worker process."""
        env = {
            "MNIST_DIGITS_MAX_UPLOAD": str(self.max_upload),
            "MNIST_DIGITS_CORS_ORIGINS": ",".join(self.cors_origins),
            "MNIST_DIGITS_THREADS": str(self.threads),
            "MNIST_DIGITS_BODY_TIMEOUT": repr(self.body_timeout),
            "MNIST_DIGITS_COLLECT": "1" if self.collect else "0",
        }
        if self.model is not None:
            env["MNIST_DIGITS_MODEL"] = self.model
        if self.samples is not None:
            env["MNIST_DIGITS_SAMPLES"] = self.samples
        return env


def parse_size(text: str) -> int:
    """Bytes from ``"10485760"``, ``"512K"``, ``"10M"`` or ``"10MB"`` (binary units)."""
    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = raw[-1:] if raw[-1:] in _UNITS else ""
    number = raw[: len(raw) - len(unit)].strip()
    try:
        size = int(float(number) * _UNITS[unit])
    except (ValueError, OverflowError):  # "ten", "nan", "inf"
        size = 0
    if size <= 0:
        raise MnistDigitsError(
            f"upload limit {text!r} is not a positive size; use bytes or a K/M suffix, e.g. 10M"
        )
    return size


def parse_origins(text: str) -> tuple[str, ...]:
    """Origins from a comma-separated list, blanks dropped (``*`` allows every origin)."""
    return tuple(o.strip() for o in text.split(",") if o.strip())


def parse_seconds(name: str, text: str) -> float:
    """A positive, finite number of seconds (``name`` is the flag or variable, for the error)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise MnistDigitsError(f"{name}={text!r} must be a positive number of seconds")
    return value


def parse_switch(name: str, text: str) -> bool:
    """On or off from ``1/0``, ``true/false``, ``yes/no`` or ``on/off`` (any case)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise MnistDigitsError(f"{name}={text!r} must be 1 or 0 (true/false, yes/no, on/off)")


def _positive(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise MnistDigitsError(f"{name}={text!r} must be a whole number of at least 1")
    return value
