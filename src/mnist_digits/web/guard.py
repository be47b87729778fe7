"""The outermost layer of every HTTP request: what no route should have to think about.

- Security headers on every response (``SECURITY_HEADERS``): the page has no inline script or
  style, so ``default-src 'self'`` fits it (plus ``'wasm-unsafe-eval'`` for the in-browser
  reader's wasm), and no other site may frame it.
- A deadline for the body: a client gets ``body_timeout`` seconds from its headers to the end
  of its body, then 408 (a stalled 9 MB upload once held its spool file for ever).
- A client that goes away mid-upload is one debug line, not a 68-line ERROR traceback.
- A request cancelled by shutdown (SIGTERM, after the grace period) answers 503, not 500.
- Every error is JSON: a plain-text error from a layer below (CORS preflight refusals) is
  rewritten as ``{"detail": ...}``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    # 'wasm-unsafe-eval' lets the page compile onnxruntime-web's wasm for "Read in this
    # browser" (web.local); scripts still come only from this origin, never inline or eval.
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
]
_LOG = logging.getLogger("uvicorn.error")  # uvicorn configures this one; --log-level applies
_DROPPED = {b"content-type", b"content-length"}


class _SlowBody(Exception):
    """Raised from ``receive`` when the body is not in by its deadline."""


@dataclass
class _Exchange:
    """What the guard knows of one request and its response so far."""

    deadline: float
    body_done: bool = False
    started: bool = False
    held: Message | None = None  # a non-JSON error's start message, until its body is in
    chunks: list[bytes] = field(default_factory=list)


class GuardMiddleware:
    """Wrap an ASGI app with the guarantees in the module docstring."""

    def __init__(self, app: ASGIApp, body_timeout: float) -> None:
        self.app = app
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _Exchange(anyio.current_time() + self.body_timeout)
        rewrite = scope.get("method") != "HEAD"

        async def timed_receive() -> Message:
            if state.body_done:  # e.g. a response waiting for a disconnect: no deadline
                return await receive()
            with anyio.move_on_after(state.deadline - anyio.current_time()) as timer:
                message = await receive()
            if timer.cancelled_caught:
                raise _SlowBody
            state.body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        async def guarded_send(message: Message) -> None:
            await _send(state, send, message, rewrite)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except _SlowBody:
            if not state.started:
                detail = (
                    f"the request body did not arrive within {self.body_timeout:g} s; "
                    "send it faster, or a smaller image"
                )
                await _answer(send, 408, detail, close=True)
        except ClientDisconnect:
            client = scope.get("client") or ("?", 0)
            _LOG.debug(
                "%s:%s went away before sending all of %s %s",
                *client,
                scope.get("method"),
                scope.get("path"),
            )
        except anyio.get_cancelled_exc_class():
            # uvicorn cancels what is still running when the grace period after SIGTERM ends.
            # The task ends here either way; answering (and not re-raising) spares the client
            # a 500 and the log a traceback.
            if not state.started:
                detail = "the server is shutting down; retry in a moment"
                await _answer(send, 503, detail, close=True, retry_after="1")


async def _send(state: _Exchange, send: Send, message: Message, rewrite: bool) -> None:
    """Add the security headers; hold a non-JSON error until its body can become JSON."""
    if message["type"] == "http.response.start":
        state.started = True
        headers = [*message.get("headers", []), *SECURITY_HEADERS]
        message = {**message, "headers": headers}
        ctype = dict(headers).get(b"content-type", b"")
        if rewrite and message["status"] >= 400 and not ctype.startswith(b"application/json"):
            state.held = message
            return
    elif message["type"] == "http.response.body" and state.held is not None:
        state.chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        held, state.held = state.held, None
        text = b"".join(state.chunks).decode("utf-8", "replace").strip()
        kept = [(k, v) for k, v in held["headers"] if k.lower() not in _DROPPED]
        await _answer(send, held["status"], text or "the request failed", headers=kept)
        return
    await send(message)


async def _answer(
    send: Send,
    status: int,
    detail: str,
    *,
    close: bool = False,
    retry_after: str | None = None,
    headers: list[Any] | None = None,
) -> None:
    """Send a JSON ``{"detail": ...}`` response with the security headers."""
    body = json.dumps({"detail": " ".join(detail.split())}).encode()
    out = headers if headers is not None else list(SECURITY_HEADERS)
    out = [*out, (b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if close:  # the unread rest of the body makes the connection unusable
        out.append((b"connection", b"close"))
    if retry_after:
        out.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
