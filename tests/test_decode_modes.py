"""Odd image files read as their pixels say, and files that cost more than a digit needs.

Each odd-mode file (16-bit, 1-bit, palette with transparency, CMYK, LA, float TIFF) is compared
with its 8-bit twin: the same picture saved as plain 8-bit grey, RGB or RGBA. Both must give
the same 28×28 input within a few grey levels, and the model must read both alike.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import hostile
import imagegen
import numpy as np
import pytest
from PIL import Image

from mnist_digits.core.errors import ImageError
from mnist_digits.images.decode import DECODE_SIDE, FULL_DECODE_PIXELS, load_image
from mnist_digits.images.numbers import MAX_DIGITS, split_digits
from mnist_digits.images.render import to_mnist

SIDE = 240


def _cov(digit: int = 1, side: int = SIDE) -> np.ndarray:
    """(side, side) float32 ink coverage 0..1 of a clearly drawn digit."""
    ink = imagegen.draw_digit(
        digit, size=(2 * side, 2 * side), pen=0.08 * side * 2, height=1.3 * side,
        centre=(side, side),
    )  # fmt: skip
    return np.asarray(ink.reduce(2), dtype=np.float32) / 255


def _save(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _grey8(cov: np.ndarray) -> Image.Image:
    return Image.fromarray(np.rint(255 * (1 - cov)).astype(np.uint8))


def _sixteen(cov: np.ndarray, rawmode: str = "I;16") -> Image.Image:
    values = np.rint(65535 * (1 - cov)).astype(">u2" if rawmode == "I;16B" else "<u2")
    return Image.frombytes(rawmode, cov.shape[::-1], values.tobytes())


def _one_bit(cov: np.ndarray) -> tuple[Image.Image, Image.Image]:
    mask = cov < 0.5
    return Image.fromarray(mask), Image.fromarray(mask.astype(np.uint8) * 255)


def _palette(cov: np.ndarray) -> tuple[Image.Image, Image.Image]:
    """Dark ink in a palette image whose paper (index 255, white) is transparent."""
    img = _grey8(cov).convert("P")  # a grey palette: index i is grey level i
    rgba = np.asarray(img.convert("RGBA")).copy()
    rgba[np.asarray(img) == 255, 3] = 0
    return img, Image.fromarray(rgba)


def _la(cov: np.ndarray) -> tuple[Image.Image, Image.Image]:
    alpha = Image.fromarray(np.rint(255 * cov).astype(np.uint8))
    la = Image.merge("LA", [Image.new("L", alpha.size, 30), alpha])
    return la, la.convert("RGBA")


def _nan_float(cov: np.ndarray) -> tuple[Image.Image, Image.Image]:
    """Ink 0 where drawn, NaN ("no data") elsewhere; the twin is the ink on transparency."""
    ink = cov >= 0.5
    values = np.where(ink, 0.0, np.nan).astype(np.float32)
    twin = np.dstack([np.zeros_like(cov), ink * 255]).astype(np.uint8)
    return Image.fromarray(values), Image.fromarray(twin)


# name -> (odd-mode file bytes, its 8-bit twin's bytes, the mode PIL must open it in)
Case = Callable[[np.ndarray], tuple[bytes, bytes, str]]
CASES: dict[str, Case] = {
    "16-bit PNG": lambda c: (_save(_sixteen(c), "PNG"), _save(_grey8(c), "PNG"), "I;16"),
    "16-bit TIFF I;16": lambda c: (_save(_sixteen(c), "TIFF"), _save(_grey8(c), "PNG"), "I;16"),
    "16-bit TIFF I;16B": lambda c: (
        _save(_sixteen(c, "I;16B"), "TIFF"),
        _save(_grey8(c), "PNG"),
        "I;16B",
    ),
    "1-bit PNG": lambda c: (_save(_one_bit(c)[0], "PNG"), _save(_one_bit(c)[1], "PNG"), "1"),
    "1-bit TIFF group 4": lambda c: (
        _save(_one_bit(c)[0], "TIFF", compression="group4"),
        _save(_one_bit(c)[1], "PNG"),
        "1",
    ),
    "palette PNG, transparent paper": lambda c: (
        _save(_palette(c)[0], "PNG", transparency=255),
        _save(_palette(c)[1], "PNG"),
        "P",
    ),
    "palette GIF, transparent paper": lambda c: (
        _save(_palette(c)[0], "GIF", transparency=255),
        _save(_palette(c)[1], "PNG"),
        "P",
    ),
    "CMYK TIFF": lambda c: (
        _save(_grey8(c).convert("CMYK"), "TIFF"),
        _save(_grey8(c), "PNG"),
        "CMYK",
    ),
    "CMYK JPEG": lambda c: (
        _save(_grey8(c).convert("CMYK"), "JPEG", quality=95),
        _save(_grey8(c), "PNG"),
        "CMYK",
    ),
    "LA PNG": lambda c: (_save(_la(c)[0], "PNG"), _save(_la(c)[1], "PNG"), "LA"),
    "float TIFF": lambda c: (
        _save(Image.fromarray(1 - c), "TIFF"),
        _save(_grey8(c), "PNG"),
        "F",
    ),
    "float TIFF, NaN paper": lambda c: (
        _save(_nan_float(c)[0], "TIFF"),
        _save(_nan_float(c)[1], "PNG"),
        "F",
    ),
}
# Grey levels two readings may differ by: 16 levels of 8-bit rounding, JPEG and palette
# quantisation, and float-vs-uint8 thresholds can move an anti-aliased edge pixel.
MAX_DIFF, MEAN_DIFF = 24, 1.0


@pytest.mark.parametrize("name", list(CASES))
def test_odd_modes_read_as_their_8bit_twin(name: str) -> None:
    odd, twin, mode = CASES[name](_cov())
    assert Image.open(io.BytesIO(odd)).mode == mode  # the case really is that mode
    got, want = to_mnist(odd), to_mnist(twin)
    assert got.found and want.found, name
    diff = np.abs(got.image28.astype(int) - want.image28.astype(int))
    assert diff.max() <= MAX_DIFF and diff.mean() <= MEAN_DIFF, (name, diff.max(), diff.mean())


def test_a_16bit_one_reads_as_its_8bit_twin() -> None:
    from webhelp import checkpoint_or_skip

    from mnist_digits.predict import Predictor

    reader = Predictor.from_checkpoint(checkpoint_or_skip())
    cov = _cov(1)
    eight, sixteen = reader.predict([_save(_grey8(cov), "PNG"), _save(_sixteen(cov), "PNG")])
    assert eight.status == "ok" and eight.digit == 1, eight.probabilities
    assert (sixteen.status, sixteen.digit) == (eight.status, eight.digit)
    assert sixteen.confidence == pytest.approx(eight.confidence, abs=0.02)


# --------------------------------------------------------------------------------------------
# Decoding no more than a digit needs


def test_a_large_jpeg_decodes_at_a_reduced_scale_and_reads_the_same() -> None:
    cov = _cov(4, side=300)
    big = _grey8(cov).resize((6000, 6000), Image.Resampling.BILINEAR)
    data = _save(big, "JPEG", quality=90)
    start = time.perf_counter()
    img = load_image(data)
    took = time.perf_counter() - start
    assert max(img.size) <= DECODE_SIDE and img.info["mnist_digits.scale"] == 4
    assert took < 1.0  # a full 36 MP decode takes ~0.4 s here; 1/4 scale ~0.03 s
    small = to_mnist(_save(_grey8(cov), "PNG")).image28.astype(int)
    diff = np.abs(to_mnist(data).image28.astype(int) - small)
    assert diff.mean() <= 3, diff.mean()


def test_other_formats_are_held_to_the_full_decode_budget() -> None:
    side = int(FULL_DECODE_PIXELS**0.5) + 1
    data = hostile.png16_huge(side)
    start = time.perf_counter()
    with pytest.raises(ImageError, match="16,000,000-pixel limit for PNG") as err:
        load_image(data)
    assert time.perf_counter() - start < 0.2 and "\n" not in str(err.value)
    fits = load_image(hostile.png16_huge(3000))  # 9 MP: read, then reduced
    assert max(fits.size) <= DECODE_SIDE and fits.info["mnist_digits.scale"] == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (hostile.jpeg_liar(), "cannot hold the 6300x6300 pixels"),
        (hostile.png_lying_header(), "cannot hold the 3000x3000 pixels"),
        (hostile.plain_pbm(200, 200), "plain-text"),
        (b"P2\n4 4\n255\n" + b"0 " * 16, "plain-text"),
        (b"P3 4 4 255 " + b"0 0 0 " * 16, "plain-text"),
        (hostile.SVG, "SVG"),
    ],
)
def test_lying_plain_text_and_vector_files_are_refused_in_one_line(data: bytes, words: str) -> None:
    with pytest.raises(ImageError, match=words) as err:
        load_image(data)
    assert "\n" not in str(err.value)


def test_formats_nobody_sends_are_refused() -> None:
    img = _grey8(_cov())
    for fmt in ("TGA", "ICO", "PCX", "SGI"):
        with pytest.raises(ImageError, match="supported image format"):
            load_image(_save(img, fmt))
    assert load_image(_save(img, "PPM")).size == img.size  # binary PGM (P5) still reads


def test_a_number_of_more_than_32_pieces_is_refused_before_rendering() -> None:
    start = time.perf_counter()
    with pytest.raises(ImageError, match=f"256 pieces, more than the {MAX_DIGITS} digits"):
        split_digits(hostile.splinters_png())
    assert time.perf_counter() - start < 0.5
    row = np.full((60, 40 * 33), 255, dtype=np.uint8)
    row[15:45, 18::40] = row[15:45, 19::40] = row[15:45, 20::40] = 0  # 33 bars
    with pytest.raises(ImageError, match="33 pieces"):
        split_digits(row)
    assert len(split_digits(row[:, : 40 * 32])) == 32
