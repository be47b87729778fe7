"""Errors a person can cause at the command line: one line on stderr, exit 2, no traceback,
and nothing left behind that would get in the way of the next try."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from fake_run import RECIPE
from readonly import run_cli_read_only

from mnist_digits.cli import build_parser, main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def assert_one_line(code: int, err: str, expected: str) -> None:
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("mnist-digits:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert errors[0] == err.strip().splitlines()[-1], "the error is the last word"
    assert expected in errors[0], errors[0]


def subcommands() -> list[list[str]]:
    """Every command and sub-command, as argv prefixes."""
    parser = build_parser()
    found: list[list[str]] = []
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            found.append([name])
            for nested in (
                getattr(sub, "_subparsers", None)._group_actions if sub._subparsers else []
            ):
                found += [[name, n] for n in nested.choices]
    return found


@pytest.mark.parametrize("argv", subcommands(), ids=" ".join)
def test_every_help_page_renders(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible, so cuda is valid")
def test_train_on_a_missing_gpu_refuses_before_writing(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    code, err = run(["train", "--device", "cuda", "--out", str(out), "--epochs", "1"], capsys)
    assert_one_line(code, err, "no CUDA GPU")
    assert not (out / "config.json").exists()


def test_train_into_an_unwritable_folder_refuses_before_training(capsys) -> None:
    code, err = run(["train", "--out", "/sys/mnist-digits-run", "--epochs", "1"], capsys)
    assert_one_line(code, err, "cannot write the run folder")


def interrupted_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"model": "mlp-seed", "epochs": 1}))
    return run_dir


@pytest.mark.parametrize(
    "content", [b"", b"\x00" * 10, bytes(range(256)) * 40, b"PK\x03\x04truncated"]
)
def test_resume_from_a_damaged_state(tmp_path, capsys, content: bytes) -> None:
    run_dir = interrupted_run(tmp_path)
    (run_dir / "resume.pt").write_bytes(content)
    code, err = run(["train", "--resume", str(run_dir)], capsys)
    assert_one_line(code, err, "resume.pt is damaged")


def test_resume_from_a_state_that_is_not_ours(tmp_path, capsys) -> None:
    run_dir = interrupted_run(tmp_path)
    torch.save({"weights": torch.zeros(3)}, run_dir / "resume.pt")
    code, err = run(["train", "--resume", str(run_dir)], capsys)
    assert_one_line(code, err, "not a resume state")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (None, "cannot read"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "does not hold a training config"),
        ('{"model": "no-such-model"}', "unknown model"),
    ],
)
def test_resume_with_a_missing_or_bad_config(tmp_path, capsys, config, expected) -> None:
    run_dir = interrupted_run(tmp_path)
    torch.save({"model": {}, "loop": {}}, run_dir / "resume.pt")
    if config is None:
        (run_dir / "config.json").unlink()
    else:
        (run_dir / "config.json").write_text(config)
    code, err = run(["train", "--resume", str(run_dir)], capsys)
    assert_one_line(code, err, expected)


def only_line(done, expected: str) -> None:
    """A subprocess said exactly one thing, the error, and exited 2: nothing was computed
    first (``evaluate`` and ``report`` log a line before each slow step)."""
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("mnist-digits: error:") and expected in done.stderr


@pytest.fixture
def mnist_run(tmp_path: Path, tiny_checkpoint: Path) -> Path:
    """A run folder on MNIST: the config and an (untrained) best checkpoint."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(RECIPE))
    shutil.copy(tiny_checkpoint, run_dir / "best.safetensors")
    return run_dir


def contents(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


@pytest.mark.parametrize(
    "argv", [["evaluate"], ["report", "--no-corruptions"]], ids=["evaluate", "report"]
)
def test_a_read_only_run_folder_is_refused_before_any_work(mnist_home, mnist_run, argv) -> None:
    before = contents(mnist_run)
    done = run_cli_read_only(mnist_run, [*argv, str(mnist_run)])
    only_line(done, f"cannot write {mnist_run}")
    assert contents(mnist_run) == before


@pytest.mark.parametrize("action", ["download", "verify"])
@pytest.mark.parametrize("where", ["under /sys", "under a file"])
def test_data_into_a_folder_that_cannot_exist(tiny, tmp_path, capsys, action, where) -> None:
    (tmp_path / "a-file").write_text("")
    data_dir = "/sys/mnist-digits-data" if where == "under /sys" else str(tmp_path / "a-file/x")
    source = tiny.write(tmp_path / "src")
    argv = ["data", action, "--dataset", "tiny", "--data-dir", data_dir, "--source-dir"]
    code, err = run([*argv, str(source)], capsys)
    assert_one_line(code, err, "cannot write the data cache")


@pytest.mark.parametrize("action", ["download", "verify"])
def test_data_into_a_read_only_folder(tmp_path, action) -> None:
    """MNIST itself (a subprocess does not see the tiny dataset): the cache is refused at
    once, so nothing is fetched."""
    data_dir = tmp_path / "cache"
    data_dir.mkdir()
    done = run_cli_read_only(data_dir, ["data", action, "--data-dir", str(data_dir)])
    only_line(done, "cannot write the data cache")


def test_data_into_a_missing_folder_creates_it(tiny, tmp_path, capsys) -> None:
    data_dir = tmp_path / "new" / "cache"
    source = tiny.write(tmp_path / "src")
    argv = ["data", "download", "--dataset", "tiny", "--data-dir", str(data_dir)]
    assert main([*argv, "--source-dir", str(source)]) == 0
    assert len(list((data_dir / "tiny").glob("*-ubyte"))) == 4


# `train` in a subprocess on tiny_mnist's drawn digits standing in for MNIST, verified
# in the data home: only Fashion-MNIST, tried for the reject threshold, needs a new folder.
TRAIN_ON_TINY_MNIST = """
import dataclasses, hashlib, sys
from pathlib import Path
from mnist_digits.cli import main
from mnist_digits.data.specs import DATASETS, MNIST
home, out = Path(sys.argv[1]), sys.argv[2]
counts = {"train": 12, "test": 5}
files = tuple(
    dataclasses.replace(
        f, sha256=hashlib.sha256((home / "mnist" / f.name).read_bytes()).hexdigest(),
        count=counts[f.split],
    )
    for f in MNIST.files
)
DATASETS["mnist"] = dataclasses.replace(MNIST, files=files, mirrors=())
argv = ["train", "--model", "mlp-seed", "--width", "8", "--epochs", "1", "--batch-size", "4"]
sys.exit(main([*argv, "--val-size", "4", "--data-dir", str(home), "--out", out]))
"""


def test_train_with_a_read_only_data_home_skips_the_non_digits(tiny_mnist, tmp_path) -> None:
    home = tmp_path / "home"
    tiny_mnist.write(home / "mnist")
    script = tmp_path / "train_tiny.py"
    script.write_text(TRAIN_ON_TINY_MNIST)
    done = run_cli_read_only(home, [str(home), str(tmp_path / "run")], script=script)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert (tmp_path / "run" / "best.safetensors").is_file()
    assert not (home / "fashion-mnist").exists()


# The CLI error table: what a person can get wrong, and the words of the one line they get.
# {tmp} is a scratch folder holding {file} (a text file), {dir} (an empty folder) and
# {run} (a folder that is not empty); {ckpt} is a real (untrained) checkpoint.
ERROR_TABLE = [
    (["evaluate", "{tmp}/nope"], "does not exist"),
    (["evaluate", "{file}"], "not a readable safetensors file"),
    (["evaluate", "{dir}"], "holds no best.safetensors"),
    (["report", "{ckpt}", "--out", "{tmp}/r.txt"], "must end in .html"),
    (["report", "{ckpt}", "--out", "{tmp}/missing/r.html"], "does not exist"),
    (["report", "{ckpt}", "--out", "{tmp}/folder.html"], "is a folder"),
    (["report", "{ckpt}", "--out", "/sys/r.html"], "cannot write /sys"),
    (["report", "{dir}"], "holds no best.safetensors"),
    (["data", "show", "--n", "0"], "--n must be between 1 and 400"),
    (["data", "show", "--out", "{dir}"], "is a folder"),
    (["data", "show", "--out", "/sys/x.png"], "cannot write /sys"),
    (["data", "show", "--out", "{tmp}/missing/x.png"], "does not exist"),
    (["data", "download", "--data-dir", "/sys/mnist-digits"], "cannot write the data cache"),
    (["data", "verify", "--data-dir", "{file}/x"], "cannot write the data cache"),
    (["export", "{tmp}/nope"], "does not exist"),
    (["export", "{ckpt}", "--out", "{tmp}/m.txt"], "must name a .onnx file"),
    (["export", "{ckpt}", "--out", "{tmp}/folder.onnx"], "is a folder"),
    (["export", "{ckpt}", "--out", "/sys/m.onnx"], "cannot write /sys"),
    (["export", "{ckpt}", "--out", "{file}/m.onnx"], "is a file, not a folder"),
    (["predict", "--top-k", "11", "{file}"], "--top-k must be between 0 and 10"),
    (["predict", "--checkpoint", "{tmp}/nope", "{file}"], "does not exist"),
    (["predict", "--checkpoint", "{file}", "{file}"], "not a readable safetensors file"),
    (["predict", "--checkpoint", "{ckpt}", "{dir}"], "no image files found"),
    (["train", "--out", "{file}"], "is a file"),
    (["train", "--out", "{run}"], "is not empty"),
    (["train", "--config", "{tmp}/missing.toml"], "cannot read config file"),
    (["train", "--epochs", "0", "--out", "{tmp}/r"], "epochs must be positive"),
    (["train", "--model", "nope", "--out", "{tmp}/r"], "unknown model 'nope'"),
    (["train", "--val-size", "70000", "--out", "{tmp}/r"], "val_size must be between"),
    (["train", "--resume", "{dir}"], "holds no resume.pt"),
]


@pytest.fixture
def scratch(tmp_path: Path, tiny_checkpoint: Path) -> dict[str, str]:
    (tmp_path / "file.txt").write_text("not an image, not a checkpoint\n")
    for folder in ("dir", "folder.html", "folder.onnx", "run"):
        (tmp_path / folder).mkdir()
    (tmp_path / "run" / "metrics.jsonl").write_text("{}\n")
    return {
        "tmp": str(tmp_path),
        "file": str(tmp_path / "file.txt"),
        "dir": str(tmp_path / "dir"),
        "run": str(tmp_path / "run"),
        "ckpt": str(tiny_checkpoint),
    }


@pytest.mark.parametrize(
    ("argv", "expected"), ERROR_TABLE, ids=[" ".join(a) for a, _ in ERROR_TABLE]
)
def test_cli_error_table(scratch, capsys, argv: list[str], expected: str) -> None:
    before = sorted(p.name for p in Path(scratch["tmp"]).iterdir())
    code, err = run([arg.format(**scratch) for arg in argv], capsys)
    assert_one_line(code, err, expected.format(**scratch))
    assert sorted(p.name for p in Path(scratch["tmp"]).iterdir()) == before, "left behind"


def test_predict_bad_inputs_one_line_each_exit_1(scratch, tmp_path, capsys) -> None:
    """Inputs that cannot be read are reported one line each, and the status is 1."""
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    os.mkfifo(tmp_path / "fifo.png")
    inputs = [scratch["file"], str(tmp_path / "dangling.png"), str(tmp_path / "fifo.png")]
    assert main(["predict", "--checkpoint", scratch["ckpt"], *inputs]) == 1
    out, err = capsys.readouterr()
    rows = out.strip().splitlines()
    assert "Traceback" not in err and len(rows) == len(inputs), out
    for path, row in zip(inputs, rows, strict=True):
        assert row.startswith(f"{path}\terror: "), row


@pytest.mark.parametrize("seeds", ["0", "-2"])
def test_train_refuses_fewer_than_one_seed(seeds: str, tmp_path, capsys) -> None:
    code, err = run(["train", "--seeds", seeds, "--out", str(tmp_path / "run")], capsys)
    assert_one_line(code, err, "--seeds must be at least 1")
    assert not (tmp_path / "run").exists()


def test_calibration_without_any_inked_digit_is_one_line() -> None:
    import numpy as np

    from mnist_digits.core.errors import DataError
    from mnist_digits.data.specs import MNIST
    from mnist_digits.models.registry import create_model
    from mnist_digits.training.calibration import calibrate

    logits, labels = np.zeros((4, 10)), np.arange(4)
    blank = np.zeros((4, 28, 28), np.uint8)
    with pytest.raises(DataError, match="no validation digit kept any ink"):
        calibrate(create_model("mlp-seed").eval(), logits, labels, blank, None, MNIST.contract)
