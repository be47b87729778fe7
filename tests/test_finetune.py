"""Fine-tuning on a user's own digits, and a samples export read back as a dataset of its own."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import drawn_digits
from test_cli_errors import assert_one_line
from writers import worst_style, writer_samples

from mnist_digits.cli import main
from mnist_digits.core.errors import DataError
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.idx import write_idx
from mnist_digits.data.sources import DirectorySource
from mnist_digits.data.specs import MNIST
from mnist_digits.data.store import ensure_dataset, get_spec
from mnist_digits.data.userset import EXPORT_FORMAT, read_export
from mnist_digits.images.render import to_mnist
from mnist_digits.predict import Predictor
from mnist_digits.samples.export import export_idx
from mnist_digits.samples.store import SampleStore
from mnist_digits.training.usersamples import UserSamples, load_samples, split_samples

Split = tuple[np.ndarray, np.ndarray]


def write_export(folder: Path, train: Split, test: Split) -> Path:
    """A samples export written by hand with ``data.idx``: writer "a" in train, "b" in test."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for prefix, (images, labels) in (("train", train), ("t10k", test)):
        for kind, array, nd in (("images", images, 3), ("labels", labels, 1)):
            name = f"{prefix}-{kind}-idx{nd}-ubyte.gz"
            sums[name] = hashlib.sha256(write_idx(folder / name, array)).hexdigest()
    (folder / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    manifest = {
        "format": EXPORT_FORMAT,
        "counts": {"train": len(train[1]), "test": len(test[1])},
        "writers": {"train": ["a"], "test": ["b"]},
        "sha256": sums,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def digits(n: int) -> Split:
    return drawn_digits(n), (np.arange(n) % 10).astype(np.uint8)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_export(tmp_path / "export", digits(40), digits(10))


def test_export_reads_back_as_its_own_dataset(export: Path) -> None:
    ds = load_dataset(str(export), "train")
    assert ds.images.shape == (40, 28, 28) and np.array_equal(ds.images, drawn_digits(40))
    assert ds.labels.tolist() == [i % 10 for i in range(40)]
    assert len(load_dataset(str(export), "test")) == 10
    spec = get_spec(str(export))
    # MNIST's classes and contract, and a name of its own so no cached figure mixes with MNIST's.
    assert spec.contract == MNIST.contract and spec.classes == MNIST.classes
    assert spec.name.startswith("samples-") and spec.name != "mnist"
    # Any MNIST loader reads the files: plain gzip and the IDX layout.
    raw = gzip.decompress((export / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert raw[:4] == b"\x00\x00\x08\x01" and list(raw[8:]) == [i % 10 for i in range(10)]


def _tamper(export: Path, how: str) -> str:
    """Break the export one way; return what the error must say."""
    labels = export / "t10k-labels-idx1-ubyte.gz"
    if how == "missing":
        labels.unlink()
        return "is missing t10k-labels-idx1-ubyte.gz"
    if how == "checksum":
        labels.write_bytes(gzip.compress(bytes(18)))
        return "t10k-labels-idx1-ubyte.gz: checksum mismatch"
    if how == "sums":
        sums = export / "SHA256SUMS"
        sums.write_text(sums.read_text().replace(" ", "0 ", 1)[1:])
        return "disagree about train-images-idx3-ubyte.gz"
    manifest = json.loads((export / "manifest.json").read_text())
    (export / "manifest.json").write_text(json.dumps({**manifest, "format": "other/9"}))
    return "has format 'other/9'"


@pytest.mark.parametrize("how", ["missing", "checksum", "sums", "format"])
def test_a_broken_export_is_one_line(
    export: Path, tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    says = _tamper(export, how)
    with pytest.raises(DataError, match=says.replace("(", r"\(")):
        read_export(export)
    out = tmp_path / "run"
    code = main(["train", "--source-dir", str(export), "--out", str(out), "--epochs", "1"])
    assert_one_line(code, capsys.readouterr().err, says)
    code = main(["finetune", "--samples", str(export), "--out", str(out)])
    assert_one_line(code, capsys.readouterr().err, says)
    assert not out.exists(), "nothing is left behind"


def test_mnist_checksums_still_apply_to_an_export_folder(export: Path, tmp_path: Path) -> None:
    # The export's files carry MNIST's names: fetched as MNIST they must fail MNIST's checks.
    source = DirectorySource(export)
    with pytest.raises(DataError, match="checksum mismatch"):
        ensure_dataset("mnist", data_dir=tmp_path / "home", sources=[source])


def _store_with(db: Path, n: int, label: int | None = None) -> SampleStore:
    store = SampleStore(db)
    for i in range(n):
        grid = drawn_digits(10)[i % 10]
        store.add(
            image=b"png", input28=grid, label=i % 10 if label is None else label,
            kind="collect", probabilities=[0.1] * 10, predicted=None, status="ok",
            model="cnn-small", fingerprint="f", writer="w",
        )  # fmt: skip
    return store


@pytest.mark.parametrize("case", ["absent", "empty-store", "few", "empty-dir", "not-a-db"])
def test_finetune_refuses_unusable_samples(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, says = tmp_path / "samples.sqlite3", "fine-tuning needs at least 10"
    if case == "absent":
        says = "does not exist"
    elif case == "empty-store":
        _store_with(path, 0)
    elif case == "few":
        _store_with(path, 4)
    elif case == "empty-dir":
        path = tmp_path / "digits"
        (path / "3").mkdir(parents=True)
        says = "no digit images in 0/ ... 9/"
    else:
        path.write_text("id,label\n1,7\n")
        says = "is not a samples database"
    out = tmp_path / "run"
    code = main(["finetune", "--samples", str(path), "--out", str(out)])
    assert_one_line(code, capsys.readouterr().err, says)
    assert not out.exists(), "nothing is left behind"


@pytest.mark.slow
def test_train_reads_an_export(export: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["train", "--model", "mlp-seed", "--epochs", "1", "--source-dir", str(export)]
    assert main([*argv, "--out", str(out), "--json"]) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert 0 <= summary["test_accuracy"] <= 1
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == str(export.resolve()) and config["val_size"] == 8


def _writer_store(db: Path, style: str, n: int) -> SampleStore:
    """``n`` digits by the synthetic writer of ``style``, as the page stores them: the
    uploaded PNG and the 28×28 input ``to_mnist`` made of it."""
    store = SampleStore(db)
    for image, digit in writer_samples(style, n, seed=0):
        png = io.BytesIO()
        image.save(png, format="PNG")
        store.add(
            image=png.getvalue(), input28=to_mnist(image).image28, label=digit, kind="collect",
            probabilities=[0.1] * 10, predicted=None, status="ok", model="cnn-small",
            fingerprint="shipped", writer="",
        )  # fmt: skip
    return store


@pytest.mark.slow
def test_finetune_learns_a_writer_without_forgetting_mnist(
    mnist_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, out = tmp_path / "samples.sqlite3", tmp_path / "run"
    worst, scores = worst_style(Predictor.from_checkpoint())
    assert scores[worst] < 0.95, scores  # a hand worth adapting to
    _writer_store(db, worst, 500)
    assert main(["finetune", "--samples", str(db), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["trained_on"] == 400 and report["held_out"] == 100
    before, after = report["before"], report["after"]
    assert after["user"] - before["user"] >= 0.05, report  # measured on held-out samples
    assert before["mnist_test"] - after["mnist_test"] <= 0.001 + 1e-9, report
    assert report["finetune_seconds"] < 60
    predictor = Predictor.from_checkpoint(out)
    assert predictor.meta.recipe["finetune"]["samples"] == 400
    assert predictor.meta.recipe["finetune"]["from"] == report["base_fingerprint"]
    assert predictor.meta.metrics["test_accuracy"] == after["mnist_test"]
    # What the page's model card reads (app.js: "Model cnn-small, fine-tuned on 400 samples").
    from fastapi.testclient import TestClient

    from mnist_digits.web.app import create_app
    from mnist_digits.web.settings import Settings

    with TestClient(create_app(Settings(), predictor)) as client:
        info = client.get("/api/model").json()
    assert info["recipe"]["finetune"]["samples"] == 400
    assert info["recipe"]["recipe"].endswith("-finetuned")


def test_a_digit_folder_reads_through_to_mnist(tmp_path: Path) -> None:
    files = []
    for i, (image, digit) in enumerate(writer_samples("bubble", 20, seed=1)):
        (tmp_path / str(digit)).mkdir(exist_ok=True)
        files.append(tmp_path / str(digit) / f"{i}.png")
        image.save(files[-1])
    (tmp_path / "7" / "notes.txt").write_text("not an image")
    samples, held = load_samples(tmp_path)
    assert held is None and len(samples) == 20
    assert sorted(samples.labels.tolist()) == sorted(i % 10 for i in range(20))
    first = samples.labels.tolist().index(0)  # the folder 0/ is read first, in name order
    assert np.array_equal(samples.images[first], to_mnist(sorted(files)[0]).image28)


def _samples(writers: list[str]) -> UserSamples:
    n = len(writers)
    images = np.zeros((n, 28, 28), np.uint8)
    return UserSamples(images, np.arange(n) % 10, tuple(writers), "test")


def test_held_out_writers_are_never_trained_on() -> None:
    split = split_samples(_samples([f"w{i % 5}" for i in range(50)]))
    train, held = set(split.train.writers), set(split.held_out.writers)
    assert train and held and not train & held, split.how
    assert len(split.held_out) >= 10 and len(split.train) + len(split.held_out) == 50


def test_one_writer_is_held_out_by_digit() -> None:
    split = split_samples(_samples(["me"] * 50), seed=3)
    assert sorted(split.held_out.labels.tolist()) == list(range(10))  # 20% of 5 each: one
    assert len(split.train) == 40 and "20%" in split.how


@pytest.mark.slow
def test_finetune_reads_an_export(mnist_home: Path, tmp_path: Path, capsys) -> None:
    store = SampleStore(tmp_path / "samples.sqlite3")
    for i, (image, digit) in enumerate(writer_samples("narrow", 60, seed=2)):
        store.add(
            image=b"png", input28=to_mnist(image).image28, label=digit, kind="collect",
            probabilities=[0.1] * 10, predicted=None, status="ok", model="cnn-small",
            fingerprint="f", writer=f"pupil-{i % 3}",
        )  # fmt: skip
    export = export_idx(store, tmp_path / "export", test_share=0.3)
    out = tmp_path / "run"
    argv = ["finetune", "--samples", str(export.folder), "--steps", "10", "--out", str(out)]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["held_out_how"].startswith("the export's test split")
    assert (report["trained_on"], report["held_out"]) == (export.counts["train"], 20)
    assert (out / "best.safetensors").is_file() and (out / "finetune.json").is_file()


def test_forgetting_is_a_loud_warning(capsys: pytest.CaptureFixture[str]) -> None:
    from mnist_digits.cli.finetune_cmd import _print
    from mnist_digits.training.finetune import Figures, FinetuneReport

    report = FinetuneReport(
        base="b", base_fingerprint="f", samples="s", trained_on=400, held_out=100,
        held_out_how="h", before=Figures(0.7, 0.995, 0.994), after=Figures(0.9, 0.9935, 0.994),
        mix=1.0, temperature=1.0, finetune_seconds=1.0, total_seconds=2.0, run_dir="r",
        checkpoint="r/best.safetensors",
    )  # fmt: skip
    assert report.forgot and report.mnist_drop == pytest.approx(0.0015)
    assert _print(report, as_json=True) == 0
    out, err = capsys.readouterr()
    assert "WARNING: MNIST test accuracy fell by 0.15 points" in err
    assert json.loads(out)["forgot"] is True
    kept = FinetuneReport(**{**report.__dict__, "after": Figures(0.9, 0.994, 0.994)})
    assert not kept.forgot, "a drop of exactly 0.1 point is within the limit"
