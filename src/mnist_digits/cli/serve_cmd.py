"""``mnist-digits serve``: the drawing page and the REST API on uvicorn."""

from __future__ import annotations

import argparse

from mnist_digits.core.errors import MnistDigitsError

# Defaults of the connection limits, as in web.server.Limits (not imported here: FastAPI and
# uvicorn add ~0.5 s that other subcommands need not pay).
_HEADER_TIMEOUT, _KEEP_ALIVE, _MAX_CONNECTIONS = 10.0, 5, 512


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the drawing page and the REST API",
        formatter_class=fmt,
        description="Serve the page where you draw a digit and see it read live (at /), and "
        "the REST API (/api/predict, docs at /docs). Settings also come from "
        "MNIST_DIGITS_MODEL, MNIST_DIGITS_MAX_UPLOAD, MNIST_DIGITS_CORS_ORIGINS, "
        "MNIST_DIGITS_BODY_TIMEOUT, MNIST_DIGITS_COLLECT and MNIST_DIGITS_SAMPLES.",
    )
    p.add_argument(
        "--checkpoint",
        metavar="RUN_DIR|WEIGHTS",
        default=None,
        help="run folder or weights file (default: $MNIST_DIGITS_MODEL, else the shipped model)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free one)")
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
    _samples_options(p)
    _connection_options(p)
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level",
    )
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.set_defaults(handler=cmd_serve)


def _samples_options(p: argparse.ArgumentParser) -> None:
    """Where corrections and collected digits go, or that none are kept (web.samples_api)."""
    p.add_argument(
        "--no-collect",
        action="store_true",
        help="store no corrections or collected samples: /api/samples answers 403 "
        "(default: collect, unless MNIST_DIGITS_COLLECT=0)",
    )
    p.add_argument(
        "--samples",
        metavar="DB",
        default=None,
        help="the samples database (default: $MNIST_DIGITS_SAMPLES, else samples.sqlite3 in "
        "the data home)",
    )


def _connection_options(p: argparse.ArgumentParser) -> None:
    """Limits on what one client connection may hold (see web.server.Limits)."""
    p.add_argument(
        "--header-timeout",
        type=float,
        default=_HEADER_TIMEOUT,
        metavar="S",
        help="seconds a client gets to send a request's headers (then 408)",
    )
    p.add_argument(
        "--body-timeout",
        default=None,
        metavar="S",
        help="seconds a client gets to send a request's body (then 408; "
        "default: $MNIST_DIGITS_BODY_TIMEOUT or 30)",
    )
    p.add_argument(
        "--keep-alive",
        type=int,
        default=_KEEP_ALIVE,
        metavar="S",
        help="seconds an idle connection stays open between requests",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=_MAX_CONNECTIONS,
        metavar="N",
        help="most open connections per server process (one more gets 503 and is closed)",
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from mnist_digits.web.server import Limits, serve
    from mnist_digits.web.settings import Settings, parse_origins, parse_seconds, parse_size

    if not 0 <= args.port <= 65535:
        raise MnistDigitsError(f"--port must be between 0 and 65535, got {args.port}")
    if min(args.workers, args.keep_alive, args.max_connections, args.header_timeout) <= 0:
        raise MnistDigitsError(
            "--workers, --keep-alive, --max-connections and --header-timeout must be positive"
        )
    settings = Settings.from_env(
        model=args.checkpoint,
        max_upload=parse_size(args.max_upload) if args.max_upload else None,
        cors_origins=parse_origins(args.cors_origins) if args.cors_origins is not None else None,
        body_timeout=parse_seconds("--body-timeout", args.body_timeout)
        if args.body_timeout
        else None,
        collect=False if args.no_collect else None,
        samples=args.samples,
    )
    limits = Limits(args.header_timeout, max_connections=args.max_connections,
                    keep_alive=args.keep_alive)  # fmt: skip
    serve(settings, args.host, args.port, args.workers, limits,
          log_level=args.log_level, access_log=not args.no_access_log)  # fmt: skip
    return 0
