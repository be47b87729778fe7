"""The FastAPI application: ``create_app(settings)`` builds it, ``lifespan`` loads the model.

Every asset (page, script, styles, API docs) is served from ``static/``, so the app works
offline; nothing is fetched from a CDN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from mnist_digits import __version__
from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.predict import Predictor
from mnist_digits.samples.store import StoreUnavailable
from mnist_digits.web.api import router
from mnist_digits.web.guard import GuardMiddleware
from mnist_digits.web.inputs import MAX_ERRORS
from mnist_digits.web.limits import BodyLimitMiddleware
from mnist_digits.web.local import router as local_router
from mnist_digits.web.ratelimit import RateLimiter
from mnist_digits.web.samples_api import router as samples_router
from mnist_digits.web.settings import Settings
from mnist_digits.web.work import Work

STATIC = Path(__file__).parent / "static"
DESCRIPTION = (
    "Read handwritten digits. Send a drawing, a photo or 28×28 pixels to `POST /api/predict`; "
    "the answer holds the digit, calibrated probabilities and the 28×28 image the model saw."
)


def create_app(settings: Settings | None = None, predictor: Predictor | None = None) -> FastAPI:
    """Build the app; the model is loaded once, when the server starts.

    Args:
        settings: model path, upload limit, CORS origins; None reads them from the environment.
        predictor: an already loaded model to serve instead of loading ``settings.model``
            (tests share one this way).
    """
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="mnist-digits",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings, predictor),
        docs_url=None,  # FastAPI's Swagger page loads from a CDN; /docs is our own, offline
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.predictor = predictor  # set again (or loaded) in lifespan; None until then
    app.state.work = Work()  # the threads that read images (web.work)
    app.state.rate_limiter = RateLimiter()  # the samples routes' writes (web.ratelimit)
    app.include_router(router)
    app.include_router(local_router)  # the model for the page's in-browser reader
    app.include_router(samples_router)
    _add_pages(app)
    _add_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )
    # Oversized bodies are refused before anything reads them ...
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload)
    # ... and the guard, added last so it runs first, sees every response (web.guard).
    app.add_middleware(GuardMiddleware, body_timeout=settings.body_timeout)
    return app


def _lifespan(
    settings: Settings, predictor: Predictor | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shutdown: load the model once per server process, before serving."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One runtime thread per worker process (see settings.DEFAULT_THREADS).
        app.state.predictor = predictor or Predictor.from_checkpoint(
            settings.model, threads=settings.threads
        )
        # The first forward pass pays the runtime's lazy set-up (~50 ms); pay it before serving.
        app.state.predictor.probabilities28(np.zeros((1, 28, 28), dtype=np.uint8))
        yield
        # Graceful shutdown is uvicorn's: it stops accepting, lets in-flight requests finish
        # (up to --timeout-graceful-shutdown), then runs this; the model needs no cleanup.

    return lifespan


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: each worker process builds its app from env vars."""
    return create_app(Settings.from_env())


def _add_pages(app: FastAPI) -> None:
    """The drawing page at ``/``, collect mode at ``/collect``, the API docs at ``/docs`` and
    their assets at ``/static``."""

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/collect", include_in_schema=False)
    async def collect() -> FileResponse:
        return FileResponse(STATIC / "collect.html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _add_error_handlers(app: FastAPI) -> None:
    """Bad input answers 400/422 with a one-line ``detail``; never a traceback or a 5xx."""

    @app.exception_handler(MnistDigitsError)
    async def user_error(request: Request, exc: MnistDigitsError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(StoreUnavailable)
    async def store_down(request: Request, exc: StoreUnavailable) -> JSONResponse:
        # The server's own disk or database failed, not the request: reading still works.
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "60"})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = list(exc.errors())
        unlisted = sum(int(e.get("count", 0)) for e in found if e.get("type") == "unlisted")
        listed = [e for e in found if e.get("type") != "unlisted"]
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in listed[:MAX_ERRORS]
        ]
        detail = _summary(errors, len(listed) + unlisted)
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        # Never expected: every error a client can cause is a 4xx. Still JSON, still one line;
        # the traceback goes to the server's log.
        detail = f"internal error ({type(exc).__name__}); this is a bug, please report it"
        return JSONResponse({"detail": detail}, status_code=500)


def _summary(errors: list[dict[str, object]], total: int) -> str:
    """One line naming the first problem and how many more there are."""
    if not errors:
        return "the request does not fit the API schema"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"] or ["body"])  # type: ignore[attr-defined]
    more = f" (and {total - 1} more)" if total > 1 else ""
    return f"{where}: {first['msg']}{more}"
