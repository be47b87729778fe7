"""The reader's judgement of one set of calibrated probabilities: a digit, a digit it is unsure
of, or not a digit. ``predict.Predictor`` answers people with it, and the per-family
evaluation measures with it, so both judge alike."""

from __future__ import annotations

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
