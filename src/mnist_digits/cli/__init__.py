"""The ``mnist-digits`` command line: argparse subcommands over the library."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from mnist_digits import __version__
from mnist_digits.cli import (
    data_cmd,
    export_cmd,
    predict_cmd,
    samples_cmd,
    serve_cmd,
    site_cmd,
)
from mnist_digits.core.errors import Interrupted, MnistDigitsError

# Modules only the `train` extra installs. A serving install (`mnist-digits[serve]`) lacks
# them: commands that need them then say how to install them instead of showing a traceback.
TRAIN_EXTRA = (
    "torch",
    "safetensors",
    "tensorboard",
    "yaml",
    "onnx",
    "onnxscript",
    "matplotlib",
    "seaborn",
)
INSTALL_TRAIN = "pip install 'mnist-digits[train]'"


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
    _register_or_stub(
        sub,
        "model_cmd",
        {"train": "train a model from the registry", "models": "list the model registry"},
    )
    _register_or_stub(
        sub,
        "eval_cmd",
        {
            "evaluate": "accuracy, calibration, OOD separation and corruptions",
            "report": "one self-contained HTML report of runs",
        },
    )
    _register_or_stub(sub, "tune_cmd", {"tune": "search training recipes with Optuna"})
    _register_or_stub(sub, "finetune_cmd", {"finetune": "fine-tune a model on your own samples"})
    export_cmd.register(sub, HelpFormatter)
    serve_cmd.register(sub, HelpFormatter)
    samples_cmd.register(sub, HelpFormatter)
    site_cmd.register(sub, HelpFormatter)
    return parser


def missing_extra(err: ModuleNotFoundError) -> str | None:
    """The missing module's name when it belongs to the `train` extra, else None."""
    root = (err.name or "").split(".")[0]
    return root if root in TRAIN_EXTRA else None


def needs_train(command: str, missing: str) -> str:
    """The one line for a command run without the `train` extra."""
    return f"`{command}` needs {missing}, which is not installed; run: {INSTALL_TRAIN}"


def _register_or_stub(
    sub: argparse._SubParsersAction, module: str, commands: dict[str, str]
) -> None:
    """Register a command module that imports PyTorch, or stand-ins that say how to get it."""
    try:
        mod = importlib.import_module(f"mnist_digits.cli.{module}")
    except ModuleNotFoundError as err:
        missing = missing_extra(err)
        if missing is None:
            raise
        for name, text in commands.items():
            p = sub.add_parser(name, help=f"{text} (needs {INSTALL_TRAIN})")
            p.set_defaults(handler=_needs_train(name, missing), any_args=True)
        return
    mod.register(sub, HelpFormatter)


def _needs_train(command: str, missing: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        raise MnistDigitsError(needs_train(command, missing))

    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors people can cause print one line and exit 2, never a traceback."""
    parser = build_parser()
    # parse_args is parse_known_args plus this check; stand-ins for commands that need the
    # `train` extra take any arguments, so their one-line message is what people see.
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "any_args", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.handler(args) or 0)
    except ModuleNotFoundError as err:
        if missing_extra(err) is None:
            raise
        print(f"mnist-digits: error: {needs_train(args.command, str(err.name))}", file=sys.stderr)
        return 2
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
