import gzip

import numpy as np
import pytest
from conftest import idx_bytes

from mnist_digits.core.errors import DataError
from mnist_digits.data.idx import parse_idx, read_idx

IMAGES = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28).astype(np.uint8)


def test_good_file_round_trips():
    out = parse_idx(idx_bytes(IMAGES), name="x", ndim=3, count=3, item_shape=(28, 28))
    assert out.dtype == np.uint8 and out.shape == (3, 28, 28)
    np.testing.assert_array_equal(out, IMAGES)


def test_labels_file():
    labels = np.array([7, 2, 1], dtype=np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels), name="y", ndim=1), labels)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"\x01" + b[1:], "bad magic"),
        (lambda b: b[:2] + b"\x0d" + b[3:], "type code"),
        (lambda b: b[:100], "truncated"),
        (lambda b: b[:10], "truncated"),
        (lambda b: b + b"\x00", "trailing"),
        (lambda b: b"", "bad magic"),
        (lambda b: b"<!DOCTYPE html><html>", "bad magic"),
    ],
)
def test_bad_files_are_refused_with_the_file_name(mutate, message):
    with pytest.raises(DataError, match=message) as err:
        parse_idx(mutate(idx_bytes(IMAGES)), name="train-images-idx3-ubyte", ndim=3)
    assert "train-images-idx3-ubyte" in str(err.value)
    assert "\n" not in str(err.value)


def test_wrong_count_and_shape():
    with pytest.raises(DataError, match="holds 3 items, expected 60000"):
        parse_idx(idx_bytes(IMAGES), name="f", count=60000)
    with pytest.raises(DataError, match="has 3 dimensions, expected 1"):
        parse_idx(idx_bytes(IMAGES), name="f", ndim=1)
    with pytest.raises(DataError, match=r"items are \(28, 28\), expected \(32, 32\)"):
        parse_idx(idx_bytes(IMAGES), name="f", item_shape=(32, 32))


def test_read_idx_handles_gzip_and_truncated_gzip(tmp_path):
    good = tmp_path / "a.gz"
    good.write_bytes(gzip.compress(idx_bytes(IMAGES)))
    np.testing.assert_array_equal(read_idx(good, ndim=3), IMAGES)
    bad = tmp_path / "b.gz"
    bad.write_bytes(gzip.compress(idx_bytes(IMAGES))[:200])
    with pytest.raises(DataError, match=r"b\.gz: corrupt or truncated gzip"):
        read_idx(bad)
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "missing")
