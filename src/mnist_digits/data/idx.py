"""A strict reader (and the one writer) for the IDX format that MNIST and Fashion-MNIST ship in.

IDX layout: two zero bytes, a type code (0x08 is unsigned byte, the only one these datasets use),
the number of dimensions, one big-endian uint32 per dimension, then the values in C order.
Every field is checked, so a truncated download or an HTML error page never loads as data.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from mnist_digits.core.errors import DataError
from mnist_digits.core.files import atomic_write

_UBYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"


def maybe_gunzip(data: bytes, *, name: str) -> bytes:
    """Return ``data`` decompressed when it is gzip, else unchanged.

    Raises:
        DataError: the bytes start like gzip but do not decompress (truncated or corrupt).
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{name}: corrupt or truncated gzip data ({err})") from None


def parse_idx(
    data: bytes,
    *,
    name: str,
    ndim: int | None = None,
    count: int | None = None,
    item_shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Parse raw IDX bytes into a uint8 array, checking every header field.

    Args:
        data: the decompressed file contents.
        name: the file name, used in error messages.
        ndim: the expected number of dimensions (3 for images, 1 for labels).
        count: the expected number of items (first dimension).
        item_shape: the expected shape of one item, e.g. ``(28, 28)``.

    Returns:
        A read-only view of shape ``(count, *item_shape)`` and dtype uint8.

    Raises:
        DataError: on a wrong magic number, type, dimension, count or file length.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{name}: not an IDX file (bad magic number {data[:4].hex() or 'empty'})")
    if data[2] != _UBYTE:
        raise DataError(f"{name}: IDX type code 0x{data[2]:02x} is not unsigned byte (0x08)")
    dims_found = data[3]
    if ndim is not None and dims_found != ndim:
        raise DataError(f"{name}: has {dims_found} dimensions, expected {ndim}")
    header = 4 + 4 * dims_found
    if len(data) < header:
        raise DataError(f"{name}: truncated IDX header ({len(data)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=dims_found, offset=4))
    _check_shape(name, shape, count, item_shape)
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataError(f"{name}: file {kind}: {len(data)} bytes, expected {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _check_shape(
    name: str,
    shape: tuple[int, ...],
    count: int | None,
    item_shape: tuple[int, ...] | None,
) -> None:
    if count is not None and shape[0] != count:
        raise DataError(f"{name}: holds {shape[0]} items, expected {count}")
    if item_shape is not None and shape[1:] != item_shape:
        raise DataError(f"{name}: items are {shape[1:]}, expected {item_shape}")


def read_idx(path: Path, **expect: object) -> np.ndarray:
    """Read an IDX file from disk, raw or gzipped; see :func:`parse_idx` for ``expect``."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None
    return parse_idx(maybe_gunzip(data, name=path.name), name=path.name, **expect)  # type: ignore[arg-type]


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as raw IDX bytes: the header :func:`parse_idx` checks, then C order.

    Raises:
        DataError: the array is not uint8 (IDX type 0x08 is the only one written here).
    """
    if array.dtype != np.uint8:
        raise DataError(f"IDX writes unsigned bytes only, not {array.dtype}")
    header = bytes([0, 0, _UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def encode_idx(array: np.ndarray, *, gz: bool = True) -> bytes:
    """``array`` as IDX file bytes, gzipped by default.

    The gzip header's time is zero, so the same array always gives the same bytes (and the
    same checksum), as ``sha256sum`` over two exports of the same samples would expect.
    """
    raw = idx_bytes(array)
    return gzip.compress(raw, mtime=0) if gz else raw


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, gz: bool = True) -> bytes:
    """Write ``array`` as an IDX file (see :func:`encode_idx`) atomically; returns its bytes."""
    data = encode_idx(array, gz=gz)
    atomic_write(path, data)
    return data
