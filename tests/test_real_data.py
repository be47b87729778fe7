"""The real datasets: counts, class balance and checksums."""

import json

import pytest
from components import fashion_mnist_or_missing

from mnist_digits.cli import main
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.specs import MNIST

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.slow
def test_mnist_info_json(mnist_home, capsys):
    assert main(["data", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["dataset"] == "mnist" and info["verified"] is True
    assert info["splits"]["train"]["count"] == 60000
    assert info["splits"]["test"]["count"] == 10000
    assert info["splits"]["train"]["class_counts"] == TRAIN_COUNTS
    assert info["splits"]["test"]["class_counts"] == TEST_COUNTS
    assert info["splits"]["train"]["mean"] == pytest.approx(MNIST.contract.mean, abs=1e-4)
    assert info["splits"]["train"]["std"] == pytest.approx(MNIST.contract.std, abs=1e-4)
    assert len(info["files"]) == 4 and all(len(f["sha256"]) == 64 for f in info["files"])


@pytest.mark.slow
def test_fashion_mnist():
    fashion_mnist_or_missing()
    ds = load_dataset("fashion-mnist", "test")
    assert ds.images.shape == (10000, 28, 28) and ds.classes[9] == "Ankle boot"
    assert (ds.labels == 3).sum() == 1000
