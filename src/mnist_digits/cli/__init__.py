"""The ``mnist-digits`` command line: argparse subcommands over the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mnist_digits import __version__
from mnist_digits.cli import data_cmd, model_cmd, predict_cmd, tune_cmd
from mnist_digits.errors import Interrupted, MnistDigitsError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows ``(default: …)`` for every option and keeps description line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # Config flags write their own "(default: …, or the model's recipe)".
        if action.help and "(default:" in action.help:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mnist-digits",
        description="Read handwritten digits end to end: data, training, evaluation.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mnist-digits {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    data_cmd.register(sub, HelpFormatter)
    predict_cmd.register(sub, HelpFormatter)
    model_cmd.register(sub, HelpFormatter)
    tune_cmd.register(sub, HelpFormatter)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors people can cause print one line and exit 2, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except Interrupted as err:
        print(f"mnist-digits: {err}", file=sys.stderr)
        return 130
    except MnistDigitsError as err:
        print(f"mnist-digits: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mnist-digits: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
