"""``mnist-digits serve``: the drawing page and the REST API on uvicorn."""

from __future__ import annotations

import argparse
import os

from mnist_digits.cli.render import log
from mnist_digits.core.errors import MnistDigitsError

# Seconds that in-flight requests get to finish after Ctrl-C or SIGTERM; a prediction takes
# milliseconds, so 5 s only matters for a slow client still uploading.
GRACEFUL_SECONDS = 5


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the drawing page and the REST API",
        formatter_class=fmt,
        description="Serve the page where you draw a digit and see it read live (at /), and "
        "the REST API (/api/predict, docs at /docs). Settings also come from "
        "MNIST_DIGITS_MODEL, MNIST_DIGITS_MAX_UPLOAD and MNIST_DIGITS_CORS_ORIGINS.",
    )
    p.add_argument(
        "--checkpoint",
        metavar="RUN_DIR|WEIGHTS",
        default=None,
        help="run folder or weights file (default: $MNIST_DIGITS_MODEL, else the shipped model)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.add_argument("--workers", type=int, default=1, help="server processes (one core each)")
    p.add_argument(
        "--max-upload",
        default=None,
        help="largest request body, bytes or with K/M (default: $MNIST_DIGITS_MAX_UPLOAD or 10M)",
    )
    p.add_argument(
        "--cors-origins",
        default=None,
        help="comma-separated origins allowed to call the API (default: same origin only)",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level",
    )
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    # Imported here: FastAPI and uvicorn add ~0.5 s that other subcommands need not pay.
    import uvicorn

    from mnist_digits.predict import Predictor
    from mnist_digits.web.app import create_app
    from mnist_digits.web.settings import Settings, parse_origins, parse_size

    if not 0 <= args.port <= 65535:
        raise MnistDigitsError(f"--port must be between 0 and 65535, got {args.port}")
    if args.workers < 1:
        raise MnistDigitsError(f"--workers must be at least 1, got {args.workers}")
    settings = Settings.from_env(
        model=args.checkpoint,
        max_upload=parse_size(args.max_upload) if args.max_upload else None,
        cors_origins=parse_origins(args.cors_origins) if args.cors_origins is not None else None,
    )
    # Loaded here so that a bad path fails in one line before any worker starts.
    predictor = Predictor.from_checkpoint(settings.model)
    log(f"mnist-digits: serving {predictor.meta.model} on http://{args.host}:{args.port}/")
    if args.workers > 1:
        os.environ.update(settings.to_env())  # worker processes rebuild the settings from these
    factory = "mnist_digits.web.app:app_from_env"
    uvicorn.run(
        create_app(settings, predictor) if args.workers == 1 else factory,
        factory=args.workers > 1,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    return 0
