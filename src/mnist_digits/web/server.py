"""Running the app on uvicorn, guarded against slow and greedy clients.

``serve`` binds the port itself (a busy port is a one-line error before anything starts), loads
the model once per serving process (with ``--workers N`` the parent only checks it, in a
short-lived child, and never holds it), and runs uvicorn with ``GuardedHttp``: uvicorn's
HTTP/1.1 protocol plus what it lacks (uvicorn has a keep-alive timeout but nothing for a
client that never finishes its headers):

- a deadline for the request headers (``Limits.header_timeout``, then 408);
- a cap on header bytes (``Limits.max_header_bytes``, then 431);
- a cap on open connections per process (``Limits.max_connections``): one more is answered
  503 as soon as it connects and closed, so slow connections cannot pile up;
- JSON bodies for the errors uvicorn writes itself (a malformed request line is a 400).

WebSockets are off (``ws="none"``): the app has none, so an upgrade request is plain HTTP.

The body deadline is the app's (``web.guard``), as is everything after the headers.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import socket
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.predict import Predictor
from mnist_digits.web.app import create_app
from mnist_digits.web.guard import SECURITY_HEADERS
from mnist_digits.web.settings import Settings

# Seconds that in-flight requests get to finish after Ctrl-C or SIGTERM; a prediction takes
# milliseconds, so 5 s only matters for a slow client still uploading (it then gets a 503).
GRACEFUL_SECONDS = 5
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}
_REASONS[503] = b"Service Unavailable"
# After a refusal the socket is half-closed and drained this long before it is closed:
# closing with unread request bytes makes the kernel send a reset, and the client would see
# "connection reset" instead of the answer.
_LINGER_SECONDS = 1.0


@dataclass(frozen=True)
class Limits:
    """What one connection may take before the app sees a request.

    Attributes:
        header_timeout: seconds from connecting (or from the previous response) to the end of
            the request's headers; a browser sends them in one packet.
        max_header_bytes: most bytes of request line and headers (a browser sends ~1-2 KB).
        max_connections: most open connections per server process.
        keep_alive: seconds an idle connection stays open between requests.
    """

    header_timeout: float = 10.0
    max_header_bytes: int = 64 * 1024
    max_connections: int = 512
    keep_alive: int = 5


class ServerConfig(uvicorn.Config):
    """uvicorn's config plus our ``Limits`` (a module-level class: workers unpickle it)."""

    def __init__(self, app: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.limits = limits


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, caps and JSON errors."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: Limits = getattr(config, "limits", Limits())
        self._header_timer: Any = None  # armed while the next request's headers are due
        self._head_bytes = 0
        self._refused = False  # answered and closing: what the client still sends is dropped

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            detail = "the server has too many open connections; retry in a moment"
            self._refuse(503, detail, b"retry-after: 1\r\n")
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        waiting = self._header_timer is not None
        self._head_bytes += len(data) if waiting else 0
        super().data_received(data)
        # Still waiting for the end of the headers after this data: count it against the cap.
        still = waiting and self._header_timer is not None and not self.transport.is_closing()
        if still and self._head_bytes > self.limits.max_header_bytes:
            size = f"{self.limits.max_header_bytes:,}"
            self._refuse(431, f"the request line and headers are over {size} bytes")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, f"{msg.rstrip('.')}: this is not a well-formed HTTP/1.1 request")

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _late(self) -> None:
        """The headers did not arrive in time: 408 if some bytes came, else just close."""
        self._header_timer = None
        if self.transport.is_closing() or (self.cycle and not self.cycle.response_complete):
            return
        if self._head_bytes:
            timeout = f"{self.limits.header_timeout:g}"
            self._refuse(408, f"the request headers did not arrive within {timeout} s")
        else:
            self.transport.close()

    def _refuse(self, status: int, detail: str, extra: bytes = b"") -> None:
        """Write a JSON error straight to the socket and close it (no request is in the app)."""
        self._disarm()
        body = json.dumps({"detail": detail}).encode()
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])]
        head += [b"%s: %s\r\n" % pair for pair in SECURITY_HEADERS]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body)]
        self.transport.write(b"".join([*head, extra, b"connection: close\r\n\r\n", body]))
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port``; a one-line error when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: quick restarts
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise MnistDigitsError(
                f"port {port} is in use on {host}; stop what is using it or choose another --port"
            ) from None
        reason = err.strerror or str(err)
        raise MnistDigitsError(f"cannot listen on {host}:{port} ({reason}); check --host") from None
    sock.set_inheritable(True)  # the worker processes serve this same socket
    return sock


def _probe(model: str | None) -> str:
    """Load the model in a child process and name it (the parent never holds it)."""
    return Predictor.from_checkpoint(model).meta.model


def check_model(model: str | None) -> str:
    """The model's name, loaded in a short-lived child process; its errors raised here."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, freed on exit
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_probe, model).result()


def serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int = 1,
    limits: Limits | None = None,
    **uvicorn_options: Any,
) -> str:
    """Serve until shut down; returns the URL it served on.

    Args:
        settings: the app's settings (model, limits, CORS, threads, body timeout).
        host, port: where to listen; port 0 picks a free one.
        workers: server processes; above 1, each loads the model and the parent does not.
        limits: connection limits (``Limits()`` when None).
        uvicorn_options: passed to ``uvicorn.Config`` (``log_level``, ``access_log``).

    Raises:
        MnistDigitsError: the port is busy, or the model cannot be loaded (one line).
    """
    limits = limits or Limits()
    sock = bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}/"
    if workers > 1:
        name = check_model(settings.model)
        os.environ.update(settings.to_env())  # each worker rebuilds the settings from these
        app: Any = "mnist_digits.web.app:app_from_env"
    else:
        predictor = Predictor.from_checkpoint(settings.model, threads=settings.threads)
        name, app = predictor.meta.model, create_app(settings, predictor)
    print(f"mnist-digits: serving {name} on {url}", file=sys.stderr, flush=True)
    config = ServerConfig(
        app, limits, host=host, port=port, workers=workers, factory=workers > 1,
        http=GuardedHttp, ws="none", timeout_keep_alive=limits.keep_alive,
        timeout_graceful_shutdown=GRACEFUL_SECONDS, **uvicorn_options,
    )  # fmt: skip
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        if not server.started:
            raise MnistDigitsError("the server did not start; see the messages above")
    return url
