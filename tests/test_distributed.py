"""Data-parallel training: two CPU processes (gloo) train what one process with the same global
batch trains, and `torchrun ... train` reaches the accuracy of one process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from scoring import accuracy

from mnist_digits.core.errors import ConfigError
from mnist_digits.data.dataset import load_dataset, normalized_tensors
from mnist_digits.data.specs import MNIST
from mnist_digits.training import distributed
from mnist_digits.training.config import resolve_config
from mnist_digits.training.loop import train
from mnist_digits.training.tensors import TrainData, prepare_data


def _learnable_data() -> TrainData:
    """1,200 noise images labelled by a fixed random linear map: learnable in a few epochs."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1200, 1, 28, 28, generator=g)
    y = (x.flatten(1) @ torch.randn(784, 10, generator=g)).argmax(1)
    return TrainData(x[:1000], y[:1000], x[1000:], y[1000:], MNIST.contract)


def _config():
    # No augmentation: each rank draws its own distortions, so only without them can the two
    # runs agree to rounding error rather than to noise.
    return replace(resolve_config({}, {"model": "mlp-seed"}), epochs=2, batch_size=100)


def _rank_main(rank: int, port: int, out: str) -> None:
    """One of two ranks; rank 0 saves what it trained for the parent to compare."""
    os.environ.update(
        {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2"}
        | {"RANK": str(rank), "LOCAL_RANK": str(rank)}
    )
    torch.set_num_threads(1)
    with distributed.process_group(torch.device("cpu")):
        result = train(_config(), _learnable_data())
    if rank == 0:
        torch.save({"state": result.model.state_dict(), "history": result.history}, out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_helpers_do_nothing_outside_torchrun():
    idx, value = torch.arange(10), torch.tensor(3.0)
    assert not distributed.active() and distributed.is_main() and distributed.world_size() == 1
    assert distributed.shard(idx) is idx and distributed.sum_across(value) == (value,)
    model = torch.nn.Linear(2, 2)
    assert distributed.wrap_model(model, torch.device("cpu")) is model
    distributed.check_batches(1001, 100)  # one process never lacks images


def test_a_stray_rank_variable_does_not_silence_a_single_process(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.is_main()
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert distributed.launched() and not distributed.is_main()


def test_a_batch_that_leaves_a_rank_empty_is_refused(monkeypatch):
    monkeypatch.setattr(distributed, "active", lambda: True)
    monkeypatch.setattr(distributed, "world_size", lambda: 2)
    with pytest.raises(ConfigError, match="leaves a rank of 2 without images"):
        distributed.check_batches(1001, 100)  # the last batch holds 1 image
    distributed.check_batches(1000, 100)


@pytest.mark.slow
def test_two_processes_train_what_one_trains_with_the_same_global_batch(tmp_path, one_thread):
    out = tmp_path / "rank0.pt"
    mp.spawn(_rank_main, args=(_free_port(), str(out)), nprocs=2, join=True)
    ddp = torch.load(out, weights_only=False)
    one = train(_config(), _learnable_data())
    for key, value in one.model.state_dict().items():
        torch.testing.assert_close(ddp["state"][key], value, rtol=1e-4, atol=1e-5)
    for a, b in zip(ddp["history"], one.history, strict=True):
        assert a.train_loss == pytest.approx(b.train_loss, rel=1e-4)
        assert (a.train_acc, a.val_acc) == pytest.approx((b.train_acc, b.val_acc), abs=2e-3)


@pytest.mark.slow
def test_torchrun_two_cpu_processes_reach_the_floor_of_one(mnist_home, tmp_path, one_thread):
    """2 epochs of mlp-seed on MNIST: both ways clear 95% on the test split, within noise."""
    run = tmp_path / "ddp"
    # 1,000 validation images, not 5,000: calibration after training preprocesses each of them
    # and as many non-digits like user images (24 s of a 42 s run here at 5,000).
    flags = ["--model", "mlp-seed", "--epochs", "2", "--val-size", "1000"]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cmd += ["-m", "mnist_digits", "train", *flags, "--out", str(run), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.strip().splitlines()  # rank 0 alone prints
    ddp = json.loads(line)
    cfg = resolve_config({}, {"model": "mlp-seed", "epochs": 2, "val_size": 1000})
    one = train(cfg, prepare_data(cfg, load_dataset("mnist", "train"), torch.device("cpu")))
    x_test, y_test = normalized_tensors(load_dataset("mnist", "test"))
    one_test = accuracy(one.model, x_test, y_test)
    assert ddp["test_accuracy"] >= 0.95 and one_test >= 0.95
    assert abs(ddp["test_accuracy"] - one_test) <= 0.005  # the same training, up to noise
    # Rank 0 alone wrote the folder: one line per epoch, not one per rank.
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert {"best.safetensors", "summary.json", "config.json"} <= {p.name for p in run.iterdir()}
    assert Path(ddp["run_dir"]) == run
