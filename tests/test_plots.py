"""Every plot renders from a tiny fake run: made-up metrics, a random 784-8-8-10 MLP and
twenty noise images; nothing is trained and no real dataset is read."""

import io
from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch
from fake_run import make_fake_run
from matplotlib.figure import Figure
from PIL import Image

from mnist_digits.core import metrics
from mnist_digits.core.card import CheckpointMeta
from mnist_digits.evaluation import explain
from mnist_digits.evaluation.evaluate import corruption_figures
from mnist_digits.evaluation.plots import classes, galleries, inside, trust
from mnist_digits.evaluation.plots.curves import Curves, training_curves
from mnist_digits.evaluation.plots.style import to_png
from mnist_digits.evaluation.report.exhibits import history_curves
from mnist_digits.models.checkpoint import load_checkpoint
from mnist_digits.models.inference import infer
from mnist_digits.training.loop import EpochStats
from mnist_digits.training.rundir import read_history

CLASSES = tuple("0123456789")


@dataclass(frozen=True)
class Fake:
    """The fake run's model and what it says about twenty noise images."""

    model: torch.nn.Module
    meta: CheckpointMeta
    history: list[EpochStats]
    curves: Curves
    images: np.ndarray  # (20, 28, 28) uint8
    labels: np.ndarray  # (20,)
    logits: np.ndarray  # (20, 10)

    @property
    def probs(self) -> np.ndarray:
        return metrics.softmax(self.logits)

    @property
    def cm(self) -> np.ndarray:
        return metrics.confusion_matrix(self.logits, self.labels)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Fake:
    fake = make_fake_run(None, tmp_path_factory.mktemp("plots"))
    model, meta = load_checkpoint(fake.run_dir)
    history = read_history(fake.run_dir)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10
    logits = infer(model, images, meta.input).double().cpu().numpy()
    return Fake(model, meta, history, history_curves("fake", history), images, labels, logits)


def test_history_curves_spread_each_logged_rate_over_its_epoch(run):
    # fake_run logs three rates an epoch: they sit at a third, two thirds and the epoch's end.
    c = run.curves
    np.testing.assert_allclose(c.lr_epoch, np.arange(1, 10) / 3)
    assert list(c.lr) == [lr for e in run.history for lr in e.lr_trace]
    assert [c.lr[i] for i in (2, 5, 8)] == [e.lr for e in run.history]
    assert history_curves("old", [replace(e, lr_trace=[]) for e in run.history]).lr == []


def _saliency(r: Fake) -> Figure:
    x = torch.from_numpy(r.meta.input.normalize(r.images[:3]))  # (3, 1, 28, 28)
    target = torch.from_numpy(r.logits[:3].argmax(1))
    occ = explain.occlusion_maps(r.model, x, target, background=r.meta.input.black)
    grads = explain.smoothgrad_maps(r.model, x, target, samples=4)
    return inside.saliency(r.images[:3], occ, grads, r.labels[:3], r.probs[:3], CLASSES)


def _embedding(r: Fake) -> Figure:
    feats = explain.penultimate_features(r.model, r.images, r.meta.input)
    assert feats.shape == (20, 8)
    coords, explained = explain.pca_2d(feats)
    return inside.embedding(coords, r.labels, CLASSES, explained)


def _corruptions(r: Fake) -> Figure:
    c = corruption_figures(r.model, r.images[:4], r.labels[:4], r.meta.input)
    other = {k: min(1.0, v + 0.1) for k, v in c["accuracy"].items()}
    return trust.corruption_accuracy(
        {"a": c["accuracy"], "b": other}, {"a": c["clean_accuracy"], "b": 0.9}
    )


def _right_above_wrong(r: Fake) -> Figure:
    """Right answers above mistakes, as the walkthrough notebook shows them."""
    hits = r.probs.argmax(axis=1) == r.labels
    idx = np.r_[np.flatnonzero(hits)[:8], np.flatnonzero(~hits)[:8]]
    return galleries.prediction_gallery(
        r.images[idx], r.labels[idx], r.probs[idx], CLASSES, "Correct versus misclassified", idx
    )


PLOTS = {
    "sample_grid": lambda r: galleries.sample_grid(r.images, r.labels, CLASSES),
    "class_distribution": lambda r: classes.class_distribution(
        {"train": [6, 6, 1, 1, 1, 1, 1, 1, 1, 1], "test": [2] * 10}, CLASSES
    ),
    "training_curves": lambda r: training_curves([r.curves]),
    "training_curves_compared": lambda r: training_curves([r.curves, r.curves]),
    "confusion_counts": lambda r: classes.confusion_matrix(r.cm, CLASSES),
    "confusion_normalised": lambda r: classes.confusion_matrix(r.cm, CLASSES, normalise=True),
    "per_class_accuracy": lambda r: classes.per_class_accuracy(
        {"a": np.linspace(0.9, 1, 10), "b": np.linspace(1, 0.95, 10)},
        CLASSES,
        {"a": 0.95, "b": 0.97},
    ),
    "misclassified": lambda r: galleries.misclassified(r.images, r.labels, r.probs, CLASSES),
    "confident_mistakes": lambda r: galleries.confident_mistakes(
        r.images, r.labels, r.probs, CLASSES
    ),
    "correct_and_wrong": _right_above_wrong,
    "reliability": lambda r: trust.reliability_diagram(r.logits, r.labels, 2.0),
    "ood_confidence": lambda r: trust.confidence_histogram(
        r.logits, r.logits[::-1] * 0.5, "in", "out", 0.7
    ),
    "corruptions": _corruptions,
    "embedding": _embedding,
    "saliency": _saliency,
    "confusion_difference": lambda r: classes.confusion_difference(
        r.cm, np.eye(10, dtype=int), CLASSES, ("a", "b")
    ),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_every_plot_renders_from_a_fake_run(run, name):
    fig = PLOTS[name](run)
    assert fig.get_suptitle(), "every figure has a title"
    image = Image.open(io.BytesIO(to_png(fig)))
    assert image.format == "PNG" and image.width >= 400 and image.height >= 150
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 5, "not a blank canvas"


def test_a_gallery_with_nothing_to_show_still_renders():
    fig = galleries.misclassified(
        np.zeros((3, 28, 28), np.uint8), np.arange(3), np.eye(10)[:3], tuple("0123456789")
    )
    assert to_png(fig)[:4] == b"\x89PNG"


def test_pca_2d_finds_the_widest_direction():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(300, 6)) * np.array([10.0, 3.0, 0.1, 0.1, 0.1, 0.1])
    coords, explained = explain.pca_2d(feats)
    assert coords.shape == (300, 2) and explained[0] > explained[1] > 0.05
    np.testing.assert_allclose(
        np.abs(coords[:, 0]), np.abs(feats[:, 0] - feats[:, 0].mean()), atol=0.5
    )
