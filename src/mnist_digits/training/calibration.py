"""Honest confidence: a temperature fitted on validation logits, and a reject threshold chosen
on validation digits together with held-out non-digits. Both are stored in the checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from torch import nn

from mnist_digits.core.contract import InputContract
from mnist_digits.core.errors import DataError
from mnist_digits.core.metrics import fit_temperature, softmax
from mnist_digits.models.inference import infer

# Flag at most this share of validation digits: the product target is 2% of test digits, and
# 1.5% leaves room for the difference between validation and test.
TARGET_DIGITS_FLAGGED = 0.015


@dataclass(frozen=True)
class Calibration:
    """Figures stored in a checkpoint's ``extra`` metadata.

    Attributes:
        temperature: divides logits before the softmax; fitted on validation NLL.
        reject_threshold: calibrated confidence below which an input is "not a digit".
        val_digits_flagged: share of validation digits below the threshold.
        val_outliers_caught: share of held-out non-digits below it (NaN without outliers).
        low_res_threshold: the threshold for digits under ``core.verdict.LOW_RES_SIDE`` input
            pixels: flags the same share of validation digits shrunk to 8-20 px, never above
            ``reject_threshold`` (equal to it without such digits).
        val_low_res_flagged: share of those shrunk validation digits below it (NaN without).
    """

    temperature: float
    reject_threshold: float
    val_digits_flagged: float
    val_outliers_caught: float
    low_res_threshold: float
    val_low_res_flagged: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def preprocessed_logits(
    model: nn.Module, images28: np.ndarray, contract: InputContract
) -> np.ndarray:
    """Logits (M, 10) for images (N, 28, 28) already through the user-image preprocessing, as
    ``predict.Predictor`` sees them. Images with no ink (all black) are dropped (M <= N)."""
    kept = images28[images28.reshape(len(images28), -1).max(axis=1) > 0]  # (M, 28, 28)
    return infer(model, kept, contract).cpu().numpy()


def calibrate(
    model: nn.Module,
    val_logits: np.ndarray,
    val_labels: np.ndarray,
    digits28: np.ndarray,
    outliers28: np.ndarray | None,
    contract: InputContract,
    low_res28: np.ndarray | None = None,
) -> Calibration:
    """Fit the temperature on validation logits, then choose the reject threshold.

    Args:
        model: the trained model (eval mode).
        val_logits: logits (N, 10) of the validation digits as they are.
        val_labels: their labels (N,).
        digits28: validation digits (N, 28, 28) uint8, as users' preprocessing leaves them.
        outliers28: non-digits held out of training (M, 28, 28) uint8, preprocessed, or None.
        contract: the model's input contract.
        low_res28: validation digits (K, 28, 28) uint8 shrunk to 8-20 px before the
            preprocessing, or None.
    """
    temperature = fit_temperature(val_logits, val_labels)
    digit_logits = preprocessed_logits(model, digits28, contract)
    if not len(digit_logits):
        raise DataError(
            "no validation digit kept any ink through preprocessing, so no reject threshold "
            "can be chosen; are the training images digits, white on black?"
        )
    conf_digits = softmax(digit_logits, temperature).max(1)
    threshold = float(np.quantile(conf_digits, TARGET_DIGITS_FLAGGED))
    caught = float("nan")
    if outliers28 is not None and len(outliers28):
        logits_out = preprocessed_logits(model, outliers28, contract)
        caught = float((softmax(logits_out, temperature).max(1) < threshold).mean())
    flagged = float((conf_digits < threshold).mean())
    low, low_flagged = _low_res(model, low_res28, contract, temperature, threshold)
    return Calibration(float(temperature), threshold, flagged, caught, low, low_flagged)


def _low_res(
    model: nn.Module,
    low_res28: np.ndarray | None,
    contract: InputContract,
    temperature: float,
    threshold: float,
) -> tuple[float, float]:
    """(threshold, share flagged) for shrunk validation digits: the same share flagged as
    among full-size ones, capped at the main threshold; (threshold, NaN) without them."""
    logits = None if low_res28 is None else preprocessed_logits(model, low_res28, contract)
    if logits is None or not len(logits):
        return threshold, float("nan")
    conf = softmax(logits, temperature).max(1)
    low = min(threshold, float(np.quantile(conf, TARGET_DIGITS_FLAGGED)))
    return low, float((conf < low).mean())
