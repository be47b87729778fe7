"""The full evaluation: figures, calibration, OOD, corruptions, the temperature saved into the
checkpoint, and the ``evaluate`` command, on a fake run (and once on the real MNIST)."""

import json

import numpy as np
import pytest
import torch
from components import fashion_mnist_or_missing
from fake_run import make_fake_run

from mnist_digits.cli import main
from mnist_digits.core import metrics
from mnist_digits.core.errors import CheckpointError
from mnist_digits.evaluation import evaluate as evaluation
from mnist_digits.evaluation.evaluate import (
    calibration_figures,
    classification_figures,
    evaluate_checkpoint,
    log_max_softmax,
    store_calibration,
    validation_split,
)
from mnist_digits.models import checkpoint
from mnist_digits.models.checkpoint import read_meta, weights_fingerprint
from mnist_digits.training.tensors import prepare_data

KEYS = (
    "accuracy",
    "loss",
    "top2_accuracy",
    "per_class",
    "confusion_matrix",
    "error_indices",
    "calibration",
    "ood",
)


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a classifier right 80% of the time but sure of every answer, (n, 10)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    guess = np.where(rng.random(n) < 0.8, labels, rng.integers(0, 10, n))
    logits = rng.normal(size=(n, 10))
    logits[np.arange(n), guess] += 12.0  # ~99.99% confidence whether right or wrong
    return logits, labels


def test_temperature_scaling_lowers_nll_on_validation():
    val_logits, val_labels = _overconfident(2000, seed=0)
    test_logits, test_labels = _overconfident(2000, seed=1)
    cal = calibration_figures(val_logits, val_labels, test_logits, test_labels)
    assert cal["temperature"] > 2, "overconfident logits need softening"
    assert cal["val_nll_after"] < cal["val_nll_before"]
    assert cal["nll_after"] < cal["nll_before"] and cal["ece_after"] < cal["ece_before"]
    assert cal["n_bins"] == 15 and cal["n_val"] == 2000


def test_classification_figures_match_metrics():
    logits, labels = _overconfident(500, seed=2)
    f = classification_figures(logits, labels)
    pred = logits.argmax(1)
    assert f["accuracy"] == pytest.approx(np.mean(pred == labels))
    assert f["error_indices"] == np.flatnonzero(pred != labels).tolist()
    assert np.sum(f["confusion_matrix"]) == 500 and f["n"] == 500
    recall = [np.mean(pred[labels == c] == c) for c in range(10)]
    np.testing.assert_allclose(f["per_class"]["recall"], recall)
    assert f["top2_accuracy"] >= f["accuracy"]


def test_log_max_softmax_ranks_confident_images_that_softmax_ties():
    logits = np.array([[0.0, 40.0, 0.0], [0.0, 45.0, 0.0], [0.0, 1.0, 0.0]])
    assert metrics.max_softmax_score(logits)[0] == metrics.max_softmax_score(logits)[1] == 1.0
    scores = log_max_softmax(logits)
    assert scores[1] > scores[0] > scores[2]
    np.testing.assert_allclose(np.exp(scores), metrics.max_softmax_score(logits), rtol=1e-12)


def test_validation_split_is_the_one_training_held_out(tiny, tmp_path):
    from mnist_digits.data.dataset import load_dataset
    from mnist_digits.training.config import resolve_config

    run = make_fake_run(tiny, tmp_path)
    meta = read_meta(run.run_dir)
    train_split = load_dataset("tiny", "train", data_dir=run.data_dir)
    _, val = validation_split(meta, train_split)
    cfg = resolve_config({"val_size": 4, "val_seed": 0}, {})
    held_out = prepare_data(cfg, train_split, torch.device("cpu"))
    expected = torch.from_numpy(train_split.contract.normalize(val.images))  # (4, 1, 28, 28)
    torch.testing.assert_close(held_out.x_val, expected)


def test_evaluate_checkpoint_on_a_fake_run(tiny, tmp_path, monkeypatch):
    run = make_fake_run(tiny, tmp_path)
    result = evaluate_checkpoint(run.run_dir, data_dir=run.data_dir)
    f = result.figures
    assert all(k in f for k in KEYS)
    assert f["ood"]["skipped"] and result.ood_logits is None
    assert "corruptions" not in f and f["n"] == 5
    monkeypatch.setitem(evaluation.OOD_PARTNER, "tiny", "tiny")
    again = evaluate_checkpoint(run.run_dir, split="val", corruptions=True, data_dir=run.data_dir)
    assert again.figures["n"] == 4 and again.figures["ood"]["auroc"] == pytest.approx(0.5)
    corr = again.figures["corruptions"]
    assert (
        len(corr["accuracy"]) == 15
        and corr["n"] == 5
        and set(corr["severity"]) == set(corr["accuracy"])
    )
    errors = [1 - a for a in corr["accuracy"].values()]
    assert corr["mean_corruption_error"] == pytest.approx(np.mean(errors))


def test_corruption_figures_are_deterministic_with_a_seed(tiny, tmp_path):
    run = make_fake_run(tiny, tmp_path)
    a = evaluate_checkpoint(run.run_dir, corruptions=True, seed=3, data_dir=run.data_dir)
    b = evaluate_checkpoint(run.run_dir, corruptions=True, seed=3, data_dir=run.data_dir)
    assert a.figures["corruptions"] == b.figures["corruptions"]


def test_temperature_is_saved_into_the_checkpoint_weights_unchanged(tiny, tmp_path):
    run = make_fake_run(tiny, tmp_path)
    before = weights_fingerprint(run.run_dir)
    cal = evaluate_checkpoint(run.run_dir, data_dir=run.data_dir).figures["calibration"]
    store_calibration(run.run_dir, cal)
    meta = read_meta(run.run_dir)
    assert meta.extra["temperature"] == pytest.approx(cal["temperature"])
    assert meta.extra["calibration"]["ece_after"] == pytest.approx(cal["ece_after"])
    assert weights_fingerprint(run.run_dir) == before
    assert meta.dataset == "tiny" and meta.recipe["val_size"] == 4


def test_a_checkpoint_inside_the_package_is_never_rewritten(tiny, tmp_path, monkeypatch):
    run = make_fake_run(tiny, tmp_path)
    monkeypatch.setattr(checkpoint, "PACKAGE_DIR", run.run_dir)
    file = run.run_dir / checkpoint.BEST
    stamp = file.stat().st_mtime_ns
    with pytest.raises(CheckpointError, match="ships with the package"):
        store_calibration(run.run_dir, {"temperature": 1.5})
    assert file.stat().st_mtime_ns == stamp and "temperature" not in read_meta(file).extra


def test_evaluate_cli_json_saves_temperature_and_cache(tiny, tmp_path, capsys):
    run = make_fake_run(tiny, tmp_path)
    argv = ["evaluate", str(run.run_dir), "--json", "--corruptions", "--data-dir"]
    assert main([*argv, str(run.data_dir)]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)  # exactly one JSON document on stdout
    assert all(k in doc for k in KEYS) and "mean_corruption_error" in doc["corruptions"]
    cal = doc["calibration"]
    assert {"temperature", "ece_before", "ece_after", "nll_before", "nll_after"} <= set(cal)
    assert cal["stored_in"].endswith("best.safetensors")
    assert read_meta(run.run_dir).extra["temperature"] == pytest.approx(cal["temperature"])
    cached = json.loads((run.run_dir / "evaluation.json").read_text())
    assert cached["fingerprint"] == weights_fingerprint(run.run_dir)


def test_evaluate_cli_text_and_bad_input(tiny, tmp_path, capsys):
    run = make_fake_run(tiny, tmp_path)
    assert main(["evaluate", str(run.run_dir), "--data-dir", str(run.data_dir)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "calibration: T =" in out and "out-of-distribution" in out
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and "Traceback" not in err


@pytest.mark.slow
def test_real_mnist_figures_and_calibration(mnist_home, tmp_path):
    from mnist_digits.training.config import resolve_config
    from mnist_digits.training.run import run_training

    cfg = resolve_config({}, {"model": "mlp-seed", "epochs": 1})
    run_training(cfg, tmp_path / "run")
    result = evaluate_checkpoint(tmp_path / "run")
    f = result.figures
    assert f["n"] == 10_000 and 0.9 < f["accuracy"] <= f["top2_accuracy"]
    assert f["calibration"]["val_nll_after"] <= f["calibration"]["val_nll_before"]
    assert sum(f["per_class"]["support"]) == 10_000
    if "auroc" not in f["ood"]:
        assert f["ood"]["skipped"]  # it says why; that is right only if the data is missing
        fashion_mnist_or_missing()
        pytest.fail(f"Fashion-MNIST is installed, yet OOD was skipped: {f['ood']['skipped']}")
    assert f["ood"]["dataset"] == "fashion-mnist" and 0.5 < f["ood"]["auroc"] <= 1
    assert result.ood_logits is not None and result.ood_logits.shape == (10_000, 10)
