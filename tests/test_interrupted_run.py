"""Ctrl-C after training, during calibration or test scoring, loses no training: the weights
best on validation are on disk and load, ``resume.pt`` of a resumed run is kept, and the CLI
says so in one line with exit status 130. On tiny_mnist, so a run takes seconds."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch

from mnist_digits.cli import main
from mnist_digits.models.checkpoint import BEST, load_checkpoint
from mnist_digits.training import run as training_run
from mnist_digits.training.loop import Progress

# 12 training images, 4 held out: two steps of 4 an epoch.
TRAIN = ["train", "--model", "mlp-seed", "--width", "8", "--batch-size", "4", "--val-size", "4"]
SLOW_STEPS = ["calibrate_run", "score"]


def press_ctrl_c(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


def one_line(capsys: pytest.CaptureFixture[str], expected: str) -> None:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("mnist-digits:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0] == err.strip().splitlines()[-1] and expected in lines[0], err


def assert_best_loads(run_dir: Path) -> None:
    model, meta = load_checkpoint(run_dir / BEST)
    assert meta.model == "mlp-seed" and "val_accuracy" in meta.metrics
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert not (run_dir / "summary.json").exists(), "the run is not complete"


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data home for the module, so the generated non-digits calibration reads are
    rendered and cached once (about 8 s a run here)."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture
def home(tiny_mnist, shared_home: Path, monkeypatch) -> Path:
    """The data home, holding tiny_mnist. Fashion-MNIST's non-digits are left out: calibration
    would preprocess its 60,000 training images first (about a minute on two cores)."""
    monkeypatch.setattr(training_run, "outlier_split", lambda cfg, data_dir: None)
    tiny_mnist.write(shared_home / "mnist")
    return shared_home


@pytest.mark.parametrize("step", SLOW_STEPS)
def test_ctrl_c_after_training_keeps_the_best_weights(home, tmp_path, capsys, monkeypatch, step):
    monkeypatch.setattr(training_run, step, press_ctrl_c)
    run_dir = tmp_path / "run"
    argv = [*TRAIN, "--epochs", "1", "--data-dir", str(home), "--out", str(run_dir)]
    assert main(argv) == 130
    one_line(capsys, f"saved in {run_dir / BEST}")
    assert_best_loads(run_dir)


def interrupt_during_training(home: Path, run_dir: Path, monkeypatch) -> None:
    """A run stopped by Ctrl-C at the end of epoch 1 of 2, leaving ``resume.pt``."""
    real_train = training_run.train

    def train_then_press(cfg, data, callback=None, resume=None):
        def relay(event: Progress) -> None:
            if callback:
                callback(event)
            if event.kind == "epoch_end" and event.epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)  # the first press: stop at a step boundary

        return real_train(cfg, data, relay, resume=resume)

    with monkeypatch.context() as patch:
        patch.setattr(training_run, "train", train_then_press)
        argv = [*TRAIN, "--epochs", "2", "--data-dir", str(home), "--out", str(run_dir)]
        assert main(argv) == 130
    assert (run_dir / "resume.pt").is_file()


@pytest.mark.parametrize("step", SLOW_STEPS)
def test_ctrl_c_after_a_resumed_run_keeps_resume_pt(home, tmp_path, capsys, monkeypatch, step):
    run_dir = tmp_path / "run"
    interrupt_during_training(home, run_dir, monkeypatch)
    capsys.readouterr()
    monkeypatch.setattr(training_run, step, press_ctrl_c)
    assert main(["train", "--resume", str(run_dir), "--data-dir", str(home)]) == 130
    one_line(capsys, f"saved in {run_dir / BEST}")
    assert_best_loads(run_dir)
    assert (run_dir / "resume.pt").is_file(), "kept until the run folder is complete"
