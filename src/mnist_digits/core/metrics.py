"""Evaluation metrics on plain numpy arrays.

Everything here takes numpy arrays (logits of shape ``(N, C)``, integer labels of shape
``(N,)``) and returns Python floats, lists or numpy arrays, so the evaluation code can call it
on the outputs of any model without importing torch. Classification metrics are checked
against scikit-learn in the tests; calibration follows Guo et al. 2017 ("On Calibration of
Modern Neural Networks"); out-of-distribution scores follow Hendrycks & Gimpel 2017 (maximum
softmax probability) and Liu et al. 2020 (energy).

Misuse by calling code (wrong shapes, labels out of range, an empty set) raises ``ValueError``:
these are programming errors, not something a user of the CLI can cause.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

# Temperature search range for fit_temperature: T below 0.05 or above 20 means the logits are
# nearly one-hot or nearly uniform, and a value at the edge is then as good as any.
_LOG_T_BOUNDS = (float(np.log(0.05)), float(np.log(20.0)))


def _as_logits(logits: np.ndarray) -> np.ndarray:
    """Return ``logits`` as a float64 array of shape (N, C), N >= 1 and C >= 2."""
    arr = np.asarray(logits, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise ValueError(f"expected scores of shape (N, C) with N >= 1, C >= 2, got {arr.shape}")
    return arr


def _as_labels(labels: np.ndarray, n: int, num_classes: int | None = None) -> np.ndarray:
    """Return ``labels`` as an int64 array of shape (n,), checked against ``num_classes``."""
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise ValueError(f"expected labels of shape ({n},), got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if num_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {arr.min()}..{arr.max()}")
    return arr


def _logsumexp(x: np.ndarray) -> np.ndarray:
    """Row-wise log(sum(exp(x))) for x of shape (N, C) without overflow; returns (N,).

    Written as max + log1p(sum of the other terms) so a tiny remainder such as 1e-50 is kept
    rather than rounded away in 1 + 1e-50; fit_temperature needs that slope near T -> 0.
    """
    top = x.argmax(axis=1)  # (N,)
    m = x[np.arange(x.shape[0]), top]  # (N,)
    e = np.exp(x - m[:, None])  # (N, C), all <= 1 so nothing overflows
    e[np.arange(x.shape[0]), top] = 0.0  # drop the max's own exp(0) = 1; log1p adds it back
    return m + np.log1p(e.sum(axis=1))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Turn logits into class probabilities.

    Args:
        logits: Scores of shape (N, C).
        temperature: Divides the logits first; T > 1 softens, T < 1 sharpens.

    Returns:
        Probabilities of shape (N, C), float64, each row summing to 1. Stable for any finite
        logits (1e300 included) because the row maximum is subtracted before ``exp``.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = _as_logits(logits) / temperature  # (N, C)
    e = np.exp(z - z.max(axis=1, keepdims=True))  # (N, C), largest entry of each row is 1
    return e / e.sum(axis=1, keepdims=True)


def _predictions(logits_or_pred: np.ndarray) -> np.ndarray:
    """Predicted classes (N,) from scores (N, C) by argmax, or from labels (N,) as given."""
    arr = np.asarray(logits_or_pred)
    if arr.ndim == 2:
        return _as_logits(arr).argmax(axis=1)
    if arr.ndim != 1:
        raise ValueError(f"expected predictions of shape (N,) or scores (N, C), got {arr.shape}")
    return _as_labels(arr, arr.shape[0])


def accuracy(logits_or_pred: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of correct predictions.

    Args:
        logits_or_pred: Scores of shape (N, C) (argmax is taken; ties go to the lower class)
            or predicted classes of shape (N,).
        labels: True classes of shape (N,).

    Returns:
        Accuracy in [0, 1].
    """
    pred = _predictions(logits_or_pred)
    y = _as_labels(labels, pred.shape[0])
    if y.size == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.mean(pred == y))


def top_k_accuracy(logits: np.ndarray, labels: np.ndarray, k: int = 2) -> float:
    """Fraction of samples whose true class is among the k highest scores.

    Ties are broken towards the lower class index, as ``argmax`` does, so k=1 equals
    ``accuracy``.

    Args:
        logits: Scores of shape (N, C).
        labels: True classes of shape (N,).
        k: How many top classes count as a hit, 1 <= k <= C.

    Returns:
        Top-k accuracy in [0, 1].
    """
    z = _as_logits(logits)
    n, c = z.shape
    if not 1 <= k <= c:
        raise ValueError(f"k must lie in [1, {c}], got {k}")
    y = _as_labels(labels, n, c)
    true_score = z[np.arange(n), y][:, None]  # (N, 1)
    lower_index = np.arange(c)[None, :] < y[:, None]  # (N, C): classes that win a tie
    rank = (z > true_score).sum(axis=1) + ((z == true_score) & lower_index).sum(axis=1)  # (N,)
    return float(np.mean(rank < k))


def _margins(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Scores relative to the true class, z - z[y], shape (N, C); the true class gets 0.

    logsumexp of these is the per-sample NLL with no cancellation: for a right prediction the
    maximum is exactly 0, so the loss is log1p(small) to full precision.
    """
    return z - z[np.arange(z.shape[0]), y][:, None]


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean cross-entropy (negative log-likelihood, natural log) of the true classes.

    Computed as logsumexp(z - z[y]) on z = logits / T, so huge logits neither overflow nor give
    log(0), and a confident right answer keeps its tiny loss (1e-50, not 0.0).

    Args:
        logits: Scores of shape (N, C).
        labels: True classes of shape (N,).
        temperature: Divides the logits first, as in ``softmax``.

    Returns:
        Mean NLL in nats, >= 0.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = _as_logits(logits) / temperature  # (N, C)
    y = _as_labels(labels, z.shape[0], z.shape[1])
    return float(np.mean(_logsumexp(_margins(z, y))))


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Count (true class, predicted class) pairs.

    Args:
        pred: Predicted classes of shape (N,), or scores of shape (N, C) (argmax is taken).
        labels: True classes of shape (N,).
        num_classes: C; both pred and labels must lie in [0, C).

    Returns:
        int64 array of shape (C, C); entry [i, j] counts samples of true class i predicted j.
    """
    p = _predictions(pred)
    p = _as_labels(p, p.shape[0], num_classes)
    y = _as_labels(labels, p.shape[0], num_classes)
    counts = np.bincount(y * num_classes + p, minlength=num_classes * num_classes)  # (C*C,)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den elementwise, 0.0 where den is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def per_class_report(
    pred: np.ndarray, labels: np.ndarray, num_classes: int = 10
) -> dict[str, list[float] | list[int]]:
    """Precision, recall, F1 and support for each class.

    A class never predicted gets precision 0.0, a class never present gets recall 0.0, and F1
    is 2*TP / (2*TP + FP + FN), 0.0 when that is 0/0 (scikit-learn with zero_division=0).

    Args:
        pred: Predicted classes of shape (N,), or scores of shape (N, C).
        labels: True classes of shape (N,).
        num_classes: C.

    Returns:
        Dict with keys ``precision``, ``recall``, ``f1`` (lists of C floats) and ``support``
        (list of C ints: how many samples of each true class).
    """
    cm = confusion_matrix(pred, labels, num_classes)  # (C, C)
    tp = np.diag(cm).astype(np.float64)  # (C,)
    predicted = cm.sum(axis=0).astype(np.float64)  # (C,) column sums = TP + FP
    support = cm.sum(axis=1)  # (C,) row sums = TP + FN
    return {
        "precision": _safe_divide(tp, predicted).tolist(),
        "recall": _safe_divide(tp, support.astype(np.float64)).tolist(),
        "f1": _safe_divide(2 * tp, predicted + support).tolist(),
        "support": [int(s) for s in support],
    }


def _binned(probs: np.ndarray, labels: np.ndarray, n_bins: int) -> tuple[np.ndarray, ...]:
    """Per-bin sums for calibration: (count, confidence sum, correct sum), each (n_bins,).

    Bin b holds samples whose confidence (max probability) lies in (b/n, (b+1)/n]; bin 0 also
    takes confidence 0. Edges come from ``np.linspace`` as in Guo et al.'s reference code, so a
    confidence of exactly 0.6 with 5 bins lands in the bin (0.4, 0.6].
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    p = _as_logits(probs)
    y = _as_labels(labels, p.shape[0], p.shape[1])
    conf = p.max(axis=1)  # (N,)
    correct = (p.argmax(axis=1) == y).astype(np.float64)  # (N,)
    inner_edges = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]  # (n_bins - 1,)
    bins = np.searchsorted(inner_edges, conf, side="left")  # (N,) in [0, n_bins)
    count = np.bincount(bins, minlength=n_bins).astype(np.float64)
    conf_sum = np.bincount(bins, weights=conf, minlength=n_bins)
    correct_sum = np.bincount(bins, weights=correct, minlength=n_bins)
    return count, conf_sum, correct_sum


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error with equal-width confidence bins.

    ECE = sum over bins of (bin count / N) * |accuracy in bin - mean confidence in bin|, where
    confidence is the maximum probability and the prediction its argmax.

    Args:
        probs: Probabilities of shape (N, C) (e.g. from ``softmax``).
        labels: True classes of shape (N,).
        n_bins: Number of equal-width bins on [0, 1]; 15 as in Guo et al. 2017.

    Returns:
        ECE in [0, 1].
    """
    count, conf_sum, correct_sum = _binned(probs, labels, n_bins)
    # |sum(correct) - sum(conf)| / N per bin equals (count / N) * |acc - conf|.
    return float(np.abs(correct_sum - conf_sum).sum() / count.sum())


def reliability_bins(
    probs: np.ndarray, labels: np.ndarray, n_bins: int = 15
) -> dict[str, list[float] | list[int]]:
    """Per-bin numbers for a reliability diagram, binned as in ``expected_calibration_error``.

    Args:
        probs: Probabilities of shape (N, C).
        labels: True classes of shape (N,).
        n_bins: Number of equal-width bins on [0, 1].

    Returns:
        Dict of lists of length n_bins: ``lower`` and ``upper`` (bin edges), ``confidence``
        (mean max probability), ``accuracy`` (fraction correct) and ``count`` (ints). Empty
        bins have count 0 and confidence and accuracy 0.0 (not NaN, so the dict stays valid
        JSON); plot only bins with count > 0.
    """
    count, conf_sum, correct_sum = _binned(probs, labels, n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)  # (n_bins + 1,)
    return {
        "lower": edges[:-1].tolist(),
        "upper": edges[1:].tolist(),
        "confidence": _safe_divide(conf_sum, count).tolist(),
        "accuracy": _safe_divide(correct_sum, count).tolist(),
        "count": [int(c) for c in count],
    }


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Find the temperature T > 0 that minimises the NLL of ``softmax(logits / T)``.

    Fit this on held-out (validation) logits, never on the test set. The search is bounded
    Brent minimisation over log T in [log 0.05, log 20]: the log makes halving and doubling T
    equally far apart, and the NLL is smooth and in practice unimodal in log T.

    Args:
        logits: Scores of shape (N, C).
        labels: True classes of shape (N,).

    Returns:
        The fitted temperature. It lies in [0.05, 20]; an edge value means the data wants a
        more extreme T (e.g. perfectly separated logits keep improving as T -> 0).
    """
    z = _as_logits(logits)
    y = _as_labels(labels, z.shape[0], z.shape[1])
    margins = _margins(z, y)  # (N, C); NLL at T is mean(logsumexp(margins / T))

    def objective(log_t: float) -> float:
        t = float(np.exp(log_t))
        return float(np.mean(_logsumexp(margins / t)))

    # xatol 1e-4 on log T is a relative error of 0.01% in T, far below what matters.
    result = minimize_scalar(
        objective, bounds=_LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-4}
    )
    return float(np.exp(result.x))


def auroc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> float:
    """Area under the ROC curve for separating positives from negatives by score.

    Uses the Mann-Whitney form: the probability that a random positive scores higher than a
    random negative, ties counting one half. For OOD detection, positives are the
    in-distribution samples and scores are "higher = more in-distribution".

    Args:
        scores_pos: Scores of the positive samples, shape (P,).
        scores_neg: Scores of the negative samples, shape (Q,).

    Returns:
        AUROC in [0, 1]; 0.5 is chance.
    """
    pos = np.asarray(scores_pos, dtype=np.float64).ravel()  # (P,)
    neg = np.sort(np.asarray(scores_neg, dtype=np.float64).ravel())  # (Q,) ascending
    if pos.size == 0 or neg.size == 0:
        raise ValueError("auroc needs at least one positive and one negative score")
    below = np.searchsorted(neg, pos, side="left")  # (P,) negatives strictly below each pos
    not_above = np.searchsorted(neg, pos, side="right")  # (P,) negatives <= each pos
    wins = below.sum() + 0.5 * (not_above - below).sum()
    return float(wins / (pos.size * neg.size))


def max_softmax_score(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Maximum softmax probability per sample (higher = more in-distribution).

    Args:
        logits: Scores of shape (N, C).
        temperature: Softmax temperature.

    Returns:
        float64 array of shape (N,), values in [1/C, 1].
    """
    return softmax(logits, temperature).max(axis=1)


def energy_score(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Negative free energy T * logsumexp(logits / T) per sample (higher = more in-distribution).

    Args:
        logits: Scores of shape (N, C).
        temperature: Energy temperature; 1.0 as in Liu et al. 2020.

    Returns:
        float64 array of shape (N,).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return temperature * _logsumexp(_as_logits(logits) / temperature)
