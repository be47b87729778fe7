"""People's digits kept to learn from: one SQLite file of corrections and collected samples.

Each row holds the image as it was uploaded, the 28×28 input the model read from it, the
model's answer (digit or null, status, 10 probabilities), the right label, the model's name
and fingerprint, the time (UTC), the kind (``correction`` or ``collect``), the writer id and
the schema version.

Several server processes may write at once: every operation opens its own connection (a
connection is never shared between threads or processes), every write is one ``BEGIN
IMMEDIATE`` transaction, and waiting writers retry for ``BUSY_MS``. WAL mode with
``synchronous=FULL`` makes a committed row survive ``kill -9`` (and power loss); a write cut off
part-way is rolled back when the file is next opened, so no half row is ever read.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.data.store import data_home

DEFAULT_NAME = "samples.sqlite3"
SCHEMA_VERSION = 1
KINDS = ("correction", "collect")
# A writer waits up to 10 s for another's transaction: a write takes ~20 ms here (measured,
# 400 rows, fsync included), so even 100 workers writing at once clear well within that.
BUSY_MS = 10_000
MAX_WRITER = 64  # characters in a writer id
MAX_PAGE = 500  # rows one ``list`` call returns at most

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('correction', 'collect')),
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    writer TEXT NOT NULL DEFAULT '',
    predicted INTEGER CHECK (predicted IS NULL OR predicted BETWEEN 0 AND 9),
    status TEXT NOT NULL,
    probabilities TEXT NOT NULL,
    model TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    image BLOB NOT NULL,
    input28 BLOB NOT NULL CHECK (length(input28) = 784),
    schema_version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_kind ON samples (kind, id);
"""
_COLUMNS = "id, created, kind, label, writer, predicted, status, probabilities, model, fingerprint"


class SampleError(MnistDigitsError):
    """A sample, or the samples database, cannot be used as asked."""


class StoreUnavailable(SampleError):
    """The database itself cannot be opened, created or used (a full or read-only disk, a file
    that is not SQLite): nothing the sender did, so the server answers 503, not 400."""


def default_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The samples database under the data home: ``data_home(data_dir) / "samples.sqlite3"``."""
    return data_home(data_dir) / DEFAULT_NAME


@dataclass(frozen=True)
class Sample:
    """One stored sample without its image blobs (what listings show).

    Attributes:
        id: the row id, increasing.
        created: when it was stored, ISO-8601 UTC.
        kind: ``correction`` (the model was told it was wrong) or ``collect`` (collect mode).
        label: the right digit, as the person said.
        writer: the writer id ("" when none was given).
        predicted: the digit the model read, or None (no digit, or not a digit).
        status: the model's status (``ok``, ``unsure``, ``not_a_digit``, ``no_digit``).
        probabilities: the model's 10 calibrated probabilities.
        model: the model's registry name.
        fingerprint: which weights answered (see ``web``'s model card).
    """

    id: int
    created: str
    kind: str
    label: int
    writer: str
    predicted: int | None
    status: str
    probabilities: list[float]
    model: str
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class LabelledSamples:
    """Stored samples as arrays, ready to train or evaluate on.

    Attributes:
        images: uint8 (N, 28, 28), white digit on black: exactly the input the model saw.
        labels: int64 (N,), the right labels.
        writers: each sample's writer id ("" when none).
        ids: int64 (N,), the row ids.
    """

    images: np.ndarray
    labels: np.ndarray
    writers: tuple[str, ...]
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


class SampleStore:
    """The samples database at ``path`` (created with its schema when missing)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreUnavailable(f"cannot create {self.path.parent} ({err.strerror})") from None
        with self._connect() as db:
            # WAL is a property of the file: set once, every later connection gets it.
            db.execute("PRAGMA journal_mode=WAL")
            with _write(db):
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own for one operation, closed after it."""
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None)
        except sqlite3.Error as err:
            raise StoreUnavailable(
                f"cannot open the samples database {self.path} ({err})"
            ) from None
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            db.execute("PRAGMA synchronous = FULL")
            yield db
        except sqlite3.DatabaseError as err:
            raise StoreUnavailable(
                f"{self.path}: the samples database cannot be used ({err}); move it away "
                "to start a new one"
            ) from None
        finally:
            db.close()

    def add(
        self,
        *,
        image: bytes,
        input28: np.ndarray,
        label: int,
        kind: str,
        probabilities: Sequence[float],
        predicted: int | None,
        status: str,
        model: str,
        fingerprint: str,
        writer: str = "",
    ) -> int:
        """Store one sample in its own transaction; returns its id.

        Raises:
            SampleError: a field is out of range (label, kind, writer, input shape).
        """
        row = {
            "created": _now(),
            **_checked(image, input28, label, kind, probabilities, predicted, status, writer),
            "model": model,
            "fingerprint": fingerprint,
            "schema_version": SCHEMA_VERSION,
        }
        marks = ", ".join("?" * len(row))
        with self._connect() as db, _write(db):
            cursor = db.execute(
                f"INSERT INTO samples ({', '.join(row)}) VALUES ({marks})", tuple(row.values())
            )
            return int(cursor.lastrowid or 0)

    def list(self, *, kind: str | None = None, offset: int = 0, limit: int = 100) -> list[Sample]:
        """Samples in id order, without blobs: ``limit`` (at most ``MAX_PAGE``) from ``offset``."""
        where, args = _kind_filter(kind)
        limit = max(0, min(limit, MAX_PAGE))
        offset = min(max(0, offset), 2**63 - 1)
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM samples {where} ORDER BY id LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [_sample(row) for row in rows]

    def get(self, sample_id: int) -> Sample | None:
        """One sample without its blobs, or None when there is none with that id."""
        if not _valid_id(sample_id):
            return None
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM samples WHERE id = ?", (sample_id,)
            ).fetchone()
        return None if row is None else _sample(row)

    def count(self, kind: str | None = None) -> int:
        """How many samples are stored (of ``kind``, or all)."""
        where, args = _kind_filter(kind)
        with self._connect() as db:
            return int(db.execute(f"SELECT count(*) FROM samples {where}", args).fetchone()[0])

    def delete(self, sample_id: int) -> bool:
        """Remove one sample; False when there was none with that id."""
        if not _valid_id(sample_id):
            return False
        with self._connect() as db, _write(db):
            return db.execute("DELETE FROM samples WHERE id = ?", (sample_id,)).rowcount > 0

    def input28(self, sample_id: int) -> np.ndarray | None:
        """The 28×28 input the model read for one sample, or None when there is none."""
        if not _valid_id(sample_id):
            return None
        with self._connect() as db:
            found = db.execute("SELECT input28 FROM samples WHERE id = ?", (sample_id,)).fetchone()
        return None if found is None else _grid(found[0])

    def image(self, sample_id: int) -> bytes | None:
        """The image as it was uploaded (or the 784 pixel bytes sent as pixels), or None."""
        if not _valid_id(sample_id):
            return None
        with self._connect() as db:
            found = db.execute("SELECT image FROM samples WHERE id = ?", (sample_id,)).fetchone()
        return None if found is None else bytes(found[0])

    def labelled(self, kind: str | None = None) -> LabelledSamples:
        """Every sample (of ``kind``: ``correction``, ``collect``, None for both) as arrays."""
        where, args = _kind_filter(kind)
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id, label, writer, input28 FROM samples {where} ORDER BY id", args
            ).fetchall()
        images = np.zeros((len(rows), 28, 28), dtype=np.uint8)
        for i, row in enumerate(rows):
            images[i] = _grid(row[3])
        return LabelledSamples(
            images=images,
            labels=np.array([r[1] for r in rows], dtype=np.int64),
            writers=tuple(str(r[2]) for r in rows),
            ids=np.array([r[0] for r in rows], dtype=np.int64),
        )

    def integrity(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` answer: ``ok`` for a sound file."""
        with self._connect() as db:
            return "; ".join(str(r[0]) for r in db.execute("PRAGMA integrity_check"))


@contextlib.contextmanager
def _write(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: the write lock taken at once (waiting up to ``BUSY_MS``)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def check_kind(kind: str | None) -> str | None:
    """``kind`` when it is None or one of ``KINDS``.

    Raises:
        SampleError: any other kind.
    """
    if kind is not None and kind not in KINDS:
        raise SampleError(f"unknown sample kind {kind!r}; use one of {', '.join(KINDS)}")
    return kind


def check_writer(writer: str) -> str:
    """A writer id: at most 64 printable characters, stripped.

    Raises:
        SampleError: longer, or holding control characters.
    """
    text = writer.strip()
    if len(text) > MAX_WRITER or not text.isprintable():
        raise SampleError(
            f"writer id {writer[:80]!r} must be at most {MAX_WRITER} printable characters"
        )
    return text


def _valid_id(sample_id: int) -> bool:
    """Whether ``sample_id`` can be a row id (SQLite's are 1 .. 2**63 - 1)."""
    return 0 < sample_id < 2**63


def _kind_filter(kind: str | None) -> tuple[str, tuple[str, ...]]:
    chosen = check_kind(kind)
    return ("", ()) if chosen is None else ("WHERE kind = ?", (chosen,))


def _checked(
    image: bytes,
    input28: np.ndarray,
    label: int,
    kind: str,
    probabilities: Sequence[float],
    predicted: int | None,
    status: str,
    writer: str,
) -> dict[str, Any]:
    """The person-given and model-given columns of one row, checked, by column name."""
    if check_kind(kind) is None:
        raise SampleError(f"a sample needs a kind: one of {', '.join(KINDS)}")
    if isinstance(label, bool) or not isinstance(label, int | np.integer) or not 0 <= label <= 9:
        raise SampleError(f"label {label!r} is not a digit from 0 to 9")
    if predicted is not None and predicted not in range(10):
        raise SampleError(f"the model's answer {predicted!r} is not a digit from 0 to 9 or None")
    grid = np.asarray(input28)
    if grid.shape != (28, 28):
        raise SampleError(f"the model's input is {grid.shape}, not 28×28")
    probs = [float(p) for p in probabilities]
    if len(probs) != 10:
        raise SampleError(f"{len(probs)} probabilities given, one per digit (10) expected")
    pixels = np.clip(grid, 0, 255).astype(np.uint8).tobytes()
    return {
        "kind": kind,
        "label": int(label),
        "writer": check_writer(writer),
        "predicted": predicted,
        "status": status,
        "probabilities": json.dumps(probs),
        "image": bytes(image),
        "input28": pixels,
    }


def _sample(row: tuple[Any, ...]) -> Sample:
    sample_id, created, kind, label, writer, predicted, status, probs, model, fingerprint = row
    return Sample(
        sample_id, created, kind, label, writer, predicted, status, json.loads(probs), model,
        fingerprint,
    )  # fmt: skip


def _grid(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8).reshape(28, 28).copy()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
