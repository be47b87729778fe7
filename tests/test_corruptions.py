"""Tests for the MNIST-C corruptions on small synthetic batches (no real MNIST needed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.stats import poisson

from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.evaluation.corruptions import CORRUPTIONS, SEVERITY, corrupt

NAMES = [
    "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
    "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges",
]  # fmt: skip
NOT_RANDOM = {"brightness", "canny_edges"}

# Strokes drawn on a 4x canvas (112 px) and box-downsampled to 28 px, like MNIST's
# anti-aliased ink; every shape stays inside rows/cols 5..23 (MNIST's 20 px box).
STROKES: dict[str, list[tuple[str, Any]]] = {
    "zero": [("ellipse", (36, 20, 76, 92))],
    "one": [("line", [(56, 20), (56, 92)])],
    "seven": [("line", [(36, 24), (76, 24), (48, 92)])],
    "four": [("line", [(64, 20), (36, 68), (80, 68)]), ("line", [(64, 20), (64, 92)])],
    "two": [("line", [(36, 36), (56, 20), (76, 36), (36, 92), (80, 92)])],
    "eight": [("ellipse", (40, 20, 72, 54)), ("ellipse", (36, 54, 76, 92))],
}


def draw(strokes: list[tuple[str, Any]]) -> np.ndarray:
    """One 28 x 28 uint8 digit-like image from (kind, coordinates) strokes, 2.5 px wide."""
    canvas = Image.new("L", (112, 112), 0)
    pen = ImageDraw.Draw(canvas)
    for kind, xy in strokes:
        if kind == "ellipse":
            pen.ellipse(xy, outline=255, width=10)
        else:
            pen.line(xy, fill=255, width=10, joint="curve")
    return np.asarray(canvas.resize((28, 28), Image.Resampling.BOX), dtype=np.uint8)


DIGITS = np.stack([draw(s) for s in STROKES.values()])  # (6, 28, 28)
BATCH = np.concatenate([DIGITS] * 4)  # (24, 28, 28): more draws per test, still fast
EMPTY = np.zeros((20, 28, 28), dtype=np.uint8)


def bar() -> np.ndarray:
    """A vertical bar, rows 4..23 and columns 13..14, as a batch of 8 identical images."""
    x = np.zeros((8, 28, 28), dtype=np.uint8)
    x[:, 4:24, 13:15] = 255
    return x


def moments(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre of mass (2,) and covariance (2, 2) of an image's ink, in (row, col) pixels."""
    w = img.astype(np.float64)
    rows, cols = np.mgrid[0:28, 0:28]
    pts = np.stack([rows.ravel(), cols.ravel()], axis=1)  # (784, 2)
    mass = w.ravel() / w.sum()
    com = mass @ pts
    centred = pts - com
    return com, (centred * mass[:, None]).T @ centred


def ink(x: np.ndarray) -> np.ndarray:
    """Total ink per image, (N,) floats."""
    return x.astype(np.float64).sum(axis=(1, 2))


def axis_angle(img: np.ndarray) -> float:
    """Orientation of the ink's principal axis, degrees from vertical, in (-90, 90]."""
    _, cov = moments(img)
    return float(np.degrees(0.5 * np.arctan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1])))


def components(mask: np.ndarray) -> int:
    """Number of 8-connected components in a 2-D boolean mask."""
    return int(ndimage.label(mask, structure=np.ones((3, 3)))[1])


# ----------------------------------------------------------------------------- common


def test_registry_names_and_order() -> None:
    assert list(CORRUPTIONS) == NAMES
    assert list(SEVERITY) == NAMES
    assert all(isinstance(v, str) and "\n" not in v for v in SEVERITY.values())


@pytest.mark.parametrize("name", NAMES)
def test_shape_dtype_and_input_untouched(name: str) -> None:
    before = BATCH.copy()
    out = corrupt(BATCH, name, seed=3)
    assert out.shape == BATCH.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(BATCH, before)
    assert not np.array_equal(out, BATCH)
    assert corrupt(BATCH[:0], name).shape == (0, 28, 28)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_a_seed(name: str) -> None:
    np.testing.assert_array_equal(corrupt(BATCH, name, seed=5), corrupt(BATCH, name, seed=5))
    differs = not np.array_equal(corrupt(BATCH, name, seed=5), corrupt(BATCH, name, seed=6))
    assert differs == (name not in NOT_RANDOM)


def _corrupt_all(images: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Every corruption of one batch, in ``CORRUPTIONS`` order."""
    return {name: corrupt(images, name, seed) for name in CORRUPTIONS}


def test_every_corruption_applies_in_registry_order() -> None:
    out = _corrupt_all(DIGITS, seed=1)
    assert list(out) == NAMES
    np.testing.assert_array_equal(out["rotate"], corrupt(DIGITS, "rotate", seed=1))


def test_unknown_name_is_a_one_line_error_listing_names() -> None:
    with pytest.raises(MnistDigitsError) as info:
        corrupt(DIGITS, "snow")
    message = str(info.value)
    assert "'snow'" in message and "\n" not in message
    assert all(name in message for name in NAMES)


@pytest.mark.parametrize(
    "bad", [DIGITS.astype(np.float32), DIGITS[0], np.zeros((2, 32, 32), np.uint8)]
)
def test_wrong_images_are_a_one_line_error(bad: np.ndarray) -> None:
    with pytest.raises(MnistDigitsError, match=r"uint8 images of shape \(N, 28, 28\)"):
        corrupt(bad, "shear")


# ----------------------------------------------------------------------------- noise


def test_shot_noise_changes_ink_at_the_poisson_rate() -> None:
    many = np.concatenate([DIGITS] * 20)  # about 3,000 full-ink pixels
    out = corrupt(many, "shot_noise")
    assert np.all(out[many == 0] == 0)  # no photons, no noise
    full = many == 255
    # Full ink stays 255 only when at least 60 photons arrive (counts above 60 clip to 255).
    expected = poisson.cdf(59, 60)  # P(count < 60), about 0.47
    assert np.mean(out[full] != 255) == pytest.approx(expected, abs=0.04)
    assert 0.9 < ink(out).sum() / ink(many).sum() < 1.02


def test_impulse_noise_replaces_27_percent_with_salt_and_pepper() -> None:
    many = np.concatenate([DIGITS] * 10)
    out = corrupt(many, "impulse_noise")
    changed = out != many
    assert set(np.unique(out[changed])) <= {0, 255}
    assert np.mean(out[many == 0] == 255) == pytest.approx(0.135, abs=0.015)  # salt
    assert np.mean(out[many == 255] == 0) == pytest.approx(0.135, abs=0.03)  # pepper


# ----------------------------------------------------------------------------- blur


def test_glass_blur_keeps_ink_local_but_is_not_a_plain_blur() -> None:
    out = corrupt(BATCH, "glass_blur")
    np.testing.assert_allclose(ink(out), ink(BATCH), rtol=0.05)
    # One sweep can carry a pixel along a chain of swaps (7 px seen), but rarely: under 1%
    # of the ink ends up more than 4 px from the original strokes.
    dist = np.stack([ndimage.distance_transform_edt(img == 0) for img in BATCH])  # px to ink
    assert out[dist > 4].astype(np.float64).sum() < 0.01 * ink(out).sum()
    plain = ndimage.gaussian_filter(BATCH.astype(float), 0.7 * np.sqrt(2), axes=(1, 2))
    assert np.abs(out - plain).mean() > 2.0  # the pixel shuffle shows


def test_motion_blur_streaks_a_dot_along_one_direction() -> None:
    dots = np.zeros((10, 28, 28), dtype=np.uint8)
    dots[:, 13:15, 13:15] = 255
    out = corrupt(dots, "motion_blur")
    np.testing.assert_allclose(ink(out), ink(dots), rtol=0.05)
    for img in out:
        _, cov = moments(img)
        small, large = np.linalg.eigvalsh(cov)
        assert large > 4 * small and np.sqrt(large) > 1.5  # a line, not a blob


# ----------------------------------------------------------------------------- geometry


def test_shear_slants_a_vertical_bar() -> None:
    x = bar()
    out = corrupt(x, "shear")
    np.testing.assert_allclose(ink(out), ink(x), rtol=0.05)
    rows = np.arange(6, 22)  # away from the bar's ends
    for img in out.astype(np.float64):
        col_centre = (img[rows] * np.arange(28)).sum(axis=1) / img[rows].sum(axis=1)
        slope = np.polyfit(rows, col_centre, 1)[0]
        assert 0.28 < abs(slope) < 0.52


def test_scale_changes_the_spread_by_the_documented_factor() -> None:
    out = corrupt(BATCH, "scale")
    ratios = [
        np.sqrt(np.trace(moments(o)[1]) / np.trace(moments(i)[1]))
        for o, i in zip(out, BATCH, strict=True)
    ]
    for r in ratios:
        assert 0.66 < r < 0.82 or 1.22 < r < 1.46
    assert min(ratios) < 1 < max(ratios)  # both shrinking and enlarging happen


def test_rotate_turns_the_axis_and_keeps_ink() -> None:
    x = bar()
    out = corrupt(x, "rotate")
    np.testing.assert_allclose(ink(out), ink(x), rtol=0.05)
    turns = [abs(axis_angle(img)) for img in out]
    assert all(23 < t < 42 for t in turns)
    digits = corrupt(BATCH, "rotate")
    np.testing.assert_allclose(ink(digits), ink(BATCH), rtol=0.05)


def test_translate_moves_the_centre_of_mass_by_whole_pixels() -> None:
    out = corrupt(BATCH, "translate")
    for o, i in zip(out, BATCH, strict=True):
        # Cropping at the border (up to 19% of ink seen) pulls the centre back by up to 2 px.
        assert 3.0 < np.hypot(*(moments(o)[0] - moments(i)[0])) < 6.0
        # A pure whole-pixel shift: exactly one shift of the zero-padded input gives the output.
        shifts = [(dy, dx) for dy in range(-6, 7) for dx in range(-6, 7)]
        moved = [np.roll(np.pad(i, 8), s, axis=(0, 1))[8:-8, 8:-8] for s in shifts]
        matches = [s for s, mv in zip(shifts, moved, strict=True) if np.array_equal(o, mv)]
        assert len(matches) == 1 and 4.2 <= np.hypot(*matches[0]) <= 5.7


# ----------------------------------------------------------------------------- appearance


def test_brightness_lifts_black_to_grey_and_keeps_white() -> None:
    out = corrupt(BATCH, "brightness")
    assert np.all(out[BATCH == 0] == 102) and np.all(out[BATCH == 255] == 255)
    assert out.mean() > BATCH.mean() + 80


def test_stripe_inverts_one_three_pixel_band() -> None:
    out = corrupt(BATCH, "stripe")
    for o, i in zip(out, BATCH, strict=True):
        cols = np.flatnonzero(np.any(o != i, axis=0))
        assert len(cols) == 3 and cols[2] - cols[0] == 2 and 10 <= cols[0] <= 15
        np.testing.assert_array_equal(o[:, cols], 255 - i[:, cols])
        assert np.all(o[:, cols] == 255, axis=1).sum() >= 8  # a white line above and below


def test_fog_adds_smooth_clouds_under_visible_ink() -> None:
    fogged = corrupt(EMPTY, "fog").astype(np.float64)
    assert fogged.mean() > 20 and np.all(fogged.max(axis=(1, 2)) >= 120)
    right = fogged[:, :, 1:].ravel() - fogged.mean()
    left = fogged[:, :, :-1].ravel() - fogged.mean()
    assert np.corrcoef(right, left)[0, 1] > 0.9  # clouds, not pixel noise
    out = corrupt(BATCH, "fog")
    assert np.all(out[BATCH == 255] >= 127)  # full ink sits above any fog


def test_spatter_adds_a_few_grey_blobs() -> None:
    out = corrupt(EMPTY, "spatter")
    covered = out > 0
    assert 0.01 < covered.mean() < 0.12
    assert out.max() <= 180
    sizes = [covered[k].sum() / max(components(covered[k]), 1) for k in range(len(out))]
    assert np.mean(sizes) >= 3  # blobs, not single-pixel noise


# ----------------------------------------------------------------------------- lines


def test_dotted_line_draws_collinear_dashes() -> None:
    out = corrupt(EMPTY, "dotted_line")
    assert set(np.unique(out)) == {0, 255}
    for img in out:
        pts = np.argwhere(img > 0).astype(np.float64)
        spread = np.linalg.eigvalsh(np.cov(pts.T))
        assert np.sqrt(spread[0]) < 0.7 and np.sqrt(spread[1]) > 4  # thin and long
        assert components(img > 0) >= 4  # gaps between dashes


def test_zigzag_draws_one_connected_bent_path() -> None:
    out = corrupt(EMPTY, "zigzag")
    assert set(np.unique(out)) == {0, 255}
    for img in out:
        assert components(img > 0) == 1
        spread = np.linalg.eigvalsh(np.cov(np.argwhere(img > 0).T.astype(np.float64)))
        assert np.sqrt(spread[0]) > 1.2  # wider than a straight 1 px line


# ----------------------------------------------------------------------------- edges


def test_canny_outlines_a_filled_square_with_thin_edges() -> None:
    square = np.zeros((1, 28, 28), dtype=np.uint8)
    square[0, 8:20, 8:20] = 255
    edges = corrupt(square, "canny_edges")[0]
    assert set(np.unique(edges)) == {0, 255}
    on = edges > 0
    inside = ndimage.distance_transform_edt(square[0] > 0)  # px to the square's boundary
    outside = ndimage.distance_transform_edt(square[0] == 0)
    assert np.all(np.maximum(inside, outside)[on] <= 2)  # edges hug the boundary
    assert 30 <= on.sum() <= 70  # about the 44 px perimeter, not a filled band
    full_2x2 = on[:-1, :-1] & on[1:, :-1] & on[:-1, 1:] & on[1:, 1:]
    assert full_2x2.sum() <= 4  # thin: corners at most
    digits = corrupt(DIGITS, "canny_edges")
    assert np.all((digits > 0).sum(axis=(1, 2)) > 20)
