"""What the report shows: every plot of a run, of its dataset and of a comparison of runs,
each rendered to PNG with a title and a caption (an :class:`Exhibit`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mnist_digits.core import metrics
from mnist_digits.evaluation import explain
from mnist_digits.evaluation.plots.classes import (
    class_distribution,
    confusion_difference,
    confusion_matrix,
    per_class_accuracy,
)
from mnist_digits.evaluation.plots.curves import Curves, training_curves
from mnist_digits.evaluation.plots.galleries import confident_mistakes, misclassified, sample_grid
from mnist_digits.evaluation.plots.inside import embedding, saliency
from mnist_digits.evaluation.plots.style import to_png
from mnist_digits.evaluation.plots.trust import (
    confidence_histogram,
    corruption_accuracy,
    reject_roc,
    reliability_diagram,
)
from mnist_digits.evaluation.report.collect import RunData
from mnist_digits.training.loop import LOG_EVERY, EpochStats

EMBED_N = 2000  # test images in the PCA plot: enough for every class's shape, still legible
SALIENCY_N = 3  # right answers and mistakes each in the saliency figure


@dataclass(frozen=True)
class Exhibit:
    """One rendered figure: ``key`` names its PNG file, ``png`` holds its bytes."""

    key: str
    title: str
    caption: str
    png: bytes


def history_curves(name: str, history: Sequence[EpochStats]) -> Curves:
    """A run's per-epoch metrics and the learning rate it logged, ready for ``training_curves``.

    Each epoch's ``lr_trace`` (the rate at every logged step, the last one ending the epoch) is
    spread evenly over that epoch; a run that logged no trace gets no schedule panel.

    Args:
        name: Legend name.
        history: Per-epoch metrics (``training.run.read_history`` or ``TrainResult.history``).
    """
    h = history
    lr_epoch: list[float] = []  # (S,) fractional epochs of the logged rates
    for e in h:
        k = len(e.lr_trace)
        lr_epoch += [e.epoch - 1 + (i + 1) / k for i in range(k)]
    return Curves(
        name,
        [e.epoch for e in h],
        [e.train_loss for e in h],
        [e.val_loss for e in h],
        [e.train_acc for e in h],
        [e.val_acc for e in h],
        lr_epoch,
        [lr for e in h for lr in e.lr_trace],
    )


def _saliency_pick(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The first few right answers and the first few mistakes, by position in the test set."""
    hits = probs.argmax(axis=1) == labels
    return np.r_[np.flatnonzero(hits)[:SALIENCY_N], np.flatnonzero(~hits)[:SALIENCY_N]]


def _render(key: str, title: str, caption: str, fig: Any) -> Exhibit:
    return Exhibit(key, title, caption, to_png(fig))


def _model_exhibits(run: RunData) -> list[Exhibit]:
    """The embedding and saliency figures, which need the model itself."""
    test, meta, model = run.result.predictions, run.result.meta, run.result.model
    pick = np.random.default_rng(0).choice(len(test.labels), min(EMBED_N, len(test.labels)), False)
    features = explain.penultimate_features(model, test.images[pick], meta.input)  # (K, D)
    coords, explained = explain.pca_2d(features)
    probs = metrics.softmax(test.logits)
    idx = _saliency_pick(probs, test.labels)
    x = torch.from_numpy(meta.input.normalize(test.images[idx]))  # (S, 1, 28, 28)
    target = torch.from_numpy(probs[idx].argmax(axis=1))  # (S,) predicted classes
    occlusion = explain.occlusion_maps(model, x, target, meta.input.black)
    grads = explain.smoothgrad_maps(model, x, target)
    share = 100 * float(sum(explained))
    return [
        _render(
            "embedding",
            "Penultimate-layer embedding",
            CAPTIONS["embedding"].format(n=len(pick), share=share),
            embedding(coords, test.labels[pick], meta.classes, explained),
        ),
        _render(
            "saliency",
            "What drove a prediction",
            CAPTIONS["saliency"],
            saliency(
                test.images[idx], occlusion, grads, test.labels[idx], probs[idx], meta.classes
            ),
        ),
    ]


def _error_exhibits(run: RunData) -> list[Exhibit]:
    """Confusion matrices, per-class accuracy and the two galleries of mistakes."""
    f, test, classes = run.figures, run.result.predictions, run.result.meta.classes
    probs = metrics.softmax(test.logits)
    return [
        _render(
            "confusion_counts",
            "Confusion matrix (counts)",
            CAPTIONS["confusion"],
            confusion_matrix(f["confusion_matrix"], classes),
        ),
        _render(
            "confusion_normalised",
            "Confusion matrix (row-normalised)",
            CAPTIONS["confusion_normalised"],
            confusion_matrix(f["confusion_matrix"], classes, normalise=True),
        ),
        _render(
            "per_class_accuracy",
            "Accuracy per class",
            CAPTIONS["per_class"],
            per_class_accuracy(
                {run.name: f["per_class"]["recall"]}, classes, {run.name: f["accuracy"]}
            ),
        ),
        _render(
            "misclassified",
            "Misclassified gallery",
            CAPTIONS["misclassified"],
            misclassified(test.images, test.labels, probs, classes),
        ),
        _render(
            "confident_mistakes",
            "The most confident mistakes",
            CAPTIONS["confident"],
            confident_mistakes(test.images, test.labels, probs, classes),
        ),
    ]


def _trust_exhibits(run: RunData) -> list[Exhibit]:
    """Reliability diagram, out-of-distribution confidence and corruption accuracy."""
    f, test = run.figures, run.result.predictions
    out = [
        _render(
            "reliability",
            "Reliability diagram",
            CAPTIONS["reliability"],
            reliability_diagram(test.logits, test.labels, run.result.temperature),
        ),
    ]
    ood = f["ood"]
    if run.result.ood_logits is not None and "auroc" in ood:
        fig = confidence_histogram(
            test.logits,
            run.result.ood_logits,
            ood["in_distribution"],
            f"{ood['dataset']} test",
            ood["auroc"],
        )
        out.append(_render("ood", "Out-of-distribution confidence", CAPTIONS["ood"], fig))
    if f.get("corruptions"):
        c = f["corruptions"]
        fig = corruption_accuracy({run.name: c["accuracy"]}, {run.name: c["clean_accuracy"]})
        out.append(_render("corruptions", "Accuracy per corruption", CAPTIONS["corruptions"], fig))
    if f.get("users"):
        fig = reject_roc(f["users"])
        out.append(_render("reject_roc", "Telling digits from the rest", CAPTIONS["users"], fig))
    return out


def run_exhibits(run: RunData) -> list[Exhibit]:
    """Every plot of one run, in reading order (training, errors, trust, inside the model)."""
    out = []
    if run.history:
        fig = training_curves([history_curves(run.name, run.history)])
        out.append(_render("training_curves", "Training curves", CAPTIONS["curves"], fig))
    return out + _error_exhibits(run) + _trust_exhibits(run) + _model_exhibits(run)


def data_exhibits(dataset: str, train_labels: np.ndarray, run: RunData) -> list[Exhibit]:
    """A sample grid of test images and the class distribution of both splits."""
    test, classes = run.result.predictions, run.result.meta.classes
    pick = np.random.default_rng(0).choice(len(test.labels), min(30, len(test.labels)), False)
    counts = {
        "train": np.bincount(train_labels, minlength=len(classes)).tolist(),
        "test": np.bincount(test.labels, minlength=len(classes)).tolist(),
    }
    return [
        _render(
            "samples",
            "Sample images",
            CAPTIONS["samples"].format(n=len(pick), dataset=dataset),
            sample_grid(
                test.images[pick], test.labels[pick], classes, title=f"Sample {dataset} test images"
            ),
        ),
        _render(
            "class_distribution",
            "Class distribution",
            CAPTIONS["distribution"],
            class_distribution(counts, classes),
        ),
    ]


def comparison_exhibits(runs: list[RunData]) -> list[Exhibit]:
    """Overlaid curves, grouped per-class and per-corruption accuracy, confusion changes."""
    classes = runs[0].result.meta.classes
    out = []
    with_history = [r for r in runs if r.history]
    if with_history:
        fig = training_curves([history_curves(r.name, r.history) for r in with_history])
        out.append(_render("compare_curves", "Training curves, overlaid", CAPTIONS["curves"], fig))
    fig = per_class_accuracy(
        {r.name: r.figures["per_class"]["recall"] for r in runs},
        classes,
        {r.name: r.figures["accuracy"] for r in runs},
    )
    out.append(_render("compare_per_class", "Accuracy per class", CAPTIONS["per_class"], fig))
    robust = [r for r in runs if r.figures.get("corruptions")]
    if robust:
        fig = corruption_accuracy(
            {r.name: r.figures["corruptions"]["accuracy"] for r in robust},
            {r.name: r.figures["corruptions"]["clean_accuracy"] for r in robust},
        )
        out.append(
            _render("compare_corruptions", "Accuracy per corruption", CAPTIONS["corruptions"], fig)
        )
    base = runs[0]
    for i, other in enumerate(runs[1:], 1):
        fig = confusion_difference(
            base.figures["confusion_matrix"],
            other.figures["confusion_matrix"],
            classes,
            (base.name, other.name),
        )
        out.append(
            _render(
                f"compare_confusion_{i}",
                f"Confusion change: {other.name}",
                CAPTIONS["confusion_difference"],
                fig,
            )
        )
    return out


CAPTIONS = {
    "samples": "{n} {dataset} test images drawn at random (seed 0), dark ink on white, with "
    "their labels. The model sees them as stored: 28 x 28 grey levels, white ink on black.",
    "distribution": "Share of each class in the training and test splits; the number on each "
    "bar is its image count. The classes are close to balanced, so accuracy is a fair summary.",
    "curves": "Loss (log scale) and accuracy against epochs. Training figures (dashed, hollow "
    "markers) are averages over an epoch, with augmentation if any, so they sit at its middle; "
    "validation (solid) is measured on the held-out images at the epoch's end. The learning "
    f"rate is the one training logged every {LOG_EVERY} steps.",
    "confusion": "Rows are true classes, columns predictions: the diagonal counts right "
    "answers, every other cell a kind of mistake. Colour is on a log scale so single mistakes "
    "show; blank cells are zero.",
    "confusion_normalised": "The same matrix with each row divided by its class's size, in "
    "percent: the diagonal is each class's recall, the rest where its images went.",
    "per_class": "Recall of each class (the share of its test images read correctly); the "
    "dashed line is the overall accuracy. The axis starts near the lowest bar, not at zero.",
    "misclassified": "The first mistakes in test-set order, an unselected sample: true class, "
    "predicted class, the model's confidence (softmax, T = 1) and the image's index (#).",
    "confident": "Mistakes sorted by the model's confidence: the ones it was surest about. "
    "Several are ambiguous or mislabelled digits.",
    "reliability": "Test images binned by confidence (15 equal bins): bars show the accuracy in "
    "each bin, hatching the gap to the bin's mean confidence; a calibrated model follows the "
    "diagonal. Right: after dividing the logits by the temperature fitted on the validation "
    "split. Below each, how many images fall in each bin (log scale).",
    "ood": "Maximum softmax probability on the model's own test set and on an unrelated "
    "dataset of the same format. AUROC is the chance that a random in-distribution image gets "
    "a higher score than a random out-of-distribution one.",
    "users": "Held-out families of people's kinds of images (never trained on), read as "
    "predict reads them: the share of digits accepted against the share of non-digits "
    "accepted as the reject threshold on calibrated confidence moves. The dot is the "
    "threshold the checkpoint carries, chosen on validation data.",
    "corruptions": "Accuracy on the test set under each of the 15 MNIST-C corruptions at one "
    "fixed severity (see the table), hardest at the bottom; the dashed line is clean accuracy. "
    "The mean corruption error is the plain mean of the 15 error rates.",
    "embedding": "The inputs of the output layer for {n} random test images, projected on "
    "their two principal components ({share:.0f}% of the variance). Each class has a colour and "
    "a marker, its name at the class median. Classes that overlap here may still be apart in "
    "the other dimensions; PCA keeps only the two widest directions.",
    "saliency": "Three right answers and three mistakes. Occlusion: a 5 x 5 black square slides "
    "over the image and the map shows how much hiding each place lowers (red) or raises (blue) "
    "the predicted class's logit. SmoothGrad: the gradient's size, averaged over 32 noisy "
    "copies; it is speckled where the first layer's stride of 2 aliases.",
    "confusion_difference": "Counts of this run's confusion matrix minus the first run's. Blue "
    "cells are better here (fewer of that mistake, or more right answers on the diagonal), red "
    "cells worse; blank cells are unchanged.",
}
