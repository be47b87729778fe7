"""Export a checkpoint to a self-describing ONNX model, in float32 or int8.

The graph has one input, named by the checkpoint's input contract (``pixels``): float32
(N, 1, 28, 28) holding pixels scaled to 0..1, white ink on black (``InputContract.pixels``).
The contract's standardisation happens inside the graph, and the output ``logits`` is float32
(N, 10). The batch axis is dynamic and the opset is :data:`OPSET`.

The model's metadata carries the checkpoint's own description (``mnist_digits``: model,
normalisation, classes, temperature and reject threshold, metrics, recipe, version) and a few
flat keys for people reading the file in a viewer, so the file describes itself and
:class:`mnist_digits.predict.OnnxBackend` needs nothing else.

int8 uses onnxruntime's static quantisation, calibrated on training images (never the
validation split, on which the calibration was chosen: ``benchmarks/int8_bench.py``): QDQ format,
per-channel int8 weights and uint8 activations from min/max ranges. Weights use 7 bits
(``reduce_range``): on AVX2 CPUs without VNNI onnxruntime multiplies uint8 by int8 in pairs
summed in int16, which saturates with full 8-bit weights (see the README's ONNX section).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from mnist_digits import __version__
from mnist_digits.core.card import META_KEY, CheckpointMeta
from mnist_digits.core.contract import InputContract
from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.core.files import atomic_write
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import DEFAULT_VAL_SEED, DEFAULT_VAL_SIZE, split_indices
from mnist_digits.models.checkpoint import load_checkpoint, resolve_checkpoint

# The dynamo exporter's own opset in torch 2.13: asking for it needs no version conversion.
OPSET = 18
OUTPUT_NAME = "logits"
# Chosen on validation by benchmarks/int8_bench.py (benchmarks/results/int8.md): for the shipped
# weights the 99.999th percentile over 2,000 images kept validation accuracy at float32's
# 99.32%, where 500 or 8,000 images, min/max and entropy lost 1-2 images of 5,000. (For the
# weights before them 500 and 2,000 tied at float32's 99.34%.)
CALIBRATION_IMAGES = 2000
CALIBRATION_METHOD = "percentile"
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
_CALIBRATION_BATCH = 250
# Float32 export must match PyTorch to 1e-4 in logits; the export checks this on its way out.
FP32_TOLERANCE = 1e-4
_CHECK_IMAGES = 64


@dataclass(frozen=True)
class ExportResult:
    """What ``export_onnx`` wrote.

    Attributes:
        path: the ``.onnx`` file.
        model: registry name of the architecture.
        int8: whether the weights and activations are quantised.
        opset: the ONNX opset.
        size_bytes: file size.
        check: ``max_abs_diff`` of logits against PyTorch on random images (float32), or
            ``argmax_agreement`` with PyTorch on the calibration images (int8).
    """

    path: Path
    model: str
    int8: bool
    opset: int
    size_bytes: int
    check: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


class PixelsToLogits(nn.Module):
    """A model behind its own input contract: 0..1 pixels in, logits out."""

    def __init__(self, model: nn.Module, contract: InputContract) -> None:
        super().__init__()
        self.model = model
        self.contract = contract

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model(self.contract.standardize(pixels))  # (N, 10)


def default_output(source: str | os.PathLike[str], int8: bool = False) -> Path:
    """``RUN_DIR/model.onnx`` for a run folder, else the weights file's name with ``.onnx``."""
    weights = resolve_checkpoint(source)
    stem = "model" if Path(source).is_dir() else weights.stem
    return weights.with_name(f"{stem}-int8.onnx" if int8 else f"{stem}.onnx")


def output_path(
    source: str | os.PathLike[str], out: str | os.PathLike[str] | None, int8: bool = False
) -> Path:
    """The file to write: ``out`` when given (it must end in ``.onnx``), else the default."""
    target = Path(out) if out is not None else default_output(source, int8)
    if target.suffix.lower() != ".onnx":
        raise MnistDigitsError(f"--out must name a .onnx file, got {target}")
    return target


def export_onnx(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    int8: bool = False,
    calibration: np.ndarray | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> ExportResult:
    """Export a run folder or ``.safetensors`` checkpoint to ONNX.

    Args:
        source: a run directory (its best checkpoint) or a weights file.
        out: the ``.onnx`` file to write (default: see :func:`default_output`).
        int8: quantise with onnxruntime's static quantisation.
        calibration: uint8 images (N, 28, 28) to calibrate int8 on (default:
            :data:`CALIBRATION_IMAGES` seeded training images of the checkpoint's dataset).
        data_dir: the dataset cache, for the default calibration images.

    Returns:
        What was written, with a parity check against PyTorch.

    Raises:
        MnistDigitsError: bad paths, or an export that does not match PyTorch.
    """
    target = output_path(source, out, int8)
    model, meta = load_checkpoint(source)
    proto = to_onnx(model, meta)
    if int8:
        images = calibration if calibration is not None else training_images(meta.dataset, data_dir)
        proto = quantize_int8(proto, images, meta.input)
        check = {"argmax_agreement": _agreement(proto, model, meta, images)}
    else:
        check = {"max_abs_diff": _max_abs_diff(proto, model, meta)}
    describe(proto, meta, _quantization(calibration, int8))
    onnx.checker.check_model(proto)
    try:
        atomic_write(target, proto.SerializeToString())
    except OSError as err:
        raise MnistDigitsError(f"cannot write {target}: {err.strerror or err}") from None
    return ExportResult(target, meta.model, int8, OPSET, target.stat().st_size, check)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    # The exporter logs a warning per missing torchvision op and emits deprecation warnings;
    # neither says anything about this model.
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def to_onnx(model: nn.Module, meta: CheckpointMeta) -> onnx.ModelProto:
    """The float32 graph: 0..1 pixels (N, 1, 28, 28) → logits (N, 10), dynamic N.

    The dynamo exporter folds each BatchNorm into its convolution, so the graph is
    Sub, Div, then only Conv, Relu, MaxPool, Reshape and Gemm for the CNNs.
    """
    wrapped = PixelsToLogits(model, meta.input).eval()
    # A batch of 2, not 1: the exporter would specialise a batch of 1 into the graph.
    example = torch.zeros(2, 1, 28, 28)
    with _quiet_exporter():
        program = torch.onnx.export(
            wrapped,
            (example,),
            dynamo=True,
            verbose=False,
            input_names=[meta.input.onnx_input],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            opset_version=OPSET,
        )
    if program is None:  # only the legacy exporter returns None
        raise MnistDigitsError("the ONNX exporter returned no model; is onnxscript installed?")
    return program.model_proto


def training_images(
    dataset: str, data_dir: str | os.PathLike[str] | None, count: int = CALIBRATION_IMAGES
) -> np.ndarray:
    """``count`` seeded images of the training part of ``dataset``'s training split (the
    validation images are left out: the calibration is chosen on them). (count, 28, 28)"""
    train = load_dataset(dataset, "train", data_dir=data_dir)
    part, _ = split_indices(len(train), DEFAULT_VAL_SIZE, DEFAULT_VAL_SEED)
    pick = np.random.default_rng(0).choice(part.numpy(), size=count, replace=False)
    return train.images[np.sort(pick)]


def quantize_int8(
    fp32: onnx.ModelProto,
    images28: np.ndarray,
    contract: InputContract,
    method: str = CALIBRATION_METHOD,
) -> onnx.ModelProto:
    """Static int8 quantisation (QDQ, per-channel 7-bit weights, uint8 activations) with
    onnxruntime's tools, calibrated on uint8 images (N, 28, 28) by ``method`` (one of
    :data:`CALIBRATION_METHODS`: activation ranges from min/max, entropy or the 99.999th
    percentile)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pixels = contract.pixels(images28)
    batches = [
        pixels[i : i + _CALIBRATION_BATCH] for i in range(0, len(pixels), _CALIBRATION_BATCH)
    ]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = iter([{contract.onnx_input: batch} for batch in batches])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    with tempfile.TemporaryDirectory(prefix="mnist-digits-int8-") as tmp:
        plain, prepared, quantised = (Path(tmp) / f"{n}.onnx" for n in ("fp32", "pre", "int8"))
        onnx.save(fp32, plain)
        quant_pre_process(str(plain), str(prepared))  # shape inference + graph clean-up
        quantize_static(
            str(prepared),
            str(quantised),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=_METHODS[method](CalibrationMethod),
        )
        return onnx.load(str(quantised))


# onnxruntime's enum, looked up lazily: onnxruntime.quantization is imported only for int8.
_METHODS: dict[str, Any] = {
    "minmax": lambda m: m.MinMax,
    "entropy": lambda m: m.Entropy,
    "percentile": lambda m: m.Percentile,
}


def _quantization(calibration: np.ndarray | None, int8: bool) -> dict[str, Any]:
    if not int8:
        return {"scheme": "none (float32)"}
    where = "given images" if calibration is not None else "seeded training images"
    count = CALIBRATION_IMAGES if calibration is None else len(calibration)
    return {
        "scheme": "int8 static QDQ: per-channel int8 weights (7-bit range), uint8 activations",
        "calibration": f"{CALIBRATION_METHOD} over {count} {where}",
        "tool": "onnxruntime.quantization.quantize_static",
    }


def describe(proto: onnx.ModelProto, meta: CheckpointMeta, quantization: dict[str, Any]) -> None:
    """Write the model's self-description into its ONNX metadata (replacing any there)."""
    fields = {
        META_KEY: meta.to_json(),  # what OnnxBackend reads: the checkpoint's own metadata
        "model": meta.model,
        "input": f"{meta.input.onnx_input}: float32 (N, 1, 28, 28), 0..1, white ink on black",
        "normalization": json.dumps({**meta.input.to_dict(), "in_graph": True}),
        "output": f"{OUTPUT_NAME}: float32 (N, 10); softmax(logits / temperature) = probabilities",
        "classes": json.dumps(list(meta.classes)),
        "temperature": json.dumps(meta.extra.get("temperature", 1.0)),
        "reject_threshold": json.dumps(meta.extra.get("reject_threshold")),
        "low_res_threshold": json.dumps(meta.extra.get("low_res_threshold")),
        "version": meta.package_version,
        "exported_by": f"mnist-digits {__version__}, torch {torch.__version__}",
        "recipe": json.dumps(meta.recipe, sort_keys=True),
        "metrics": json.dumps(meta.metrics, sort_keys=True),
        "quantization": json.dumps(quantization),
    }
    del proto.metadata_props[:]
    for key, value in fields.items():
        proto.metadata_props.add(key=key, value=value)
    proto.doc_string = f"mnist-digits {meta.model}: handwritten digit logits from 28x28 pixels"


def _onnx_logits(proto: onnx.ModelProto, contract: InputContract, pixels: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {contract.onnx_input: pixels})[0])


@torch.inference_mode()
def _torch_logits(model: nn.Module, meta: CheckpointMeta, pixels: np.ndarray) -> np.ndarray:
    return PixelsToLogits(model, meta.input).eval()(torch.from_numpy(pixels)).numpy()


def _max_abs_diff(proto: onnx.ModelProto, model: nn.Module, meta: CheckpointMeta) -> float:
    # Random ink over the whole canvas: every weight takes part, not only MNIST's centre.
    rng = np.random.default_rng(0)
    pixels = rng.random((_CHECK_IMAGES, 1, 28, 28), dtype=np.float32)
    onnx_logits = _onnx_logits(proto, meta.input, pixels)
    diff = float(np.abs(onnx_logits - _torch_logits(model, meta, pixels)).max())
    if not diff <= FP32_TOLERANCE:
        raise MnistDigitsError(
            f"the ONNX export differs from PyTorch by {diff:.2e} in logits "
            f"(allowed {FP32_TOLERANCE:.0e}); please report this with the checkpoint"
        )
    return diff


def _agreement(
    proto: onnx.ModelProto, model: nn.Module, meta: CheckpointMeta, images28: np.ndarray
) -> float:
    pixels = meta.input.pixels(images28)
    ours = _onnx_logits(proto, meta.input, pixels).argmax(1)
    return float((ours == _torch_logits(model, meta, pixels).argmax(1)).mean())
