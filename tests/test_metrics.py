"""Tests for mnist_digits.core.metrics: checked against scikit-learn and hand-computed examples."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn import metrics as skm

from mnist_digits.core import metrics as m

C = 10


def random_logits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits with no signal: labels unrelated to scores (accuracy near 10%)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, C)), rng.integers(0, C, size=n)


def realistic_logits(n: int, seed: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a decent, calibrated classifier: labels are drawn from softmax(logits).

    Multiplying by ``scale`` makes the same classifier over- (scale > 1) or under-confident.
    """
    rng = np.random.default_rng(seed)
    centre = rng.integers(0, C, size=n)  # (n,) class the "model" leans to
    logits = rng.normal(size=(n, C)) + 4.0 * np.eye(C)[centre]  # (n, C)
    probs = m.softmax(logits)
    cum = probs.cumsum(axis=1)  # (n, C)
    labels = np.minimum((rng.random((n, 1)) > cum).sum(axis=1), C - 1)  # sample each row
    return logits * scale, labels


CASES = [random_logits(500, 0), realistic_logits(2000, 1), realistic_logits(37, 2)]


def test_metrics_module_does_not_import_torch() -> None:
    code = "import sys, mnist_digits.core.metrics; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_softmax_rows_sum_to_one_and_match_naive_formula() -> None:
    logits, _ = realistic_logits(100, 3)
    p = m.softmax(logits)
    naive = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, naive, rtol=1e-12)
    np.testing.assert_allclose(m.softmax(logits, temperature=2.0), m.softmax(logits / 2.0))


def test_softmax_is_stable_for_huge_logits() -> None:
    logits = np.array([[1e300, 0.0, -1e300], [1000.0, 1000.0, -1000.0], [-1e4, -1e4, -1e4]])
    p = m.softmax(logits)
    assert np.all(np.isfinite(p))
    expected = np.array([[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(p, expected, atol=1e-12)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_accuracy_matches_sklearn_from_logits_and_predictions(case: int) -> None:
    logits, labels = CASES[case]
    expected = skm.accuracy_score(labels, logits.argmax(axis=1))
    assert m.accuracy(logits, labels) == pytest.approx(expected)
    assert m.accuracy(logits.argmax(axis=1), labels) == pytest.approx(expected)


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_accuracy_matches_sklearn(case: int, k: int) -> None:
    logits, labels = CASES[case]
    expected = skm.top_k_accuracy_score(labels, logits, k=k, labels=np.arange(C))
    assert m.top_k_accuracy(logits, labels, k=k) == pytest.approx(expected)


def test_top_k_accuracy_breaks_ties_like_argmax() -> None:
    logits = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [2.0, 2.0, 2.0]])
    labels = np.array([0, 1, 2])
    assert m.top_k_accuracy(logits, labels, k=1) == pytest.approx(m.accuracy(logits, labels))
    assert m.top_k_accuracy(logits, labels, k=2) == pytest.approx(2 / 3)
    assert m.top_k_accuracy(logits, labels, k=3) == 1.0


@pytest.mark.parametrize("case", range(len(CASES)))
def test_nll_matches_sklearn_log_loss(case: int) -> None:
    logits, labels = CASES[case]
    expected = skm.log_loss(labels, m.softmax(logits), labels=np.arange(C))
    assert m.nll(logits, labels) == pytest.approx(expected, rel=1e-9)
    expected_t = skm.log_loss(labels, m.softmax(logits / 3.0), labels=np.arange(C))
    assert m.nll(logits, labels, temperature=3.0) == pytest.approx(expected_t, rel=1e-9)


def test_nll_is_exact_for_huge_logits() -> None:
    # A confident mistake by 1000 costs exactly 1000 nats; naive log(softmax) gives inf.
    assert m.nll(np.array([[1000.0, 0.0]]), np.array([1])) == pytest.approx(1000.0)
    assert m.nll(np.array([[1e4, 1e4]]), np.array([0])) == pytest.approx(np.log(2))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_confusion_matrix_matches_sklearn(case: int) -> None:
    logits, labels = CASES[case]
    pred = logits.argmax(axis=1)
    cm = m.confusion_matrix(pred, labels)
    assert cm.dtype == np.int64 and cm.shape == (C, C)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(labels, pred, labels=np.arange(C)))


def test_confusion_matrix_rows_are_true_classes() -> None:
    cm = m.confusion_matrix(np.array([1, 1, 2]), np.array([0, 1, 2]), num_classes=3)
    np.testing.assert_array_equal(cm, [[0, 1, 0], [0, 1, 0], [0, 0, 1]])


@pytest.mark.parametrize("case", range(len(CASES)))
def test_per_class_report_matches_sklearn(case: int) -> None:
    logits, labels = CASES[case]
    pred = logits.argmax(axis=1)
    pred[pred == 3] = 4  # class 3 is never predicted: precision must be 0.0, not NaN
    labels = np.where(labels == 7, 8, labels)  # class 7 never occurs: recall must be 0.0
    report = m.per_class_report(pred, labels)
    p, r, f, s = skm.precision_recall_fscore_support(
        labels, pred, labels=np.arange(C), zero_division=0
    )
    np.testing.assert_allclose(report["precision"], p)
    np.testing.assert_allclose(report["recall"], r)
    np.testing.assert_allclose(report["f1"], f)
    assert report["support"] == s.tolist()
    assert report["precision"][3] == 0.0 and report["recall"][7] == 0.0


def test_ece_on_hand_computed_example() -> None:
    # 5 bins of width 0.2. Confidences 0.9, 0.9 (one right) -> bin 4: |0.5 - 0.9| * 2/4.
    # Confidences 0.55, 0.6 (both right) -> bin 2 (0.4, 0.6]: |1 - 0.575| * 2/4.
    probs = np.array([[0.9, 0.1], [0.1, 0.9], [0.55, 0.45], [0.4, 0.6]])
    labels = np.array([0, 0, 0, 1])
    expected = 0.4 * 0.5 + 0.425 * 0.5
    assert m.expected_calibration_error(probs, labels, n_bins=5) == pytest.approx(expected)


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    # Ten predictions at confidence 0.7, seven right: perfectly calibrated.
    probs = np.tile([0.7, 0.3], (10, 1))
    labels = np.array([0] * 7 + [1] * 3)
    assert m.expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-12)
    probs_sure = np.eye(3)[[0, 1, 2, 2]]  # confidence 1.0, all right
    assert m.expected_calibration_error(probs_sure, np.array([0, 1, 2, 2])) == 0.0


def test_reliability_bins_match_hand_computed_example() -> None:
    probs = np.array([[0.9, 0.1], [0.1, 0.9], [0.55, 0.45], [0.4, 0.6]])
    bins = m.reliability_bins(probs, np.array([0, 0, 0, 1]), n_bins=5)
    assert bins["count"] == [0, 0, 2, 0, 2]
    np.testing.assert_allclose(bins["confidence"], [0, 0, 0.575, 0, 0.9])
    np.testing.assert_allclose(bins["accuracy"], [0, 0, 1.0, 0, 0.5])
    np.testing.assert_allclose(bins["lower"], [0, 0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(bins["upper"], [0.2, 0.4, 0.6, 0.8, 1.0])


def test_ece_equals_weighted_gap_of_reliability_bins() -> None:
    logits, labels = realistic_logits(1000, 4, scale=3.0)
    probs = m.softmax(logits)
    b = m.reliability_bins(probs, labels)
    counts = np.array(b["count"])
    gap = np.abs(np.array(b["accuracy"]) - np.array(b["confidence"]))
    expected = float((counts * gap).sum() / counts.sum())
    assert m.expected_calibration_error(probs, labels) == pytest.approx(expected)


def test_temperature_scaling_recovers_overconfidence_factor() -> None:
    logits, labels = realistic_logits(5000, 5)
    t_good = m.fit_temperature(logits, labels)
    assert t_good == pytest.approx(1.0, rel=0.05)
    t = m.fit_temperature(5.0 * logits, labels)
    assert t == pytest.approx(5.0, rel=0.05)
    assert m.nll(5.0 * logits, labels, temperature=t) < m.nll(5.0 * logits, labels)
    ece_before = m.expected_calibration_error(m.softmax(5.0 * logits), labels)
    assert m.expected_calibration_error(m.softmax(5.0 * logits, t), labels) < ece_before / 2


def test_temperature_scaling_stays_in_bounds_for_separable_logits() -> None:
    logits = 10.0 * np.eye(C)[np.arange(50) % C]  # every prediction right and sure
    assert 0.05 <= m.fit_temperature(logits, np.arange(50) % C) < 0.06


@pytest.mark.parametrize("ties", [False, True])
def test_auroc_matches_sklearn(ties: bool) -> None:
    rng = np.random.default_rng(6)
    pos, neg = rng.normal(1.0, 1.0, 300), rng.normal(0.0, 1.0, 200)
    if ties:  # coarse scores: many exact ties within and across the two groups
        pos, neg = np.round(pos), np.round(neg)
    y = np.r_[np.ones(pos.size), np.zeros(neg.size)]
    assert m.auroc(pos, neg) == pytest.approx(skm.roc_auc_score(y, np.r_[pos, neg]))


def test_auroc_extremes_and_all_ties() -> None:
    assert m.auroc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert m.auroc(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 0.0
    assert m.auroc(np.ones(4), np.ones(7)) == 0.5


def test_ood_scores_prefer_confident_logits() -> None:
    logits = np.array([[10.0, 0.0, 0.0], [0.1, 0.0, 0.0], [1e4, 0.0, 0.0]])
    msp, energy = m.max_softmax_score(logits), m.energy_score(logits)
    assert msp.shape == energy.shape == (3,)
    assert msp[0] > msp[1] and energy[0] > energy[1]
    np.testing.assert_allclose(energy, logsumexp(logits, axis=1))
    np.testing.assert_allclose(m.energy_score(logits, 2.0), 2.0 * logsumexp(logits / 2.0, axis=1))
    np.testing.assert_allclose(m.max_softmax_score(logits, 2.0), m.softmax(logits / 2).max(1))


def test_misuse_raises_value_error() -> None:
    with pytest.raises(ValueError, match="shape"):
        m.nll(np.zeros((3, C)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="labels must lie"):
        m.confusion_matrix(np.array([0, 10]), np.array([0, 1]))
    with pytest.raises(ValueError, match="k must lie"):
        m.top_k_accuracy(np.zeros((2, C)), np.zeros(2, dtype=int), k=11)
    with pytest.raises(ValueError, match="temperature"):
        m.softmax(np.zeros((2, C)), temperature=0.0)
    with pytest.raises(ValueError, match="at least one"):
        m.auroc(np.array([]), np.array([1.0]))
