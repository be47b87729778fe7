"""A generator of hostile images: cheap to send, expensive or confusing to read.

Each case is a few bytes to a few hundred KB that once cost the server seconds of CPU, memory
out of proportion to its size, or a wrong answer (issue 13): huge declared sizes, headers that
lie about the data behind them, 16-bit and float pixels at tens of megapixels, plain-text PGM,
a tiny PNG that splits into hundreds of "digits", truncated files, and formats nobody sends.

``corpus()`` returns them all as ``Hostile`` items (name, bytes, route, what a right answer
is). Everything is built in memory from fixed patterns, so the corpus is the same on every run
and takes about a second to build (cached after the first call).
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from dataclasses import dataclass

import imagegen
import numpy as np
from PIL import Image

# A right answer to a hostile image: refused with a 4xx and a one-line reason ("refuse"), or
# read without error ("read"; any status of a valid answer, e.g. no_digit).
REFUSE, READ = "refuse", "read"


@dataclass(frozen=True)
class Hostile:
    """One hostile upload.

    Attributes:
        name: what the image is, for test ids and reports.
        data: the file's bytes, as a client would upload them.
        route: ``predict`` or ``number`` (the route it was aimed at).
        expect: ``REFUSE`` (a 4xx) or ``READ`` (a 200); never a 5xx either way.
        words: a word the refusal should contain (lower case), or "" for any.
    """

    name: str
    data: bytes
    route: str = "predict"
    expect: str = REFUSE
    words: str = ""


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + body))
    return struct.pack(">I", len(body)) + kind + body + crc


def png_raw(width: int, height: int, depth: int, colour: int, rows: bytes) -> bytes:
    """A PNG with the given IHDR and ``rows`` (already filtered scanlines) as one IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    idat = zlib.compress(rows, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _save(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def big_digit_png(side: int = 6000) -> bytes:
    """A ``side`` x ``side`` greyscale PNG with a "7" drawn across it (~120 KB at 6000)."""
    small = imagegen.draw_digit(7, size=(600, 600), pen=40, height=420, centre=(300, 300))
    cov = np.asarray(small.reduce(2), dtype=np.uint8)  # (300, 300) coverage 0..255
    big = Image.fromarray(255 - cov).resize((side, side), Image.Resampling.NEAREST)
    return _save(big, "PNG", optimize=False, compress_level=9)


def png16_huge(side: int = 6300) -> bytes:
    """A 16-bit greyscale PNG of ``side`` x ``side`` white paper with one dark bar (~77 KB)."""
    row = np.full(side, 65535, dtype=">u2")
    bar = row.copy()
    bar[side // 2 - side // 40 : side // 2 + side // 40] = 0
    rows = [b"\0" + (bar if side // 4 < y < 3 * side // 4 else row).tobytes() for y in range(side)]
    return png_raw(side, side, 16, 0, b"".join(rows))


def big_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A real 12 MP JPEG (a phone photo's size) of grey paper with a dark bar."""
    pixels = np.full((height, width), 210, dtype=np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 2 - 60 : width // 2 + 60] = 30
    return _save(Image.fromarray(pixels), "JPEG", quality=80)


def one_bit_huge(side: int = 8000) -> bytes:
    """A 1-bit PNG of ``side`` x ``side`` (64 MP declared) in a few KB."""
    row = b"\0" + b"\xff" * (side // 8)
    return png_raw(side, side, 1, 0, row * side)


def float_tiff(side: int = 3000) -> bytes:
    """A 32-bit float TIFF (mode F), deflate-compressed: ``side``² floats in a few KB."""
    values = np.ones((side, side), dtype=np.float32)
    values[side // 4 : 3 * side // 4, side // 2 - side // 30 : side // 2 + side // 30] = 0.0
    return _save(Image.fromarray(values), "TIFF", compression="tiff_adobe_deflate")


def plain_pgm(width: int = 3000, height: int = 1500) -> bytes:
    """A plain-text (P2) PGM of ``width`` x ``height``: 9 MB of ASCII digits."""
    row = b"0 " * width + b"\n"
    return b"P2\n%d %d\n255\n" % (width, height) + row * height


def plain_pbm(width: int = 2000, height: int = 2000) -> bytes:
    """A plain-text (P1) PBM: one ASCII character per pixel."""
    return b"P1\n%d %d\n" % (width, height) + (b"0" * width + b"\n") * height


def splinters_png() -> bytes:
    """A 114-byte 1-bit PNG of 256 short vertical bars: it splits into 256 "digits".

    1024 x 48 pixels, bars 2 px wide every 4 px, in rows 8..40: each bar is one tall, narrow
    ink component, read as a "1". Every row is the same, so deflate squeezes it to ~40 bytes.
    """
    width, height = 1024, 48
    ink = b"\0" + b"\x33" * (width // 8)  # 1-bit, 1 = white: 2 black, 2 white, repeated
    paper = b"\0" + b"\xff" * (width // 8)
    return png_raw(width, height, 1, 0, paper * 8 + ink * 32 + paper * 8)


def jpeg_liar(side: int = 6300) -> bytes:
    """A ~333-byte JPEG whose frame header claims ``side`` x ``side``: scan data cut short."""
    data = _save(Image.new("L", (16, 16), 200), "JPEG", quality=50)
    sof = data.index(b"\xff\xc0")
    head = data[: sof + 5] + struct.pack(">HH", side, side) + data[sof + 9 :]
    sos = head.index(b"\xff\xda")
    return head[: sos + 14] + b"\xff\xd9"  # the scan header, two bytes of data, end of image


def png_bomb_header(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid-looking PNG whose IHDR claims a decompression bomb; the data is 1 KB of zeros."""
    return png_raw(width, height, 8, 0, b"\0" * 1000)


def png_lying_header() -> bytes:
    """A PNG whose IHDR says 3000 x 3000 but whose data holds 10 rows."""
    return png_raw(3000, 3000, 8, 0, (b"\0" + b"\x80" * 3000) * 10)


def gif_many_frames(frames: int = 300) -> bytes:
    """An animated GIF of ``frames`` 200 x 200 frames (only the first is read)."""
    images = [Image.new("L", (200, 200), (i * 7) % 256) for i in range(frames)]
    return _save(images[0], "GIF", save_all=True, append_images=images[1:])


def bmp_rle_bomb(side: int = 6000) -> bytes:
    """An 8-bit RLE BMP claiming ``side`` x ``side`` with almost no data."""
    palette = bytes(b for i in range(256) for b in (i, i, i, 0))
    pixels = b"\x00\x01"  # end of bitmap, straight away
    offset = 14 + 40 + len(palette)
    header = struct.pack("<2sIHHI", b"BM", offset + len(pixels), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 8, 1, len(pixels), 0, 0, 256, 0)
    return header + info + palette + pixels


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """The first ``keep`` share of ``data``."""
    return data[: max(1, int(len(data) * keep))]


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="280" height="280">'
    b'<path d="M100 40 L180 40 L130 240" stroke="black" fill="none" stroke-width="18"/></svg>'
)


@functools.cache
def corpus() -> tuple[Hostile, ...]:
    """Every hostile case, in a fixed order (built once per process)."""
    three = imagegen.draw_digit(3, size=(400, 400), pen=24, height=280, centre=(200, 200))
    digit = _save(Image.fromarray(255 - np.asarray(three.reduce(2), dtype=np.uint8)), "PNG")
    photo = _save(imagegen.make_user_image(5, "photo", np.random.default_rng(1)), "JPEG")
    return (
        Hostile("6000x6000 PNG with a digit", big_digit_png(), words="pixel"),
        Hostile("16-bit 6300x6300 PNG", png16_huge(), words="pixel"),
        Hostile("1-bit 8000x8000 PNG", one_bit_huge(), words="pixel"),
        Hostile("16-bit 4000x4000 PNG", png16_huge(4000), expect=READ),
        Hostile("12 MP JPEG photo", big_jpeg(), expect=READ),
        Hostile("float TIFF 3000x3000", float_tiff(), expect=READ),
        Hostile("plain-text PGM", plain_pgm(), words="plain-text"),
        Hostile("plain-text PBM", plain_pbm(), words="plain-text"),
        Hostile("114-byte PNG of 256 bars", splinters_png(), route="number", words="digits"),
        Hostile("333-byte JPEG claiming 6300x6300", jpeg_liar(), words="truncated"),
        Hostile("PNG bomb header", png_bomb_header(), words="pixels"),
        Hostile("PNG header lying about its size", png_lying_header(), words="truncated"),
        Hostile("GIF of 300 frames", gif_many_frames(), expect=READ),
        Hostile("RLE BMP claiming 6000x6000", bmp_rle_bomb(), words="pixel"),
        Hostile("truncated PNG", truncated(digit), words="truncated"),
        Hostile("truncated JPEG", truncated(photo, 0.3), words="truncated"),
        Hostile("SVG", SVG, words="svg"),
        Hostile("HTML page", b"<!doctype html><html><body>hi</body></html>", words="html"),
        Hostile("zero bytes", b"", words="empty"),
    )
