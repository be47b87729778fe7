"""The samples store and its IDX export: round trip, several writers, ``kill -9``, the format."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnist_digits.data.idx import read_idx
from mnist_digits.samples.export import FILES, export_idx, split_writers
from mnist_digits.samples.store import SampleError, SampleStore, default_path

SRC = Path(__file__).resolve().parent.parent / "src"

# A child that adds rows as fast as it can and prints each committed id (flushed), so the
# parent knows which rows were committed before it killed the child.
WRITER = """
import sys
import numpy as np
from mnist_digits.samples.store import SampleStore
store = SampleStore(sys.argv[1])
tag, n = sys.argv[2], int(sys.argv[3])
for i in range(n):
    grid = np.full((28, 28), i % 256, dtype=np.uint8)
    sample_id = store.add(image=bytes([i % 256]) * 5000, input28=grid, label=i % 10,
                          kind="collect", probabilities=[0.1] * 10, predicted=i % 10,
                          status="ok", model="m", fingerprint=tag, writer=f"{tag}-{i % 3}")
    print(sample_id, i, flush=True)
"""


def add(store: SampleStore, label: int, writer: str = "", kind: str = "collect") -> int:
    grid = np.full((28, 28), label * 20, dtype=np.uint8)
    probs = [0.0] * 10
    probs[(label + 1) % 10] = 1.0
    return store.add(
        image=f"png of {label}".encode(), input28=grid, label=label, kind=kind,
        probabilities=probs, predicted=(label + 1) % 10, status="ok", model="cnn-small",
        fingerprint="abc", writer=writer,
    )  # fmt: skip


def child(db: Path, tag: str, n: int) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), tag, str(n)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_round_trip(tmp_path: Path) -> None:
    store = SampleStore(tmp_path / "home" / "samples.sqlite3")
    first = add(store, 7, "ann", kind="correction")
    second = add(store, 3, "bob")
    assert (first, second) == (1, 2) and store.count() == 2
    assert store.count("correction") == 1
    row = store.list(kind="correction")[0]
    assert (row.label, row.writer, row.predicted, row.kind, row.fingerprint) == (
        7, "ann", 8, "correction", "abc"
    )  # fmt: skip
    assert row.probabilities[8] == 1.0 and row.created.endswith("Z")
    assert store.image(first) == b"png of 7"
    assert (store.input28(second) == 60).all()
    both = store.labelled()
    assert both.images.dtype == np.uint8 and both.images.shape == (2, 28, 28)
    assert both.labels.tolist() == [7, 3] and both.writers == ("ann", "bob")
    assert both.ids.tolist() == [1, 2] and len(store.labelled("collect")) == 1
    assert store.delete(first) and not store.delete(first) and store.count() == 1
    assert store.input28(first) is None
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


def test_default_path_is_under_the_data_home(tmp_path: Path) -> None:
    assert default_path(tmp_path) == tmp_path / "samples.sqlite3"


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("label", 10, "label 10"),
        ("label", True, "label True"),
        ("kind", "other", "unknown sample kind"),
        ("writer", "x" * 65, "at most 64"),
        ("writer", "a\nb", "printable"),
        ("input28", np.zeros((27, 28)), "not 28×28"),
    ],
)
def test_bad_fields_are_refused(tmp_path: Path, field: str, value: object, says: str) -> None:
    store = SampleStore(tmp_path / "s.sqlite3")
    fields: dict[str, object] = dict(
        image=b"x", input28=np.zeros((28, 28), np.uint8), label=1, kind="collect",
        probabilities=[0.1] * 10, predicted=1, status="ok", model="m", fingerprint="f",
    )  # fmt: skip
    fields[field] = value
    with pytest.raises(SampleError, match=says):
        store.add(**fields)  # type: ignore[arg-type]
    assert store.count() == 0


def test_not_a_database_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "samples.sqlite3"
    bad.write_text("not sqlite at all, just some text " * 100)
    with pytest.raises(SampleError, match="cannot be used"):
        SampleStore(bad)


def test_an_unusable_database_is_503_not_the_senders_fault(predictor: Any, tmp_path: Path) -> None:
    from webhelp import canvas_digit, data_url

    (tmp_path / "samples.sqlite3").write_text("not sqlite at all, just some text " * 100)
    with app_client(predictor, tmp_path) as client:
        sent = client.post("/api/samples", json={"image": data_url(canvas_digit(7)), "label": 1})
        assert sent.status_code == 503 and sent.headers["retry-after"] == "60", sent.text
        assert "cannot be used" in sent.json()["detail"] and "\n" not in sent.json()["detail"]
        assert (
            client.post("/api/predict", json={"image": data_url(canvas_digit(7))}).json()["digit"]
            == 7
        )  # reading does not depend on the store


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    db = tmp_path / "samples.sqlite3"
    SampleStore(db)
    writers = [child(db, tag, 150) for tag in ("a", "b")]
    outputs = [w.communicate(timeout=120)[0] for w in writers]
    assert [w.returncode for w in writers] == [0, 0]
    ids = [int(line.split()[0]) for out in outputs for line in out.splitlines()]
    store = SampleStore(db)
    assert store.count() == 300 and sorted(ids) == list(range(1, 301))
    assert store.integrity() == "ok"
    assert {s.fingerprint for s in store.list(limit=500)} == {"a", "b"}


def test_kill_9_mid_write_loses_no_committed_row(tmp_path: Path) -> None:
    db = tmp_path / "samples.sqlite3"
    SampleStore(db)
    proc = child(db, "k", 100_000)
    assert proc.stdout is not None
    committed: list[tuple[int, int]] = []
    while len(committed) < 60:  # well into the loop, mid-write whenever the signal lands
        line = proc.stdout.readline()
        assert line, "the writer died early"
        committed.append(tuple(map(int, line.split())))  # type: ignore[arg-type]
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    store = SampleStore(db)
    assert store.integrity() == "ok"
    stored = {s.id: s for s in store.list(limit=500)}
    assert len(stored) >= len(committed)
    labelled = store.labelled()
    for sample_id, i in committed:
        assert stored[sample_id].label == i % 10
        assert store.image(sample_id) == bytes([i % 256]) * 5000
        row = int(np.flatnonzero(labelled.ids == sample_id)[0])
        assert (labelled.images[row] == i % 256).all()


def filled(tmp_path: Path, writers: dict[str, int]) -> SampleStore:
    store = SampleStore(tmp_path / "samples.sqlite3")
    for writer, n in writers.items():
        for i in range(n):
            add(store, i % 10, writer)
    return store


def plain_idx(path: Path) -> np.ndarray:
    """What any MNIST loader does: gunzip, a big-endian header, then the bytes."""
    data = gzip.decompress(path.read_bytes())
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    assert (zero, kind) == (0, 0x08)
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data[4 + 4 * ndim :], np.uint8).reshape(shape)


def test_export_reads_back_as_mnist(tmp_path: Path) -> None:
    store = filled(tmp_path, {"ann": 20, "bob": 20, "cat": 20, "dan": 20, "": 10})
    out = tmp_path / "export"
    result = export_idx(store, out, test_share=0.25, seed=0)
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "SHA256SUMS", "manifest.json"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "mnist-digits-samples/1"
    assert manifest["counts"] == {"train": result.counts["train"], "test": result.counts["test"]}
    assert sum(manifest["counts"].values()) == 90 and manifest["counts"]["test"] > 0
    assert not set(manifest["writers"]["train"]) & set(manifest["writers"]["test"])
    sums = dict(line.split("  ")[::-1] for line in (out / "SHA256SUMS").read_text().splitlines())
    for name in FILES:
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()
        assert sums[name] == digest == manifest["sha256"][name]
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(out / f"{prefix}-images-idx3-ubyte.gz", ndim=3, item_shape=(28, 28))
        labels = read_idx(out / f"{prefix}-labels-idx1-ubyte.gz", ndim=1)
        assert (plain_idx(out / f"{prefix}-images-idx3-ubyte.gz") == images).all()
        assert (plain_idx(out / f"{prefix}-labels-idx1-ubyte.gz") == labels).all()
        assert len(images) == len(labels) == manifest["counts"][split]
        assert (images[:, 0, 0] == labels * 20).all()  # each image kept with its own label
    again = export_idx(store, tmp_path / "again", test_share=0.25, seed=0)
    assert again.sha256 == result.sha256  # deterministic, byte for byte


def test_split_keeps_writers_apart() -> None:
    writers = tuple(f"w{i % 7}" for i in range(140)) + ("",) * 5
    train, test = split_writers(writers, test_share=0.3, seed=1)
    assert not set(train) & set(test) and set(train) | set(test) == set(writers)
    assert split_writers(writers, test_share=0.3, seed=1) == (train, test)
    assert split_writers(("solo",) * 9, test_share=0.5, seed=0) == (["solo"], [])


def test_export_of_nothing_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SampleError, match="no samples"):
        export_idx(SampleStore(tmp_path / "s.sqlite3"), tmp_path / "out")


# --------------------------------------------------------------------------------------------
# The routes


@pytest.fixture(scope="module")
def predictor() -> Any:
    from webhelp import checkpoint_or_skip

    from mnist_digits.predict import Predictor

    return Predictor.from_checkpoint(checkpoint_or_skip())


def app_client(predictor: Any, tmp_path: Path, **settings: Any) -> Any:
    with warnings.catch_warnings():  # Starlette prefers httpx2; httpx works (test_web_api)
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from mnist_digits.web.app import create_app
    from mnist_digits.web.settings import Settings

    chosen = Settings(samples=str(tmp_path / "samples.sqlite3"), max_upload=300_000, **settings)
    return TestClient(create_app(chosen, predictor))


def test_routes_store_list_show_export_and_delete(predictor: Any, tmp_path: Path) -> None:
    from webhelp import canvas_digit, data_url

    with app_client(predictor, tmp_path) as client:
        assert client.get("/api/samples/config").json()["collect"] is True
        made = client.post("/api/samples", json={"image": data_url(canvas_digit(7)), "label": 1})
        assert made.status_code == 201, made.text
        sample = made.json()
        assert (sample["label"], sample["kind"], sample["predicted"]) == (1, "correction", 7)
        assert sample["fingerprint"] == client.get("/api/model").json()["fingerprint"]
        assert sample["fingerprint"].startswith(predictor.meta.model + "-")
        png = canvas_digit(4)
        form = {"label": "4", "kind": "collect", "writer": "ann"}
        sent = client.post("/api/samples", files={"file": ("4.png", png, "image/png")}, data=form)
        assert sent.status_code == 201 and sent.json()["writer"] == "ann", sent.text
        listed = client.get("/api/samples", params={"kind": "collect"}).json()
        assert listed["total"] == 1 and listed["items"][0]["id"] == sent.json()["id"]
        shown = client.get(f"/api/samples/{sample['id']}/input.png")
        assert shown.headers["content-type"] == "image/png"
        store = SampleStore(tmp_path / "samples.sqlite3")
        assert store.image(sent.json()["id"]) == png  # the upload itself, byte for byte
        want = predictor.predict(canvas_digit(7))[0].input28
        assert (store.input28(sample["id"]) == want).all()  # the server's own reading
        zipped = client.get("/api/samples/export", params={"test_share": 0.5})
        assert zipped.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
            assert sorted(archive.namelist()) == sorted([*FILES, "SHA256SUMS", "manifest.json"])
            manifest = json.loads(archive.read("manifest.json"))
        assert sum(manifest["counts"].values()) == 2
        assert client.delete(f"/api/samples/{sample['id']}").status_code == 204
        assert client.delete(f"/api/samples/{sample['id']}").status_code == 404
        assert client.get(f"/api/samples/{sample['id']}/input.png").status_code == 404
        assert client.get("/api/samples").json()["total"] == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"label": 3}, 422),  # no image
        ({"pixels": [[0] * 28] * 28, "image": "AAAA", "label": 3}, 422),  # both
        ({"image": "not base64!", "label": 3}, 400),
        ({"image": "aGVsbG8=", "label": 3}, 400),  # base64, but not an image
        ({"pixels": [[0] * 28] * 28, "label": 3}, 400),  # nothing drawn
        ({"pixels": [[255] * 28] * 28, "label": 10}, 422),
        ({"pixels": [[255] * 28] * 28, "label": "3"}, 422),
        ({"pixels": [[255] * 28] * 28, "label": 3, "kind": "other"}, 422),
        ({"pixels": [[255] * 28] * 28, "label": 3, "writer": "x" * 65}, 422),
        ({"pixels": [[255] * 28] * 28, "label": 3, "writer": "a\u0000b"}, 422),
        ({"pixels": [[255] * 28] * 28, "label": 3, "extra": 1}, 422),
    ],
)
def test_bad_samples_are_4xx_with_one_line(
    predictor: Any, tmp_path: Path, body: dict[str, Any], status: int
) -> None:
    with app_client(predictor, tmp_path) as client:
        answer = client.post("/api/samples", json=body)
        assert answer.status_code == status, answer.text
        detail = answer.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail
        assert client.get("/api/samples").json()["total"] == 0


def test_other_bodies_are_refused(predictor: Any, tmp_path: Path) -> None:
    with app_client(predictor, tmp_path) as client:
        big = client.post("/api/samples", json={"image": "A" * 400_000, "label": 1})
        assert big.status_code == 413
        text = client.post(
            "/api/samples", content=b"label=1", headers={"content-type": "text/plain"}
        )
        assert text.status_code == 415
        assert (
            client.post(
                "/api/samples", content=b"{", headers={"content-type": "application/json"}
            ).status_code
            == 422
        )
        no_file = client.post("/api/samples", data={"label": "1"}, files={"other": ("a", b"x")})
        assert no_file.status_code == 422
        assert client.get("/api/samples", params={"limit": 0}).status_code == 422
        assert client.get("/api/samples/export").status_code == 400  # nothing to export yet


def test_collection_off_is_403_everywhere(predictor: Any, tmp_path: Path) -> None:
    with app_client(predictor, tmp_path, collect=False) as client:
        assert client.get("/api/samples/config").json()["collect"] is False
        for method, url in [("post", "/api/samples"), ("get", "/api/samples"),
                            ("get", "/api/samples/export"), ("delete", "/api/samples/1"),
                            ("get", "/api/samples/1/input.png")]:  # fmt: skip
            answer = getattr(client, method)(url)
            assert answer.status_code == 403 and "MNIST_DIGITS_COLLECT" in answer.json()["detail"]
    assert not (tmp_path / "samples.sqlite3").exists()  # nothing written at all


def test_collect_setting_from_the_environment() -> None:
    from mnist_digits.core.errors import MnistDigitsError
    from mnist_digits.web.settings import Settings

    off = Settings.from_env({"MNIST_DIGITS_COLLECT": "0", "MNIST_DIGITS_SAMPLES": "/x/s.db"})
    assert (off.collect, off.samples) == (False, "/x/s.db")
    assert Settings.from_env(off.to_env()) == off
    assert Settings.from_env({}).collect is True and Settings.from_env({}).samples is None
    with pytest.raises(MnistDigitsError, match="must be 1 or 0"):
        Settings.from_env({"MNIST_DIGITS_COLLECT": "maybe"})


def test_writes_are_rate_limited_per_client(predictor: Any, tmp_path: Path) -> None:
    from webhelp import canvas_digit, data_url

    from mnist_digits.web.ratelimit import RateLimiter

    body = {"image": data_url(canvas_digit(3)), "label": 3, "kind": "collect"}
    with app_client(predictor, tmp_path) as client:
        # A slow refill, so that the test's own pace (a write here takes ~0.1 s) cannot refill it.
        client.app.state.rate_limiter = RateLimiter(rate=0.2, burst=5)
        codes = [client.post("/api/samples", json=body).status_code for _ in range(7)]
        assert codes[:5] == [201] * 5 and codes[-1] == 429
        refused = client.post("/api/samples", json=body)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert client.get("/api/samples").status_code == 200  # reads are not limited


def test_rate_limiter_refills() -> None:
    from fastapi import HTTPException

    from mnist_digits.web.ratelimit import RateLimiter

    limiter = RateLimiter(rate=2, burst=3)
    for _ in range(3):
        limiter.take("a", now=0.0)
    with pytest.raises(HTTPException) as refused:
        limiter.take("a", now=0.1)
    assert refused.value.status_code == 429 and refused.value.headers == {"Retry-After": "1"}
    limiter.take("b", now=0.1)  # another client has its own bucket
    limiter.take("a", now=0.6)  # half a second at 2/s is one token again


# --------------------------------------------------------------------------------------------
# The command line


def test_cli_lists_exports_and_deletes_without_torch(tmp_path: Path) -> None:
    from test_torchfree import _without_torch  # the CLI with torch unimportable

    store = filled(tmp_path, {"ann": 10, "bob": 10, "cat": 10})
    db = str(store.path)
    listed = _without_torch("samples", "list", "--db", db, "--json", "--limit", "5")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["total"] == 30 and len(json.loads(listed.stdout)["items"]) == 5
    out = tmp_path / "export"
    done = _without_torch(
        "samples", "export", "--format", "idx", out, "--db", db, "--test-share", "0.3"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (out / "SHA256SUMS").read_text()  # prints the checksums
    assert "train and" in done.stderr and "writers" in done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {"train": 20, "test": 10}
    gone = _without_torch("samples", "delete", "1", "2", "999", "--db", db, "--json")
    assert json.loads(gone.stdout) == {"deleted": [1, 2], "missing": [999]}
    assert store.count() == 28


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mnist_digits.cli import main

    assert main(["samples", "list", "--data-dir", str(tmp_path)]) == 2
    assert "no samples database" in capsys.readouterr().err
    assert not (tmp_path / "samples.sqlite3").exists()  # listing never creates a database
    empty = str(SampleStore(tmp_path / "samples.sqlite3").path)
    for argv, says in (
        (["--db", empty], "no samples to export"),
        (["--db", empty, "--test-share", "1"], "test share 1.0"),
    ):
        assert main(["samples", "export", str(tmp_path / "out"), *argv]) == 2
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [
        ("POST", "/api/samples", "positive"),
        ("POST", "/api/samples", "negative"),
        ("GET", "/api/samples", "positive"),
        ("GET", "/api/samples", "negative"),
        ("GET", "/api/samples/export", "negative"),
        ("GET", "/api/samples/{sample_id}/input.png", "negative"),
        ("DELETE", "/api/samples/{sample_id}", "negative"),
    ],
)
def test_samples_routes_never_fail(
    predictor: Any, tmp_path: Path, method: str, path: str, mode: str
) -> None:
    """Schemathesis on the samples routes (as ``test_web_fuzz`` on the others): never a 5xx."""
    fuzzing = pytest.importorskip("test_web_fuzz")

    from mnist_digits.web.app import create_app
    from mnist_digits.web.ratelimit import RateLimiter
    from mnist_digits.web.settings import Settings

    app = create_app(Settings(samples=str(tmp_path / "samples.sqlite3")), predictor)
    app.state.rate_limiter = RateLimiter(rate=1e6, burst=10**6)  # fuzz the routes, not the 429
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = fuzzing.schemathesis.openapi.from_asgi("/openapi.json", app)
    chosen = fuzzing.POSITIVE if mode == "positive" else fuzzing.NEGATIVE
    fuzzing.fuzz(schema, method, path, chosen, fuzzing.EXAMPLES)


def test_ids_out_of_sqlite_range_are_no_sample(tmp_path: Path) -> None:
    store = SampleStore(tmp_path / "s.sqlite3")
    add(store, 1)
    for bad in (0, -1, 2**63, 10**30):
        assert store.get(bad) is None and store.image(bad) is None
        assert store.input28(bad) is None and not store.delete(bad)
    assert store.list(offset=10**30) == [] and store.count() == 1


@pytest.mark.slow  # three server processes start: ~20 s on the loaded 2-core box
def test_two_server_workers_store_at_once(tmp_path: Path) -> None:
    """``serve --workers 2`` with one database: every sample sent at once is stored, whole."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from webhelp import canvas_digit, data_url, start_server

    from mnist_digits.predict import SHIPPED_ONNX

    if not SHIPPED_ONNX.is_file():
        pytest.skip(f"{SHIPPED_ONNX} is not built (make shipped-onnx)")
    db = tmp_path / "home" / "samples.sqlite3"
    # The ONNX model: the three processes start without importing PyTorch.
    args = ("--workers", "2", "--samples", str(db))
    server = start_server(str(SHIPPED_ONNX), tmp_path / "log", *args)

    def send(i: int) -> int:
        body = {
            "image": data_url(canvas_digit(i % 10)),
            "label": i % 10,
            "kind": "collect",
            "writer": f"w{i % 4}",
        }
        request = urllib.request.Request(
            f"{server.url}/api/samples",
            json.dumps(body).encode(),
            {"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201
            return int(json.loads(answer.read())["id"])

    try:
        with ThreadPoolExecutor(6) as pool:
            ids = list(pool.map(send, range(24)))  # within one client's burst of 30
    finally:
        assert server.stop() == 0
    store = SampleStore(db)
    assert sorted(ids) == list(range(1, 25)) and store.count() == 24
    assert store.integrity() == "ok"
    assert sorted(store.labelled().labels.tolist()) == sorted(i % 10 for i in range(24))


def test_an_export_cut_off_leaves_no_half_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mnist_digits.samples.export as export

    store = filled(tmp_path, {"ann": 10, "bob": 10})
    out = tmp_path / "export"
    before = export_idx(store, out, test_share=0.5)
    old = {name: (out / name).read_bytes() for name in [*FILES, "SHA256SUMS", "manifest.json"]}
    for i in range(10):
        add(store, i, "cat")
    real, calls = export.atomic_write, []

    def dies_on_the_third(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C (or a full disk) in the middle of the export
        real(path, data)

    monkeypatch.setattr(export, "atomic_write", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        export_idx(store, out, test_share=0.5)
    assert sorted(p.name for p in out.iterdir()) == sorted(old)  # no temp file left behind
    for name in FILES:  # each file is the old one or the new one, whole
        read_idx(out / name)
    assert (out / "manifest.json").read_bytes() == old["manifest.json"]  # unfinished: unchanged
    assert json.loads(old["manifest.json"])["sha256"] == before.sha256
