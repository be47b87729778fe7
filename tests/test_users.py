"""Reading people's kinds of images, family by family (``mnist-digits evaluate --users``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_digits.cli import main
from mnist_digits.evaluation.users import dataset_items, family_items, users_figures, users_table
from mnist_digits.models.checkpoint import load_checkpoint
from mnist_digits.predict import SHIPPED, Predictor
from mnist_digits.synthetic.families import FAMILIES


def test_the_figures_are_what_predict_answers(tiny_checkpoint) -> None:
    """Every family's flagged share equals what Predictor.predict says of the same files."""
    model, meta = load_checkpoint(tiny_checkpoint)
    reader = Predictor.from_checkpoint(tiny_checkpoint)
    items = family_items("stars-hearts-drawn", 12, seed=5)
    answers = reader.predict([data for data, _ in items])
    ours = users_figures(model, meta, n=12, seed=5)["families"]["stars-hearts-drawn"]
    assert ours["flagged"] == pytest.approx(np.mean([a.status != "ok" for a in answers]))


def test_only_held_out_families_by_default(tiny_checkpoint, mnist_home) -> None:
    model, meta = load_checkpoint(tiny_checkpoint)
    users = users_figures(model, meta, n=6)
    held = {n for n, f in FAMILIES.items() if f.split == "heldout"}
    assert set(users["families"]) == held | {"mnist-test-png", "fashion-test-png"}
    assert 0.0 <= users["auroc"] <= 1.0 and len(users["roc"]["fpr"]) == 101
    table = users_table(users)
    assert "| mnist-test-png | heldout | digits | 6 |" in table
    assert all(0 <= r["flagged"] <= 1 for r in users["families"].values())


def test_mnist_items_are_png_files_of_the_test_split(mnist_home) -> None:
    items = dataset_items("mnist", 3, None)
    assert all(data[:8] == b"\x89PNG\r\n\x1a\n" for data, _ in items)
    assert [label for _, label in items] == [7, 2, 1]  # MNIST test's first three


# Floors for the shipped weights on held-out families, a little under what they measured at
# 300 a family (98.0, 100.0 read; 99.3, 79.0, 96.3, 93.3, 98.3, 100 flagged, and 89.7 for the
# doodles, added later; the README's table has 500 a family). They guard against getting worse;
# the product's target for non-digits is 95% flagged, which drawn letters, doodles and spirals
# do not meet yet.
FLOORS = {
    "mnist-test-png": ("read_right", 0.975),
    "digits-printed-heldout": ("read_right", 0.98),
    "fashion-test-png": ("flagged", 0.97),
    "letters-drawn-heldout": ("flagged", 0.76),
    "stars-hearts-drawn": ("flagged", 0.95),
    "scribbles-heldout": ("flagged", 0.88),
    "doodles-drawn-heldout": ("flagged", 0.85),
    "symbols-printed-heldout": ("flagged", 0.94),
    "noise-blank": ("flagged", 1.0),
}
# Real digits turned away, at most. The 300 MNIST PNGs here flag 6 (2.0%), so the guard has
# half a point of room; all 10,000 of MNIST test flag 1.43% (benchmarks/mnist_through_predict.py).
CEILINGS = {"mnist-test-png": 0.025, "digits-printed-heldout": 0.02}


@pytest.mark.slow
def test_the_shipped_reader_meets_its_floors(mnist_home, capsys) -> None:
    assert main(["evaluate", str(SHIPPED), "--users", "--users-n", "300", "--json"]) == 0
    families = json.loads(capsys.readouterr().out)["users"]["families"]
    for name, (key, floor) in FLOORS.items():
        assert families[name][key] >= floor, (name, key, families[name][key])
    for name, ceiling in CEILINGS.items():
        assert families[name]["flagged"] <= ceiling, (name, families[name]["flagged"])


def test_the_report_shows_the_families_and_their_roc(tiny_checkpoint, mnist_home) -> None:
    from types import SimpleNamespace

    from mnist_digits.evaluation.plots.style import to_png
    from mnist_digits.evaluation.plots.trust import reject_roc
    from mnist_digits.evaluation.report.tables import users_table as report_table

    model, meta = load_checkpoint(tiny_checkpoint)
    users = users_figures(model, meta, n=6)
    header, rows = report_table(SimpleNamespace(figures={"users": users}))  # type: ignore[arg-type]
    assert header[0] == "family" and len(rows) == len(users["families"])
    assert rows[0][0] in ("digits-printed-heldout", "mnist-test-png")  # digit families first
    assert to_png(reject_roc(users))[:8] == b"\x89PNG\r\n\x1a\n"
    assert report_table(SimpleNamespace(figures={})) is None  # type: ignore[arg-type]
