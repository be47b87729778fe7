"""The reader's judgement of one set of calibrated probabilities: a digit, a digit it is unsure
of, or not a digit. ``predict.Predictor`` answers people with it, and the per-family
evaluation measures with it, so both judge alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

# Without a calibrated threshold in the checkpoint, flag answers below 50% confidence.
DEFAULT_REJECT = 0.5
# When the two best classes hold 90% of the mass, the model is torn between two digits
# ("unsure"); otherwise a rejected input is spread over many classes ("not a digit").
UNSURE_TOP2 = 0.9


def verdict(probs: np.ndarray, threshold: float) -> str:
    """``ok``, ``unsure`` or ``not_a_digit`` for calibrated class probabilities (C,)."""
    if float(probs.max()) >= threshold:
        return "ok"
    return "unsure" if float(np.sort(probs)[-2:].sum()) >= UNSURE_TOP2 else "not_a_digit"


# A digit whose ink box spans fewer input pixels than MNIST's 20 px box (an 8-16 px scan, a
# thumbnail) carries less detail than any training digit, so even a clear one is read with
# less confidence: 15.7% of validation digits saved at 8 px fell below the main threshold.
# Such digits are judged by the checkpoint's low-resolution threshold, chosen on validation
# digits shrunk to 8-20 px (training.calibration).
LOW_RES_SIDE = 20


def reject_thresholds(extra: Mapping[str, Any]) -> tuple[float, float]:
    """(main, low-resolution) reject thresholds from a checkpoint's ``extra`` metadata; the
    low-resolution one is the main one when absent, and never above it."""
    main = float(extra.get("reject_threshold", DEFAULT_REJECT))
    return main, min(main, float(extra.get("low_res_threshold", main)))


def threshold_for(bbox: tuple[int, int, int, int] | None, thresholds: tuple[float, float]) -> float:
    """The threshold a digit whose ink box is ``bbox`` (left, top, right, bottom; input
    pixels) is judged by: the low-resolution one when its longer side is under LOW_RES_SIDE."""
    main, low = thresholds
    if bbox is None or max(bbox[2] - bbox[0], bbox[3] - bbox[1]) >= LOW_RES_SIDE:
        return main
    return low
