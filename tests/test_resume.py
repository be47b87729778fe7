"""Ctrl-C stops at a step boundary, saves the state, and --resume continues exactly."""

import os
import signal
from dataclasses import replace

import pytest
import torch

from mnist_digits.data.specs import MNIST
from mnist_digits.training.config import resolve_config
from mnist_digits.training.interrupt import TrainingInterrupted
from mnist_digits.training.loop import Progress, train
from mnist_digits.training.tensors import TrainData


def _tiny_data() -> TrainData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(600, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (600,), generator=g)
    return TrainData(x[:500], y[:500], x[500:], y[500:], MNIST.contract)


@pytest.mark.parametrize("model", ["mlp-seed", "cnn-small"])
def test_interrupt_then_resume_equals_uninterrupted(model, monkeypatch):
    monkeypatch.setattr("mnist_digits.training.loop.LOG_EVERY", 1)
    cfg = replace(
        resolve_config({}, {"model": model}), epochs=3, batch_size=32, augment=1.0, ema=0.9
    )
    data = _tiny_data()
    straight = train(cfg, data)

    def press_ctrl_c(event: Progress) -> None:
        if event.kind == "step" and event.epoch == 2 and event.step == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted) as stop:
        train(cfg, data, callback=press_ctrl_c)
    assert (stop.value.epoch, stop.value.step) == (2, 4)  # stopped at the next step boundary
    resumed = train(cfg, data, resume=stop.value.state)
    assert [h.val_acc for h in resumed.history] == [h.val_acc for h in straight.history]
    for key, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, rtol=0, atol=0)
