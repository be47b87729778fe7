"""Every plot renders from a tiny fake run: made-up metrics, a random 784-8-8-10 MLP and
twenty noise images; nothing is trained and no real dataset is read."""

import io
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from fake_run import make_fake_run
from PIL import Image

from mnist_digits.core import metrics
from mnist_digits.evaluation import explain, plots
from mnist_digits.evaluation.evaluate import corruption_figures, predict_logits, to_input
from mnist_digits.evaluation.report import lr_trace
from mnist_digits.models.checkpoint import CheckpointMeta, load_checkpoint
from mnist_digits.training.run import read_history

CLASSES = tuple("0123456789")


@dataclass(frozen=True)
class Fake:
    """The fake run's model and what it says about twenty noise images."""

    model: torch.nn.Module
    meta: CheckpointMeta
    curves: plots.Curves
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
    h = read_history(fake.run_dir)
    x, lr = lr_trace({"model": "mlp-seed", "epochs": 3, "val_size": 4}, 3, 12)
    curves = plots.Curves(
        "fake",
        [e.epoch for e in h],
        [e.train_loss for e in h],
        [e.val_loss for e in h],
        [e.train_acc for e in h],
        [e.val_acc for e in h],
        x,
        lr,
    )
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10
    return Fake(model, meta, curves, images, labels, predict_logits(model, images, 0.5, 0.29))


def _saliency(r: Fake) -> plots.Figure:
    x = to_input(r.images[:3], r.meta.mean, r.meta.std)  # (3, 1, 28, 28)
    target = torch.from_numpy(r.logits[:3].argmax(1))
    occ = explain.occlusion_maps(r.model, x, target, background=-1.7)
    grads = explain.smoothgrad_maps(r.model, x, target, samples=4)
    return plots.saliency(r.images[:3], occ, grads, r.labels[:3], r.probs[:3], CLASSES)


def _embedding(r: Fake) -> plots.Figure:
    feats = explain.penultimate_features(r.model, to_input(r.images, 0.5, 0.29))
    assert feats.shape == (20, 8)
    coords, explained = explain.pca_2d(feats)
    return plots.embedding(coords, r.labels, CLASSES, explained)


def _corruptions(r: Fake) -> plots.Figure:
    c = corruption_figures(r.model, r.images[:4], r.labels[:4], 0.5, 0.29)
    other = {k: min(1.0, v + 0.1) for k, v in c["accuracy"].items()}
    return plots.corruption_accuracy(
        {"a": c["accuracy"], "b": other}, {"a": c["clean_accuracy"], "b": 0.9}
    )


PLOTS = {
    "sample_grid": lambda r: plots.sample_grid(r.images, r.labels, CLASSES),
    "class_distribution": lambda r: plots.class_distribution(
        {"train": [6, 6, 1, 1, 1, 1, 1, 1, 1, 1], "test": [2] * 10}, CLASSES
    ),
    "training_curves": lambda r: plots.training_curves([r.curves]),
    "training_curves_compared": lambda r: plots.training_curves([r.curves, r.curves]),
    "confusion_counts": lambda r: plots.confusion_matrix(r.cm, CLASSES),
    "confusion_normalised": lambda r: plots.confusion_matrix(r.cm, CLASSES, normalise=True),
    "per_class_accuracy": lambda r: plots.per_class_accuracy(
        {"a": np.linspace(0.9, 1, 10), "b": np.linspace(1, 0.95, 10)},
        CLASSES,
        {"a": 0.95, "b": 0.97},
    ),
    "misclassified": lambda r: plots.misclassified(r.images, r.labels, r.probs, CLASSES),
    "confident_mistakes": lambda r: plots.confident_mistakes(r.images, r.labels, r.probs, CLASSES),
    "correct_and_wrong": lambda r: plots.correct_and_wrong(r.images, r.labels, r.probs, CLASSES),
    "reliability": lambda r: plots.reliability_diagram(r.logits, r.labels, 2.0),
    "ood_confidence": lambda r: plots.confidence_histogram(
        r.logits, r.logits[::-1] * 0.5, "in", "out", 0.7
    ),
    "corruptions": _corruptions,
    "embedding": _embedding,
    "saliency": _saliency,
    "confusion_difference": lambda r: plots.confusion_difference(
        r.cm, np.eye(10, dtype=int), CLASSES, ("a", "b")
    ),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_every_plot_renders_from_a_fake_run(run, name):
    fig = PLOTS[name](run)
    assert fig.get_suptitle(), "every figure has a title"
    image = Image.open(io.BytesIO(plots.to_png(fig)))
    assert image.format == "PNG" and image.width >= 400 and image.height >= 150
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 5, "not a blank canvas"


def test_a_gallery_with_nothing_to_show_still_renders():
    fig = plots.misclassified(
        np.zeros((3, 28, 28), np.uint8), np.arange(3), np.eye(10)[:3], tuple("0123456789")
    )
    assert plots.to_png(fig)[:4] == b"\x89PNG"


def test_pca_2d_finds_the_widest_direction():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(300, 6)) * np.array([10.0, 3.0, 0.1, 0.1, 0.1, 0.1])
    coords, explained = explain.pca_2d(feats)
    assert coords.shape == (300, 2) and explained[0] > explained[1] > 0.05
    np.testing.assert_allclose(
        np.abs(coords[:, 0]), np.abs(feats[:, 0] - feats[:, 0].mean()), atol=0.5
    )
