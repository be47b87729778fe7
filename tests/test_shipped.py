"""The weights shipped in the package: accuracy on the MNIST test set, and a recorded recipe."""

import json
import shutil
import tomllib
from pathlib import Path

import pytest
import torch
from scoring import accuracy

from mnist_digits.data.dataset import load_dataset, normalized_tensors
from mnist_digits.models.checkpoint import load_checkpoint
from mnist_digits.predict import SHIPPED
from mnist_digits.training.recalibrate import recalibrate

ROOT = Path(__file__).resolve().parents[1]


def test_metadata_names_the_recipe_that_made_them():
    _, meta = load_checkpoint(SHIPPED)
    name = meta.recipe["recipe"]
    recipe = tomllib.loads((ROOT / "recipes" / f"{name}.toml").read_text())["train"]
    for key, value in recipe.items():
        assert meta.recipe[key] == value, key
    record = json.loads(SHIPPED.with_suffix(".json").read_text())
    assert record["recipe"] == meta.recipe and record["metrics"] == meta.metrics
    assert {"temperature", "reject_threshold"} <= set(meta.extra)


# The shipped reader was chosen on validation for people's images (recipes/cnn-small-shipped.toml)
# and measured 99.47% on MNIST test as stored, 99.34% through `predict`, once, after choosing
# (the weights before them: 99.37%, 99.34%); the floor guards that. Issue #12's 99.4% through
# `predict` is not met.
@pytest.mark.slow
def test_shipped_weights_reach_99_45_percent(mnist_home):
    model, meta = load_checkpoint(SHIPPED)
    x, y = normalized_tensors(load_dataset("mnist", "test"), contract=meta.input)
    assert isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)
    test_accuracy = accuracy(model, x, y, meta.input)
    assert test_accuracy >= 0.9945, test_accuracy
    assert test_accuracy == pytest.approx(meta.metrics["test_accuracy"], abs=1e-4)


@pytest.mark.slow
def test_shipped_threshold_is_what_validation_gives_with_todays_preprocessing(mnist_home, tmp_path):
    """The reject threshold is chosen on validation images as ``to_mnist`` leaves them: if the
    preprocessing changes, scripts/recalibrate.py must choose it again (and this fails)."""
    copy = tmp_path / "shipped.safetensors"
    shutil.copyfile(SHIPPED, copy)
    cal = recalibrate(copy)
    extra = load_checkpoint(SHIPPED)[1].extra
    assert cal.reject_threshold == pytest.approx(extra["reject_threshold"], abs=1e-6)
    assert cal.val_digits_flagged == pytest.approx(extra["val_digits_flagged"], abs=1e-6)
    assert load_checkpoint(copy)[1].extra["reject_threshold"] == cal.reject_threshold
