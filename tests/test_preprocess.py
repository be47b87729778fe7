"""Tests for mnist_digits.images: every input kind through one path to MNIST's 28x28."""

from __future__ import annotations

import io
import struct
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).parent))  # tests/imagegen.py, without a package

import imagegen

from mnist_digits.core.errors import ImageError
from mnist_digits.core.limits import MAX_PIXELS
from mnist_digits.images.decode import load_image
from mnist_digits.images.numbers import split_digits
from mnist_digits.images.render import Preprocessed, mnist_format, to_mnist

# --------------------------------------------------------------------------------------------
# Helpers


def _coverage(digit: int = 4, size: int = 200, pen: float = 14, **kw: float) -> np.ndarray:
    """Ink coverage (size, size) float32 0..1 of one digit, centred unless told otherwise."""
    kw.setdefault("height", 0.7 * size)
    centre = kw.pop("cx", size / 2), kw.pop("cy", size / 2)
    big = imagegen.draw_digit(digit, size=(size, size), pen=pen, centre=centre, **kw)
    return np.asarray(big.reduce(2), dtype=np.float32) / 255


def _grey(cov: np.ndarray, paper: float = 255, ink: float = 0) -> np.ndarray:
    """(H, W) uint8 picture of ``cov`` with given paper and ink levels."""
    return np.round(paper + (ink - paper) * cov).astype(np.uint8)


def _png(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two 28x28 images (1 = same up to brightness/contrast)."""
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(np.corrcoef(x, y)[0, 1])


def _longer_side(image28: np.ndarray) -> int:
    rows, cols = np.flatnonzero(image28.any(axis=1)), np.flatnonzero(image28.any(axis=0))
    return int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))


def _assert_mnist_like(res: Preprocessed) -> None:
    """Found, uint8 28x28, centre of mass at (14, 14) +- 1 px, longer side ~20 px."""
    assert res.found
    assert res.image28.shape == (28, 28) and res.image28.dtype == np.uint8
    assert res.image28.max() == 255
    cy, cx = ndimage.center_of_mass(res.image28.astype(np.float64))
    rows, cols = np.flatnonzero(res.image28.any(axis=1)), np.flatnonzero(res.image28.any(axis=0))
    # Within 1 px of (14, 14), unless the shift was clamped so the digit is not cut (a "7"
    # has its mass high up: centring it would push its foot off the bottom).
    assert abs(cy - 14) <= 1 or (rows[-1] == 27 if cy < 14 else rows[0] == 0), (cy, cx)
    assert abs(cx - 14) <= 1 or (cols[-1] == 27 if cx < 14 else cols[0] == 0), (cy, cx)
    assert 19 <= _longer_side(res.image28) <= 21
    assert 0 < res.ink_fraction < 1
    assert res.bbox is not None and all(type(v) is int for v in res.bbox)


REFERENCE_COV = _coverage()
REFERENCE = to_mnist(_grey(REFERENCE_COV)).image28  # dark ink on white, plain L array


# --------------------------------------------------------------------------------------------
# Input kinds and modes


def _rgba(cov: np.ndarray, value: int, under: int = 0) -> Image.Image:
    rgb = np.where(cov[..., None] > 0, value, under) * np.ones(3)
    return Image.fromarray(np.dstack([rgb, cov * 255]).round().astype(np.uint8))


def _p_transparent(cov: np.ndarray) -> Image.Image:
    img = Image.fromarray(_grey(cov)).convert("P")
    img.info["transparency"] = 255  # palette index of white paper in a greyscale P image
    return img


MODES = {
    "L": lambda c: Image.fromarray(_grey(c)),
    "RGB": lambda c: Image.fromarray(_grey(c)).convert("RGB"),
    "RGBA opaque": lambda c: Image.fromarray(_grey(c)).convert("RGBA"),
    "RGBA black on transparent": lambda c: _rgba(c, 0),
    "RGBA black on transparent white": lambda c: _rgba(c, 0, under=255),
    "RGBA white on transparent": lambda c: _rgba(c, 255),
    "LA": lambda c: Image.merge(
        "LA", [Image.new("L", c.T.shape, 0), Image.fromarray(_grey(c, 0, 255))]
    ),
    "P": lambda c: Image.fromarray(_grey(c)).convert("RGB").quantize(16),
    "P transparent": _p_transparent,
    "1": lambda c: Image.fromarray(_grey(c)).convert("1", dither=Image.Dither.NONE),
    "I;16": lambda c: Image.fromarray(_grey(c).astype(np.uint16) * 257),
    "I": lambda c: Image.fromarray(_grey(c).astype(np.int32) * 100),
    "F": lambda c: Image.fromarray(_grey(c).astype(np.float32) / 255),
    "CMYK": lambda c: Image.fromarray(_grey(c)).convert("RGB").convert("CMYK"),
    "array uint8 HxW": _grey,
    "array uint8 HxWx1": lambda c: _grey(c)[..., None],
    "array uint8 HxWx3": lambda c: np.dstack([_grey(c)] * 3),
    "array uint8 HxWx4": lambda c: np.asarray(_rgba(c, 0)),
    "array float 0..1": lambda c: 1.0 - c,
    "array float64 0..255 RGB": lambda c: np.dstack([_grey(c).astype(np.float64)] * 3),
    "array bool": lambda c: c < 0.5,
}


@pytest.mark.parametrize("mode", list(MODES))
def test_every_input_mode_gives_the_same_digit(mode: str) -> None:
    src = MODES[mode](REFERENCE_COV)
    if isinstance(src, Image.Image):
        assert src.mode == mode.split()[0]  # the case really tests that PIL mode
    res = to_mnist(src)
    _assert_mnist_like(res)
    assert _corr(res.image28, REFERENCE) > 0.9, mode


@pytest.mark.parametrize("kind", ["path", "pathlib", "bytes", "bytearray", "pil"])
def test_every_source_kind(kind: str, tmp_path: Path) -> None:
    img = Image.fromarray(_grey(REFERENCE_COV))
    data = _png(img)
    (tmp_path / "d.png").write_bytes(data)
    src: object = {
        "path": str(tmp_path / "d.png"),
        "pathlib": tmp_path / "d.png",
        "bytes": data,
        "bytearray": bytearray(data),
        "pil": img,
    }[kind]
    assert np.array_equal(to_mnist(src).image28, REFERENCE)  # type: ignore[arg-type]


@pytest.mark.parametrize("colour", [(20, 40, 160), (190, 20, 30), (230, 200, 0), (20, 120, 40)])
def test_coloured_ink_keeps_its_contrast(colour: tuple[int, int, int]) -> None:
    paper = np.array([250, 248, 240], dtype=np.float64)
    rgb = paper + (np.array(colour) - paper) * REFERENCE_COV[..., None]
    res = to_mnist(rgb.round().astype(np.uint8))
    _assert_mnist_like(res)
    assert res.inverted
    assert _corr(res.image28, REFERENCE) > 0.9


def test_polarity_is_detected_and_both_give_the_same_digit() -> None:
    dark = to_mnist(_grey(REFERENCE_COV, 255, 0))
    light = to_mnist(_grey(REFERENCE_COV, 0, 255))
    grey_paper = to_mnist(_grey(REFERENCE_COV, 110, 10))  # dark ink on mid-grey paper
    assert dark.inverted and not light.inverted and grey_paper.inverted
    assert np.abs(dark.image28.astype(int) - light.image28).mean() < 3
    assert _corr(grey_paper.image28, dark.image28) > 0.95


def test_transparent_canvas_polarity_follows_the_stroke_colour() -> None:
    assert to_mnist(_rgba(REFERENCE_COV, 0)).inverted
    assert not to_mnist(_rgba(REFERENCE_COV, 255)).inverted


def test_exif_orientation_is_honoured() -> None:
    upright = Image.fromarray(_grey(_coverage(7, size=160))).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone held sideways saves it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    data = _png(stored, "JPEG", exif=exif, quality=95)
    assert load_image(data).size == upright.size
    assert _corr(to_mnist(data).image28, to_mnist(upright).image28) > 0.95


def test_first_frame_of_an_animation_is_used() -> None:
    frames = [Image.fromarray(_grey(_coverage(d, size=120))).convert("P") for d in (1, 7)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    first = to_mnist(frames[0]).image28
    assert np.array_equal(to_mnist(buf.getvalue()).image28, first)
    anim = Image.open(io.BytesIO(buf.getvalue()))
    anim.seek(1)
    assert np.array_equal(to_mnist(anim).image28, first)


# --------------------------------------------------------------------------------------------
# Geometry: crop, scale, centre


@pytest.mark.parametrize("seed", [0, 1])
def test_generated_user_images_are_centred_and_scaled(seed: int) -> None:
    for img, digit, kind in imagegen.make_user_images(30, seed):
        res = to_mnist(img)
        try:
            _assert_mnist_like(res)
        except AssertionError as exc:
            raise AssertionError(f"digit {digit} kind {kind} size {img.size}: {exc}") from exc
        assert res.inverted == (kind in ("dark_on_light", "rgba_dark", "font", "photo"))


@pytest.mark.parametrize(("cx", "cy"), [(40, 40), (160, 45), (100, 160), (45, 150)])
def test_off_centre_and_edge_digits(cx: float, cy: float) -> None:
    cov = _coverage(2, size=200, pen=8, height=80, cx=cx, cy=cy)
    res = to_mnist(_grey(cov))
    _assert_mnist_like(res)
    assert _corr(res.image28, to_mnist(_grey(_coverage(2, pen=8, height=80))).image28) > 0.9


def test_digit_cut_by_the_image_edge_still_reads() -> None:
    res = to_mnist(_grey(_coverage(0, size=200, pen=12, height=150, cx=100, cy=40)))
    _assert_mnist_like(res)
    assert res.bbox is not None and res.bbox[1] == 0  # ink touches the top edge


def test_bbox_is_in_input_pixels_even_for_large_inputs() -> None:
    big = imagegen.draw_digit(1, size=(3000, 2000), pen=40, height=700, centre=(2200, 900))
    canvas = _grey(np.asarray(big.reduce(2), dtype=np.float32) / 255)  # (2000, 3000)
    res = to_mnist(canvas)
    assert res.found and res.bbox is not None
    left, top, right, bottom = res.bbox
    cols = np.flatnonzero((canvas < 128).any(axis=0))
    rows = np.flatnonzero((canvas < 128).any(axis=1))
    assert abs(left - cols[0]) <= 4 and abs(right - cols[-1] - 1) <= 4
    assert abs(top - rows[0]) <= 4 and abs(bottom - rows[-1] - 1) <= 4
    assert abs(res.ink_fraction - np.mean(canvas < 128)) < 0.01


@pytest.mark.parametrize("side", [12, 16, 28])
def test_small_scans_keep_their_whole_strokes(side: int) -> None:
    """A digit saved at 12-28 px (a low-resolution scan, MNIST's own size) has its ink map
    upscaled before thresholding, so its blurry strokes stay whole: it reads as the same
    digit drawn large, and its bbox is in the small image's own pixels."""
    cov = _coverage(0, size=200, pen=14, height=150)
    large = to_mnist(_grey(cov)).image28
    small = Image.fromarray(_grey(cov)).resize((side, side), Image.Resampling.BOX)
    res = to_mnist(small)
    _assert_mnist_like(res)
    assert _corr(res.image28, large) > 0.8
    assert res.bbox is not None and 0 <= res.bbox[0] < res.bbox[2] <= side
    assert 0 <= res.bbox[1] < res.bbox[3] <= side


def test_detail_is_the_pixels_a_digit_was_resolved_at_whatever_its_size() -> None:
    """An 8 px scan and that scan enlarged 8x carry the same detail; the digit at 28 px
    carries more, and drawn sharply at 200 px more still. An image taken as it is has no
    measure (infinite)."""
    big = Image.fromarray(_grey(_coverage(3, size=200, pen=14, height=150)))
    scan = big.resize((8, 8), Image.Resampling.BOX)
    d8 = to_mnist(scan).detail
    d64 = to_mnist(scan.resize((64, 64), Image.Resampling.BICUBIC)).detail
    d128 = to_mnist(scan.resize((128, 128), Image.Resampling.BICUBIC)).detail
    d28 = to_mnist(big.resize((28, 28), Image.Resampling.BOX)).detail
    assert abs(d64 - d8) < 0.2 * d8 and abs(d128 - d8) < 0.2 * d8, (d8, d64, d128)
    assert 1.5 * d8 < d28 < to_mnist(big).detail, (d8, d28)
    assert to_mnist(to_mnist(big).image28).detail == np.inf  # MNIST's format, read as it is


# Each view of a tight crop, and how closely its 28x28 must match the digit with margins: 8x8
# blocks keep only the digit's gist (64 pixels for a 150 px digit).
TIGHT = {
    "as cut": (lambda t: t, 0.8),
    "8x8 blocks, like a coarse scan": (
        lambda t: np.asarray(Image.fromarray(t).resize((8, 8), Image.Resampling.BOX)),
        0.6,
    ),
    "enlarged 4x": (
        lambda t: np.asarray(
            Image.fromarray(t).resize((4 * t.shape[1], 4 * t.shape[0]), Image.Resampling.BICUBIC)
        ),
        0.8,
    ),
}


@pytest.mark.parametrize("view", list(TIGHT))
def test_a_tight_crop_is_read_like_the_same_digit_with_margins(view: str) -> None:
    """Ink at the edges of digital paper (half the border at one exact level) is a tight
    crop, not uneven light: the paper level is the border's, not a map of block medians that
    the strokes fill (which found no digit, or half of one)."""
    with_margin = _grey(_coverage(4, size=200, pen=14, height=150))
    make, floor = TIGHT[view]
    tight = make(imagegen.tight_crop(with_margin))
    assert (tight[0] < 200).any() and (tight[:, 0] < 200).any()  # the ink reaches the edges
    res = to_mnist(tight)
    _assert_mnist_like(res)
    assert _corr(res.image28, to_mnist(with_margin).image28) > floor


def test_a_scan_whose_ink_takes_most_of_its_border_finds_its_paper() -> None:
    """Under half the border lies near its median, so the paper is the level a third of the
    border lies at exactly (white here); before, a map of block medians took the strokes for paper
    and no digit was found in 2% of validation 8x8 scans."""
    scan = imagegen.BOLD_SCAN
    ring = np.concatenate([scan[0], scan[-1], scan[:, 0], scan[:, -1]])
    assert np.mean(np.abs(ring.astype(int) - np.median(ring)) <= 25) < 0.5  # the hard case
    res = to_mnist(scan)
    _assert_mnist_like(res)
    assert res.inverted  # dark ink on white paper
    assert res.bbox == (0, 0, 8, 8)  # the ink reaches every edge


def test_a_tight_crop_of_a_thin_one_is_read() -> None:
    """3 px wide: its noise is measured on pairs of paper down the columns too; across alone
    there are two pairs a row, most crossing the stroke, and no digit was found."""
    thin = imagegen.thin_one(3)
    assert thin.shape == (20, 3) and thin.min() == 0 and thin.max() == 255
    res = to_mnist(thin)
    _assert_mnist_like(res)
    assert res.bbox == (0, 0, 3, 20)
    assert np.count_nonzero(res.image28.any(axis=0)) < 10  # still a narrow stroke


def test_an_image_is_refused_only_when_its_longer_side_is_under_4_px() -> None:
    assert to_mnist(imagegen.thin_one(2)).found  # 2 px wide is a crop, not too small to read
    with pytest.raises(ImageError, match=r"^array is only 3x3 pixels; use an image at least 4 "):
        to_mnist(np.full((3, 3), 255, np.uint8))


def test_a_one_pixel_speck_in_a_small_image_stays_a_speck() -> None:
    pixels = np.full((24, 24), 255, np.uint8)
    pixels[4:20, 11:13] = 0  # a "1", 16 px tall
    pixels[2, 2] = 0  # a speck of one input pixel, upscaled to several working pixels
    res = to_mnist(pixels)
    assert res.found and res.bbox is not None and res.bbox[0] >= 10


def test_thin_strokes_on_a_large_canvas_survive() -> None:
    cov = _coverage(3, size=1000, pen=3, height=700)
    res = to_mnist(_grey(cov))
    _assert_mnist_like(res)
    thick = to_mnist(_grey(_coverage(3, size=200, pen=14, height=140))).image28
    assert _corr(res.image28, thick) > 0.85
    # MNIST-like stroke: about 2-3 px of full-strength ink across, so ink mass per pixel of
    # skeleton length is ~2-3; a 3 px pen scaled naively would be ~0.1 px and vanish.
    strong = int(np.count_nonzero(res.image28 > 128))
    assert 50 <= strong <= 200
    assert imagegen.naive_resize(_grey(cov)).min() > 100  # the baseline loses the digit


def test_photographed_paper_with_uneven_light() -> None:
    cov = _coverage(5, size=300, pen=9, height=200)
    yy, xx = np.mgrid[0:300, 0:300]
    light = 1.0 - 0.55 * (xx + yy) / 600  # shadow across the page: paper 250 -> 110
    rgb = (245 * (1 - cov) + 30 * cov) * light
    noisy = rgb[..., None] * np.array([1.0, 0.97, 0.9]) + np.random.default_rng(0).normal(
        0, 6, (300, 300, 3)
    )
    data = _png(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)), "JPEG", quality=70)
    res = to_mnist(data)
    _assert_mnist_like(res)
    assert res.inverted
    assert _corr(res.image28, to_mnist(_grey(cov)).image28) > 0.85


# --------------------------------------------------------------------------------------------
# Empty images


def _specks() -> np.ndarray:
    img = np.full((300, 300), 250, dtype=np.uint8)
    for y, x in [(40, 50), (200, 120), (260, 260)]:
        img[y : y + 3, x : x + 2] = 0  # dust: 2-3 px dots
    return img


EMPTY = {
    "white": lambda: np.full((200, 200), 255, dtype=np.uint8),
    "black": lambda: np.zeros((64, 64), dtype=np.uint8),
    "uniform colour": lambda: np.full((100, 150, 3), (120, 200, 30), dtype=np.uint8),
    "transparent": lambda: np.zeros((100, 100, 4), dtype=np.uint8),
    "specks": _specks,
    "gradient": lambda: np.tile(np.linspace(80, 240, 300), (200, 1)).astype(np.uint8),
    "noise": lambda: np.clip(np.random.default_rng(1).normal(200, 8, (200, 200)), 0, 255).astype(
        np.uint8
    ),
    # Small images take other rules for their paper and noise (ink reaches their edges).
    "small noise": lambda: (
        np.clip(np.random.default_rng(2).normal(200, 8, (24, 24)), 0, 255).round().astype(np.uint8)
    ),
    "small white": lambda: np.full((8, 8), 255, dtype=np.uint8),
    "small gradient": lambda: np.tile(np.linspace(80, 240, 40), (30, 1)).astype(np.uint8),
}


@pytest.mark.parametrize("name", list(EMPTY))
def test_empty_images_are_not_guessed(name: str) -> None:
    src = EMPTY[name]()
    res = to_mnist(src)
    assert not res.found
    assert res.bbox is None and res.ink_fraction == 0.0
    assert res.image28.shape == (28, 28) and res.image28.dtype == np.uint8
    assert not res.image28.any()
    assert split_digits(src) == []


# --------------------------------------------------------------------------------------------
# Bad input


def _png_header(width: int, height: int) -> bytes:
    """A valid-looking PNG whose header claims ``width`` x ``height`` (data is tiny)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _noise_png() -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    return _png(Image.fromarray(pixels))


BAD_BYTES = {
    "empty": (b"", "empty"),
    "truncated png": (_noise_png()[:20_000], "truncated"),
    "truncated jpeg": (_png(Image.new("RGB", (300, 300), "red"), "JPEG")[:300], "truncated"),
    "html": (b"<!DOCTYPE html><html><body>Not found</body></html>\n", "HTML"),
    "text": (b"hello, this is a note and not a picture\n", "text"),
    "pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + bytes(range(256)), "format"),
    "random": (bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)), "format"),
    "1x1": (_png(Image.new("L", (1, 1))), "1x1"),
    "3x2": (_png(Image.new("RGB", (3, 2))), "3x2"),
    "bomb": (_png_header(100_000, 100_000), "pixels"),
    "50 MP": (_png_header(10_000, 5_000), "pixels"),
}


def _assert_one_line(exc: pytest.ExceptionInfo[ImageError], word: str) -> None:
    msg = str(exc.value)
    assert "\n" not in msg and "\r" not in msg
    assert word.lower() in msg.lower(), msg
    assert ";" in msg  # what was wrong; what to do


@pytest.mark.parametrize("name", list(BAD_BYTES))
def test_bad_bytes_raise_one_line_image_error(name: str, tmp_path: Path) -> None:
    data, word = BAD_BYTES[name]
    with pytest.raises(ImageError) as exc:
        to_mnist(data)
    _assert_one_line(exc, word)
    path = tmp_path / "upload.png"  # same content named like an image
    path.write_bytes(data)
    with pytest.raises(ImageError) as exc:
        split_digits(path)
    _assert_one_line(exc, word)


def test_bomb_is_refused_from_the_header_fast_and_quietly() -> None:
    for data in (_png_header(100_000, 100_000), _png_header(12_000, 12_000)):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # PIL's DecompressionBombWarning must not leak
            with pytest.raises(ImageError, match="pixels"):
                load_image(data)
        assert time.perf_counter() - start < 0.5


def test_pixel_and_byte_limits_are_configurable(tmp_path: Path) -> None:
    data = _png(Image.fromarray(_grey(REFERENCE_COV)))
    with pytest.raises(ImageError, match="pixel"):
        to_mnist(data, max_pixels=10_000)
    with pytest.raises(ImageError, match="bytes"):
        to_mnist(data, max_bytes=len(data) - 1)
    path = tmp_path / "big.png"
    path.write_bytes(data)
    with pytest.raises(ImageError, match="limit"):
        load_image(path, max_bytes=100)
    assert MAX_PIXELS == 40_000_000
    assert to_mnist(path, max_bytes=len(data)).found


@pytest.mark.parametrize(
    ("src", "word"),
    [
        ("/no/such/dir/digit.png", "does not exist"),
        (Path("/"), "not a file"),
        (12345, "int"),
        (np.zeros((10, 10, 2), dtype=np.uint8), "shape"),
        (np.zeros((3, 3), dtype=np.uint8), "only 3x3"),
        (np.full((10, 10), np.nan), "NaN"),
        (np.array([["a"] * 10] * 10), "dtype"),
    ],
)
def test_other_bad_sources(src: object, word: str) -> None:
    with pytest.raises(ImageError) as exc:
        to_mnist(src)  # type: ignore[arg-type]
    _assert_one_line(exc, word)


# --------------------------------------------------------------------------------------------
# split_digits


@pytest.mark.parametrize(("number", "seed"), [("2026", 0), ("147", 1), ("90", 2), ("3855", 3)])
def test_split_digits_counts_and_orders(number: str, seed: int) -> None:
    img = imagegen.make_number_image(number, seed)
    pieces = split_digits(img)
    assert len(pieces) == len(number)
    lefts = [p.bbox[0] for p in pieces if p.bbox is not None]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts)
    for piece, ch in zip(pieces, number, strict=True):
        _assert_mnist_like(piece)
        single = to_mnist(imagegen.make_number_image(ch, seed)).image28
        assert _corr(piece.image28, single) > 0.6, ch


def test_split_digits_merges_a_broken_five() -> None:
    img = imagegen.make_number_image("5", 4, broken=True)
    assert len(split_digits(img)) == 1
    assert to_mnist(img).found


@pytest.mark.parametrize(
    ("number", "seed", "touching"),
    [("40", 6, True), ("2026", 0, [1]), ("2026", 1, [2]), ("5386", 3, [3]), ("3805", 5, [1])],
)
def test_split_digits_cuts_touching_digits(number: str, seed: int, touching: list[int]) -> None:
    # Simple cases only: a thin contact, or a piece 1.5x as wide as the other digits. Over
    # 60 random 3-4 digit numbers with one touching pair, 47 split right; most misses
    # involve a narrow "1" (documented in split_digits).
    img = imagegen.make_number_image(number, seed, touching=touching, broken=False)
    mask = np.asarray(img.convert("L")) < 128
    n_parts = ndimage.label(mask, np.ones((3, 3)))[1]
    assert n_parts == len(number) - (1 if touching is not True else len(number) - 1)
    pieces = split_digits(img)
    assert len(pieces) == len(number)
    lefts = [p.bbox[0] for p in pieces if p.bbox is not None]
    assert lefts == sorted(lefts)


def test_split_digits_does_not_cut_a_wide_single_digit() -> None:
    for digit in (0, 3, 4, 7, 9):
        big = imagegen.draw_digit(digit, size=(300, 300), pen=12, height=200, centre=(150, 150),
                                  aspect=1.0)  # fmt: skip
        assert len(split_digits(255 - np.asarray(big.reduce(2)))) == 1, digit


def test_split_single_digit_matches_to_mnist() -> None:
    src = _grey(REFERENCE_COV)
    (piece,) = split_digits(src)
    assert np.array_equal(piece.image28, to_mnist(src).image28)


# --------------------------------------------------------------------------------------------
# naive_resize, generator


def test_naive_resize_shows_the_gap() -> None:
    cov = _coverage(6, size=400, pen=10, height=120, cx=90, cy=300)
    naive = imagegen.naive_resize(_grey(cov))
    assert naive.shape == (28, 28) and naive.dtype == np.uint8
    ours = to_mnist(_grey(cov)).image28
    reference = to_mnist(_grey(_coverage(6, pen=14))).image28
    assert _corr(ours, reference) > 0.85
    assert _corr(255 - naive, reference) < 0.3


def test_generator_is_deterministic_and_covers_all_kinds() -> None:
    first = imagegen.make_user_images(12, seed=7)
    second = imagegen.make_user_images(12, seed=7)
    assert [(d, k) for _, d, k in first] == [(d, k) for _, d, k in second]
    assert all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for (a, _, _), (b, _, _) in zip(first, second, strict=True)
    )
    assert {k for _, _, k in first} == set(imagegen.KINDS)
    assert {d for _, d, _ in first} == set(range(10))
    assert any(img.mode == "RGBA" for img, _, _ in first)


def _formatted() -> np.ndarray:
    """A digit as to_mnist leaves it: MNIST's format."""
    return to_mnist(imagegen.make_user_images(1, seed=5)[0][0]).image28


def test_an_image_already_in_mnist_format_is_read_as_it_is() -> None:
    digit = _formatted()
    for image in (digit, Image.fromarray(digit), Image.fromarray(digit).convert("RGB")):
        out = to_mnist(image)
        assert out.found and not out.inverted and np.array_equal(out.image28, digit)
    assert not np.array_equal(to_mnist(digit, as_is=False).image28, digit), "the whole path"


@pytest.mark.parametrize("change", ["off-centre", "too-big", "coloured", "faint", "transparent"])
def test_near_misses_of_the_mnist_format_take_the_whole_path(change: str) -> None:
    digit = _formatted()
    if change == "off-centre":
        image = Image.fromarray(np.roll(digit, 3, axis=1))
    elif change == "too-big":
        big = digit.copy()
        big[2, 2] = big[25, 25] = 255  # nonzero pixels beyond a 20 px box
        image = Image.fromarray(big)
    elif change == "coloured":
        rgb = np.stack([digit, digit // 2, digit], axis=-1)
        image = Image.fromarray(rgb)
    elif change == "faint":
        image = Image.fromarray((digit // 3).astype(np.uint8))
    else:
        alpha = np.full_like(digit, 200)
        image = Image.fromarray(np.stack([digit, digit, digit, alpha], axis=-1))
    assert mnist_format(image) is None
    assert to_mnist(image).found


@pytest.mark.slow
def test_every_mnist_test_digit_is_in_mnist_format(mnist_home) -> None:
    """MNIST's own digits read as evaluate reads them (issue #12's train-serve gap)."""
    from mnist_digits.data.dataset import load_dataset

    test = load_dataset("mnist", "test")
    sample = test.images[::10]  # (1000, 28, 28)
    for digit in sample:
        assert np.array_equal(to_mnist(digit).image28, digit)
