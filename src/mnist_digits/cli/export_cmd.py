"""``mnist-digits export``: a checkpoint as a self-describing ONNX model, float32 or int8."""

from __future__ import annotations

import argparse

from mnist_digits.cli.common import add_data_options, add_json, check_out, ensure
from mnist_digits.cli.render import emit_json, log


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "export",
        help="export a model to ONNX (float32 or int8) to serve it without PyTorch",
        formatter_class=fmt,
        description="Export a checkpoint to ONNX: input float32 (N, 1, 28, 28) pixels in "
        "0..1 (white ink on black), normalised inside the graph; output logits (N, 10). "
        "The file's metadata holds classes, normalisation, temperature, reject threshold, "
        "version and recipe. `mnist-digits predict --checkpoint FILE.onnx` runs it.",
    )
    p.add_argument("model", metavar="RUN_DIR|WEIGHTS", help="a run folder or .safetensors file")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="output format")
    p.add_argument(
        "--int8",
        action="store_true",
        help="quantise to int8 with onnxruntime, calibrated on 2,000 training images",
    )
    p.add_argument(
        "--out",
        default=None,
        help="the .onnx file to write (default: RUN_DIR/model.onnx or WEIGHTS with .onnx; "
        "-int8 is added to the name with --int8)",
    )
    add_data_options(p, dataset=False)
    add_json(p)
    p.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    # Imported here: export needs PyTorch and onnx (the `train` extra), the CLI does not.
    from mnist_digits.export import export_onnx, output_path
    from mnist_digits.models.checkpoint import read_meta

    meta = read_meta(args.model)
    out = check_out(output_path(args.model, args.out, args.int8))
    if args.int8:
        ensure(args, meta.dataset)  # the calibration images
    log(f"exporting {meta.model} from {args.model} to ONNX{' int8' if args.int8 else ''}")
    result = export_onnx(args.model, out, int8=args.int8, data_dir=args.data_dir)
    if args.json:
        emit_json(result.to_dict())
        return 0
    if "max_abs_diff" in result.check:
        check = f"logits within {result.check['max_abs_diff']:.1e} of PyTorch"
    else:
        agree = result.check["argmax_agreement"]
        check = f"agrees with PyTorch on {agree:.2%} of the calibration images"
    kind = "int8" if result.int8 else "float32"
    print(
        f"wrote {result.path} ({result.model}, {kind}, opset {result.opset}, "
        f"{result.size_bytes / 1024:.0f} KiB); {check}"
    )
    return 0
