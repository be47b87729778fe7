"""The generated families: deterministic, labelled, in the typefaces they claim, and what
``to_mnist`` makes of them is ink a reader can judge."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mnist_digits.images.render import to_mnist
from mnist_digits.synthetic import doodles, pen
from mnist_digits.synthetic.families import (
    DOODLE_WARP,
    FAMILIES,
    NOT_A_DIGIT,
    PRINTED,
    render_family,
)
from mnist_digits.synthetic.fonts import font_files

LOOK_ALIKES = set("OoIlSZBbgq|/![]1")


def _bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_family_is_the_same_for_the_same_seed(name: str) -> None:
    first, again = render_family(name, 6, seed=3), render_family(name, 6, seed=3)
    other = render_family(name, 6, seed=4)
    assert [_bytes(i) for i, _ in first] == [_bytes(i) for i, _ in again]
    assert [_bytes(i) for i, _ in first] != [_bytes(i) for i, _ in other]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_labels_say_digit_or_not(name: str) -> None:
    family = FAMILIES[name]
    labels = {label for _, label in render_family(name, 30, seed=0)}
    if family.digits:
        assert labels <= set(range(10)) and len(labels) >= 5
    else:
        assert labels == {NOT_A_DIGIT}


@pytest.mark.parametrize("name", sorted(n for n, f in FAMILIES.items() if n != "noise-blank"))
def test_every_family_leaves_ink_after_preprocessing(name: str) -> None:
    found = [to_mnist(image).found for image, _ in render_family(name, 20, seed=0)]
    assert np.mean(found) >= 0.95


def test_noise_and_blank_pages_have_no_ink() -> None:
    items = [to_mnist(image) for image, _ in render_family("noise-blank", 40, seed=0)]
    assert not any(item.found for item in items)  # predict answers no_digit: flagged


def test_training_and_held_out_typefaces_are_disjoint_and_installed() -> None:
    train, held = set(font_files("train")), set(font_files("heldout"))
    assert len(train) >= 20 and len(held) >= 10, "run scripts/system-deps.sh for the fonts"
    assert not train & held


def test_each_split_has_its_own_families() -> None:
    splits = {f.split for f in FAMILIES.values()}
    assert splits == {"train", "heldout"}
    for split in splits:
        kinds = {f.digits for f in FAMILIES.values() if f.split == split}
        assert kinds == {True, False}, f"{split} needs digits and non-digits"


def test_printed_negatives_avoid_digit_look_alikes() -> None:
    assert not set(PRINTED) & LOOK_ALIKES
    assert not set(PRINTED) & set("0123456789")


def test_warp_bends_a_template_by_at_most_its_amplitude() -> None:
    strokes = [np.asarray(s, dtype=np.float64) for s in pen.LETTERS["H"]]
    moved = pen._warped(strokes, np.random.default_rng(5), DOODLE_WARP)
    shift = np.concatenate([m - s for m, s in zip(moved, strokes, strict=True)])
    # Two waves per axis of amplitude <= warp x size (1 here): nothing moves further than 2 x warp,
    # and something moves, or the held-out doodles would repeat.
    assert np.abs(shift).max() <= 2 * DOODLE_WARP
    assert np.abs(shift).max() > 0.1 * DOODLE_WARP


def test_doodles_fit_the_unit_box_and_copy_no_held_out_family() -> None:
    for name, strokes in doodles.DOODLES.items():
        pts = np.concatenate([np.asarray(s) for s in strokes])
        assert pts.min() >= -0.01 and pts.max() <= 1.01, name
    held = {"star", "heart", "spiral", "hatching", "K", "X", "Y", "U"}
    assert not held & set(doodles.DOODLES)
    assert not set(doodles.DOODLES) & (set(pen.LETTERS) | set(pen.SHAPES) | set(pen.MARKS))


def test_no_family_draws_a_doodle_that_looks_like_a_digit() -> None:
    assert set(doodles.LOOK_ALIKES) == set(doodles.AMBIGUOUS)
    assert not set(doodles.LOOK_ALIKES) & set(doodles.DOODLES)
    drawn = render_family("doodles-drawn-heldout", 1, 0)  # the family still draws
    assert drawn and drawn[0][1] == NOT_A_DIGIT
