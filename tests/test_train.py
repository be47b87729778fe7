"""Training: shuffling, schedules, and the classic network end to end on the real MNIST."""

import json
import statistics
from dataclasses import replace

import pytest
import torch
from scoring import accuracy

from mnist_digits.cli import main
from mnist_digits.data.dataset import load_dataset, normalized_tensors
from mnist_digits.data.specs import MNIST
from mnist_digits.data.split import split_indices
from mnist_digits.training import loop
from mnist_digits.training.config import resolve_config
from mnist_digits.training.loop import Progress, train, use_autocast
from mnist_digits.training.optim import lr_factor
from mnist_digits.training.tensors import TrainData, epoch_batches, prepare_data


def test_epoch_batches_cover_every_index_once_and_reshuffle():
    gen = torch.Generator().manual_seed(0)
    first = epoch_batches(1000, 128, gen, torch.device("cpu"))
    second = epoch_batches(1000, 128, gen, torch.device("cpu"))
    for batches in (first, second):
        assert [len(b) for b in batches] == [128] * 7 + [104]
        assert torch.cat(batches).sort().values.tolist() == list(range(1000))
    assert not torch.equal(torch.cat(first), torch.cat(second)), "each epoch gets a new order"
    again = epoch_batches(1000, 128, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert torch.equal(torch.cat(first), torch.cat(again)), "the same seed, the same order"


def test_validation_split_is_fixed_and_disjoint():
    tr, va = split_indices(60000, 5000, seed=0)
    _tr2, va2 = split_indices(60000, 5000, seed=0)
    assert torch.equal(va, va2) and len(va) == 5000 and len(tr) == 55000
    assert not set(va.tolist()) & set(tr.tolist())


@pytest.mark.parametrize("schedule", ["onecycle", "linear", "constant"])
def test_lr_schedules(schedule):
    cfg = replace(resolve_config({}, {}), schedule=schedule, warmup=0.1)
    f = [lr_factor(cfg, s, 100) for s in range(100)]
    assert max(f) == pytest.approx(1.0)
    if schedule == "constant":
        assert set(f) == {1.0}
    else:
        assert f[0] < f[9] and f[99] < 0.05 and f[50] > f[90]


@pytest.mark.slow
def test_mlp_seed_reaches_97_percent_mean_of_3_seeds(mnist_home):
    train_split = load_dataset("mnist", "train")
    x_test, y_test = normalized_tensors(load_dataset("mnist", "test"))
    cfg = resolve_config({}, {"model": "mlp-seed", "epochs": 10})
    data = prepare_data(cfg, train_split, torch.device("cpu"))
    accs = []
    for seed in range(3):
        result = train(replace(cfg, seed=seed), data)
        assert result.best_val_acc > 0.965
        accs.append(accuracy(result.model, x_test, y_test))
    assert statistics.mean(accs) >= 0.97, accs


@pytest.mark.slow
def test_train_and_evaluate_cli_end_to_end(mnist_home, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "mlp-seed", "--epochs", "2", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("model", "epochs", "seed", "train_seconds", "val_accuracy", "test_accuracy"):
        assert key in summary
    assert summary["run_dir"] == str(out) and 0.9 < summary["test_accuracy"] <= 1
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "metrics.jsonl", "best.safetensors", "summary.json"} <= names
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
    assert main(["evaluate", str(out), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["accuracy"] == pytest.approx(summary["test_accuracy"])
    assert len(ev["per_class"]["recall"]) == 10
    # A non-empty run folder is refused without --force, with one line and no traceback.
    assert main(["train", "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and "Traceback" not in err


@pytest.mark.slow
def test_ctrl_c_saves_state_and_resume_finishes_the_run(mnist_home, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "mnist_digits", "train", "--model", "mlp-seed", "--epochs", "3"]
    proc = subprocess.Popen([*cmd, "--out", str(out)], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (
        (out / "metrics.jsonl").exists() and (out / "metrics.jsonl").read_text().strip()
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "continue with: mnist-digits train --resume" in err and "Traceback" not in err
    assert (out / "resume.pt").is_file() and not (out / "summary.json").exists()
    done = subprocess.run(
        [*cmd[:3], "train", "--resume", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs"] == 3
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3
    assert not (out / "resume.pt").exists()


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_epoch_end_event_carries_the_model_validation_judged(ema):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, 1, 28, 28, generator=g), torch.randint(0, 10, (300,), generator=g)
    data = TrainData(x[:200], y[:200], x[200:], y[200:], MNIST.contract)
    cfg = replace(resolve_config({}, {"model": "mlp-seed"}), epochs=2, batch_size=64, ema=ema)
    kinds, scores = [], []

    def on_event(event: Progress) -> None:
        kinds.append((event.kind, event.model is not None))
        if event.kind == "epoch_end":
            assert event.stats is not None and event.model is not None
            scores.append((accuracy(event.model, x[200:], y[200:]), event.stats.val_acc))

    train(cfg, data, callback=on_event)
    assert {k for k in kinds if k[0] == "step"} == {("step", False)}
    assert kinds.count(("epoch_end", True)) == 2
    # The event's model is the one validation judged (the EMA copy when ema > 0): it scores
    # exactly the validation accuracy recorded for that epoch.
    assert [a for a, _ in scores] == [v for _, v in scores]


def test_cpu_bf16_is_used_only_where_asked_and_native(monkeypatch):
    cfg = resolve_config({}, {"model": "cnn-small"})
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(loop, "native_cpu_bf16", lambda: True)
    assert not use_autocast(cfg, cpu)  # off unless the recipe asks
    assert use_autocast(replace(cfg, cpu_bf16=True), cpu)
    assert use_autocast(cfg, cuda) and not use_autocast(replace(cfg, amp=False), cuda)
    monkeypatch.setattr(loop, "native_cpu_bf16", lambda: False)
    assert not use_autocast(replace(cfg, cpu_bf16=True), cpu)  # emulated bf16: stay in fp32


def test_training_under_cpu_bf16_keeps_fp32_weights_and_learns(monkeypatch):
    monkeypatch.setattr(loop, "native_cpu_bf16", lambda: True)  # the bf16 path on any CPU
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (320,), generator=g)
    x = torch.randn(320, 1, 28, 28, generator=g) * 0.3 + y.view(-1, 1, 1, 1) * 1.0  # learnable
    data = TrainData(x[:256], y[:256], x[256:], y[256:], MNIST.contract)
    cfg = resolve_config({}, {"model": "cnn-small", "cpu_bf16": True})
    cfg = replace(cfg, epochs=2, batch_size=32, augment=0.0)
    result = train(cfg, data)
    assert all(p.dtype == torch.float32 for p in result.model.parameters())
    assert result.best_val_acc > 0.9
