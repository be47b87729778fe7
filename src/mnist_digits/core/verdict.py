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
# So is a digit whose detail (``images.render.detail``: its size in the pixels it was resolved
# at) is under LOW_DETAIL however large its box: a small scan enlarged, which carries no more
# than the scan. Medians on MNIST validation digits: 38.7 at 28 px (39.0 enlarged to 112 px),
# 26.2 box-reduced to 16 px, 20.9 at 12 px, 14.7 at 8 px (14.5 and 14.9 enlarged to 64 and
# 128 px). 24 was chosen on validation digits 4000-4999 and validation non-digits by a rule
# written first (benchmarks/small_images.py's enlarged views): answered and right over seven
# enlarged views 91.8% -> 94.3% (8 px enlarged to 64 px 85.7 -> 91.7%), no view of ordinary
# size moved by more than 0.1 point, and enlarged non-digits are caught as often as the small
# ones they were made from (generated 92.3% against 90.6%, Fashion-MNIST 96.0% against 96.1%).
LOW_DETAIL = 24.0


def reject_thresholds(extra: Mapping[str, Any]) -> tuple[float, float]:
    """(main, low-resolution) reject thresholds from a checkpoint's ``extra`` metadata; the
    low-resolution one is the main one when absent, and never above it."""
    main = float(extra.get("reject_threshold", DEFAULT_REJECT))
    return main, min(main, float(extra.get("low_res_threshold", main)))


def threshold_for(
    bbox: tuple[int, int, int, int] | None, detail: float, thresholds: tuple[float, float]
) -> float:
    """The threshold a digit is judged by: the low-resolution one when the longer side of its
    ink box ``bbox`` (left, top, right, bottom; input pixels) is under LOW_RES_SIDE or its
    ``detail`` is under LOW_DETAIL, else the main one (also when nothing was found)."""
    main, low = thresholds
    if bbox is None:
        return main
    small = max(bbox[2] - bbox[0], bbox[3] - bbox[1]) < LOW_RES_SIDE
    return low if small or detail < LOW_DETAIL else main
