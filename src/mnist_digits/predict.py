"""Reading digits from people's images: ``Predictor`` turns any image into an honest answer.

Every input goes through ``images.render.to_mnist`` (the one preprocessing path),
is normalised by the model's own input contract, and is scored with the model's own calibration:
probabilities use its fitted temperature, and ``is_digit`` is false when the calibrated
confidence falls below its reject threshold (chosen on validation data).

The model runs on a :class:`Backend`: :class:`TorchBackend` for ``.safetensors`` checkpoints
(needs ``mnist-digits[train]``) or :class:`OnnxBackend` for exported ``.onnx`` models
(onnxruntime only). This module imports neither PyTorch nor onnxruntime until one is used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mnist_digits.core.card import META_KEY, CheckpointMeta
from mnist_digits.core.errors import CheckpointError, ImageError
from mnist_digits.core.limits import MAX_PIXELS
from mnist_digits.core.metrics import softmax
from mnist_digits.core.verdict import reject_thresholds, threshold_for, verdict
from mnist_digits.images.decode import ImageSource
from mnist_digits.images.ink import Ink, Piece
from mnist_digits.images.numbers import MAX_DIGITS, number_groups, split_group
from mnist_digits.images.render import Preprocessed, render_piece, to_mnist
from mnist_digits.images.segments import (
    JoinRule,
    Segment,
    SegmentPrior,
    best_segmentation,
    candidate_cuts,
    join_candidates,
    may_hold_two,
    prior_for_group,
    segment_candidates,
    segment_score,
)

SHIPPED = Path(__file__).parent / "weights" / "cnn-small.safetensors"
# The same weights exported by ``make shipped-onnx``, for installs without PyTorch.
SHIPPED_ONNX = SHIPPED.with_suffix(".onnx")
# predict_number keeps a group as split_digits reads it when it is one digit read with >= 99 %
# confidence and at most 0.6x as wide as tall; otherwise the model chooses its cuts. Chosen on
# seeds 0-119 of benchmarks/numbers_bench.py: touching/mixed exactly right 60.8/81.7 % at 99 %,
# 60.8/78.3 % at 90 %; mixed 82.5 % at width 0.9, 83.3 % at 0.75, 84.2 % at 0.6 and at 0 (apart
# stays 100 %). README "Reading people's images" has the report seeds' figures.
_KEEP_CONFIDENCE = 0.99
_KEEP_WIDTH = 0.6


@dataclass(frozen=True)
class Prediction:
    """The answer for one image.

    Attributes:
        digit: the predicted digit, or None when there is no digit (empty or not a digit).
        confidence: calibrated probability of the best class (0 when no ink was found).
        probabilities: 10 calibrated class probabilities (all 0 when no ink was found).
        is_digit: False when no ink was found, the input is not a digit, or the model is unsure.
        status: ``ok``, ``no_digit`` (nothing drawn), ``not_a_digit`` or ``unsure``.
        input28: the 28×28 uint8 image the model saw (white ink on black).
        ink_fraction: share of the input's pixels that are ink.
        bbox: the ink's (left, top, right, bottom) in input pixels, or None.
    """

    digit: int | None
    confidence: float
    probabilities: list[float]
    is_digit: bool
    status: str
    input28: np.ndarray = field(repr=False)
    ink_fraction: float = 0.0
    bbox: tuple[int, int, int, int] | None = None

    def top_k(self, k: int) -> list[dict[str, float]]:
        """The k most likely digits with their probabilities."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [{"digit": int(d), "probability": self.probabilities[d]} for d in order]

    def to_dict(self, *, input28: bool = True) -> dict[str, Any]:
        """JSON-ready fields, with ``input28`` as 28 lists of 28 ints unless ``input28`` is
        False (the CLI prints no grid, so it does not build one for each image of a folder)."""
        out = {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": self.probabilities,
            "is_digit": self.is_digit,
            "status": self.status,
        }
        if input28:
            out["input28"] = self.input28.astype(int).tolist()
        return out


@dataclass(frozen=True)
class NumberPrediction:
    """A multi-digit number read left to right; ``digits`` uses "?" for unreadable pieces."""

    digits: str
    per_digit: list[Prediction]

    @property
    def confidence(self) -> float:
        """Probability that every digit is right (the product of the per-digit ones)."""
        return float(np.prod([p.confidence for p in self.per_digit])) if self.per_digit else 0.0


class Backend(Protocol):
    """Runs a model: MNIST-style uint8 images (N, 28, 28) in, logits (N, 10) out."""

    meta: CheckpointMeta

    def logits28(self, images28: np.ndarray) -> np.ndarray:
        """Logits (N, 10) float32 for uint8 images (N, 28, 28), white ink on black."""
        ...


class TorchBackend:
    """A PyTorch model in eval mode; :meth:`load` reads a ``.safetensors`` or run folder."""

    def __init__(self, model: Any, meta: CheckpointMeta, device: str = "cpu") -> None:
        """Wrap a model already in memory (an ``nn.Module``, e.g. one just trained)."""
        import torch

        self.model = model.to(device).eval()
        self.meta = meta
        self.device = torch.device(device)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "cpu") -> TorchBackend:
        """Load a run folder's best checkpoint or a ``.safetensors`` file."""
        try:
            from mnist_digits.models.checkpoint import load_checkpoint
        except ModuleNotFoundError as err:
            if (err.name or "").split(".")[0] not in ("torch", "safetensors"):
                raise
            raise CheckpointError(
                f"{path}: a .safetensors checkpoint needs PyTorch; install mnist-digits[train] "
                "or give an exported .onnx model"
            ) from None
        return cls(*load_checkpoint(path, device=device), device)

    def logits28(self, images28: np.ndarray) -> np.ndarray:
        from mnist_digits.models.inference import infer

        return infer(self.model, images28, self.meta.input).cpu().numpy()  # (N, 10)


class OnnxBackend:
    """An exported ``.onnx`` model on onnxruntime (see :mod:`mnist_digits.export`).

    The graph normalises its 0..1 input itself; everything else (classes, temperature,
    reject threshold) comes from the model's own metadata.
    """

    def __init__(self, path: str | os.PathLike[str], device: str = "cpu", threads: int = 0) -> None:
        """Open ``path``; ``threads`` = 0 lets onnxruntime use one thread per physical core."""
        file = Path(path).expanduser()
        if not file.is_file():
            raise CheckpointError(f"{path} does not exist; give an exported .onnx model")
        self.session = _onnx_session(file, device, threads)
        text = self.session.get_modelmeta().custom_metadata_map.get(META_KEY)
        if text is None:
            raise CheckpointError(
                f"{file}: has no mnist-digits metadata; export it with `mnist-digits export`"
            )
        self.meta = CheckpointMeta.from_json(text, where=str(file))
        graph_input = self.session.get_inputs()[0]
        self.input_name = self.meta.input.onnx_input
        if graph_input.name != self.input_name or list(graph_input.shape[1:]) != [1, 28, 28]:
            raise CheckpointError(
                f"{file}: its input is {graph_input.name} {graph_input.shape}, not the "
                f"contract's {self.input_name} (N, 1, 28, 28); export it with mnist-digits"
            )

    def logits28(self, images28: np.ndarray) -> np.ndarray:
        pixels = self.meta.input.pixels(images28)  # (N, 1, 28, 28) in 0..1
        return np.asarray(self.session.run(None, {self.input_name: pixels})[0], np.float32)


def _onnx_session(file: Path, device: str, threads: int) -> Any:
    try:
        import onnxruntime as ort
    except ModuleNotFoundError:
        raise CheckpointError(f"{file}: running .onnx models needs onnxruntime") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: no warnings about unused initialisers
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        providers.insert(0, "CUDAExecutionProvider")
    try:
        return ort.InferenceSession(str(file), options, providers=providers)
    except Exception as err:  # onnxruntime raises its own classes (InvalidProtobuf, Fail, ...)
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise CheckpointError(f"{file}: not a readable ONNX model ({first})") from None


def torch_available() -> bool:
    """Whether PyTorch and safetensors can be imported (without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "safetensors"))


def shipped_model() -> Path:
    """The shipped ``.safetensors`` where PyTorch is installed, else the shipped ``.onnx``."""
    if SHIPPED.is_file() and torch_available():
        return SHIPPED
    if SHIPPED_ONNX.is_file():
        return SHIPPED_ONNX
    if SHIPPED.is_file():
        raise CheckpointError(
            f"the shipped model in {SHIPPED.parent} is only a .safetensors, which needs PyTorch; "
            "install mnist-digits[train] or give an .onnx model with --checkpoint"
        )
    raise CheckpointError(
        f"no shipped model in {SHIPPED.parent}; give one with --checkpoint RUN_DIR|FILE"
    )


def load_backend(
    path: str | os.PathLike[str] | None = None, device: str = "cpu", threads: int = 0
) -> Backend:
    """A ``.onnx`` file runs on onnxruntime; a run folder or other file on PyTorch.

    ``threads`` > 0 caps the runtime's CPU threads (onnxruntime's session, or PyTorch's
    process-wide setting); 0 leaves each runtime's default.
    """
    target = shipped_model() if path is None else Path(path)
    if target.suffix.lower() == ".onnx":
        return OnnxBackend(target, device, threads)
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    return TorchBackend.load(target, device)


class Predictor:
    """A trained model plus its preprocessing and calibration, ready for people's images."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.meta = backend.meta
        self.temperature = float(self.meta.extra.get("temperature", 1.0))
        self.reject_threshold, self.low_res_threshold = reject_thresholds(self.meta.extra)
        # Which weights answer: the model's name and 12 hex digits of the SHA-256 of their
        # self-description (recipe, metrics, calibration, creation time), computed once here
        # rather than per request; it is what every stored sample and GET /api/model name.
        digest = hashlib.sha256(self.meta.to_json().encode()).hexdigest()[:12]
        self.fingerprint = f"{self.meta.model}-{digest}"

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike[str] | None = None, device: str = "cpu", threads: int = 0
    ) -> Predictor:
        """Load a run folder, a ``.safetensors`` or an ``.onnx`` file (chosen by suffix).

        None means the model shipped in the package: its ``.safetensors`` when PyTorch is
        installed, else the same weights exported to ``.onnx``. ``threads`` > 0 caps the
        runtime's CPU threads (a server gives each worker process one).
        """
        return cls(load_backend(path, device, threads))

    def probabilities28(self, images28: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (N, 10) for MNIST-style uint8 images (N, 28, 28)."""
        logits = self.backend.logits28(images28)  # (N, 10)
        if not len(logits):
            return np.zeros((0, 10), dtype=np.float32)
        return softmax(logits, self.temperature).astype(np.float32)

    def predict_proba(self, images: ImageSource | Sequence[ImageSource]) -> np.ndarray:
        """Calibrated probabilities (N, 10); rows of an image with no ink are all zero."""
        return np.array([p.probabilities for p in self.predict(images)], dtype=np.float32)

    def predict(
        self, images: ImageSource | Sequence[ImageSource], *, max_pixels: int = MAX_PIXELS
    ) -> list[Prediction]:
        """Read one digit from each image (a single image or a sequence of them).

        ``max_pixels`` caps the pixels decoded per image (see ``images.decode.load_image``).
        """
        items = _as_list(images)
        return self.predict_preprocessed([to_mnist(i, max_pixels=max_pixels) for i in items])

    def predict_pixels(self, pixels: np.ndarray) -> Prediction:
        """Read a 28×28 array of 0..255 values, white ink on black (as MNIST)."""
        return self.predict(np.asarray(pixels, dtype=np.uint8))[0]

    def preprocess(self, image: ImageSource, *, max_pixels: int = MAX_PIXELS) -> Preprocessed:
        """The 28×28 input this predictor would read from ``image`` (see ``predict``)."""
        return to_mnist(image, max_pixels=max_pixels)

    def predict_number(
        self, image: ImageSource, *, max_pixels: int = MAX_PIXELS
    ) -> NumberPrediction:
        """Split a multi-digit number into digits and read them left to right.

        Each ink group is first cut as ``images.numbers.split_digits`` cuts it. A group read
        as one confident, not-wide digit stays so; in the others (touching digits) the model
        chooses the cuts: every stretch between two candidate cuts is scored in one batch and
        ``images.segments.best_segmentation`` picks the chain the model believes most.

        Raises:
            ImageError: When the input cannot be read, or it holds more than ``MAX_DIGITS``.
        """
        ink, groups, typical = number_groups(image, max_pixels=max_pixels)
        simple = [[render_piece(ink, p) for p in split_group(g, typical)] for g in groups]
        read = self.predict_preprocessed([item for items in simple for item in items])
        keep, at = [], 0
        for group, items in zip(groups, simple, strict=True):
            keep.append(_confident(group, read[at : at + len(items)]))
            at += len(items)
        cut = [g for g, k in zip(groups, keep, strict=True) if not k]
        chosen = self._segment(cut, ink, typical)
        per_group: list[list[Prediction]] = []
        at = 0
        for items, kept in zip(simple, keep, strict=True):
            # A group no chain covers (all slivers) keeps split_digits' reading.
            per_group.append((None if kept else chosen.pop(0)) or read[at : at + len(items)])
            at += len(items)
        pieces = [p for reads in self._join_broken(groups, per_group, ink) for p in reads]
        if len(pieces) > MAX_DIGITS:
            raise ImageError(
                f"the image reads as {len(pieces)} digits, more than the {MAX_DIGITS} a number "
                "may have; send one number per image"
            )
        text = "".join(str(p.digit) if p.digit is not None else "?" for p in pieces)
        return NumberPrediction(text, pieces)

    def _join_broken(
        self, groups: list[Piece], reads: list[list[Prediction]], ink: Ink
    ) -> list[list[Prediction]]:
        """Neighbouring groups read as one digit where the model believes that more."""
        single = [len(r) == 1 for r in reads]
        runs = [c for c in join_candidates(groups, _JOIN) if all(single[c[0] : c[1]])]
        if not runs:
            return reads
        joined = self.predict_preprocessed([render_piece(ink, piece) for *_, piece in runs])
        scores = {(i, i + 1): sum(_log_sure(p) for p in r) for i, r in enumerate(reads)}
        for (i, j, _), p in zip(runs, joined, strict=True):
            scores[(i, j)] = _log_sure(p)
        by_span = {(i, j): [p] for (i, j, _), p in zip(runs, joined, strict=True)}
        chain = best_segmentation(len(groups) + 1, scores)
        return [reads[i] if j == i + 1 else by_span[(i, j)] for i, j in chain]

    def _segment(self, groups: list[Piece], ink: Ink, typical: float) -> list[list[Prediction]]:
        """Read each group as the chain of its candidate segments the model believes most."""
        plans = []
        for box, own in groups:
            height, width = own.shape
            bounds = [0, *candidate_cuts(own, even=may_hold_two(own)), width]
            prior = prior_for_group(_PRIOR, typical, height)
            plans.append((len(bounds), prior, segment_candidates(ink, (box, own), bounds)))
        flat: list[Segment] = [s for _, _, segments in plans for s in segments]
        if not flat:  # no group to cut: never run the model on an empty batch
            return [[] for _ in plans]
        probs = self.probabilities28(np.stack([s.image.image28 for s in flat]))
        out, at = [], 0
        for count, prior, segments in plans:
            rows = probs[at : at + len(segments)]
            at += len(segments)
            by_span = {(s.start, s.stop): (s, p) for s, p in zip(segments, rows, strict=True)}
            scores = {span: segment_score(p, s, prior) for span, (s, p) in by_span.items()}
            chain = best_segmentation(count, scores)
            out.append([self._decide(by_span[c][0].image, by_span[c][1]) for c in chain])
        return out

    def predict_preprocessed(self, items: Sequence[Preprocessed]) -> list[Prediction]:
        """Score already-preprocessed inputs in one batch."""
        found = [i for i, item in enumerate(items) if item.found]
        probs = np.zeros((len(items), 10), dtype=np.float32)
        if found:
            probs[found] = self.probabilities28(np.stack([items[i].image28 for i in found]))
        return [self._decide(item, p) for item, p in zip(items, probs, strict=True)]

    def _decide(self, item: Preprocessed, probs: np.ndarray) -> Prediction:
        if not item.found:
            return Prediction(
                None, 0.0, [0.0] * 10, False, "no_digit", item.image28, item.ink_fraction, item.bbox
            )
        best = int(probs.argmax())
        confidence = float(probs[best])
        thresholds = (self.reject_threshold, self.low_res_threshold)
        status = verdict(probs, threshold_for(item.bbox, item.detail, thresholds))
        digit = None if status == "not_a_digit" else best
        return Prediction(
            digit,
            confidence,
            [float(v) for v in probs],
            status == "ok",
            status,
            item.image28,
            item.ink_fraction,
            item.bbox,
        )


_PRIOR = SegmentPrior()
_JOIN = JoinRule()


def _log_sure(read: Prediction) -> float:
    """Log of the model's top probability; a piece read as not a digit counts as a miss."""
    return math.log(max(read.confidence, 1e-9)) if read.digit is not None else math.log(1e-3)


def _confident(group: Piece, read: list[Prediction]) -> bool:
    """True when a group reads as one sure digit and is not wide enough to be two."""
    (top, left, bottom, right), _ = group
    one = len(read) == 1 and read[0].is_digit and read[0].confidence >= _KEEP_CONFIDENCE
    return one and right - left <= _KEEP_WIDTH * (bottom - top)


def _as_list(images: ImageSource | Sequence[ImageSource]) -> list[ImageSource]:
    # A str, bytes or array is one image; only lists and tuples hold several.
    if isinstance(images, list | tuple):
        return list(images)
    return [images]  # type: ignore[list-item]
