"""Ctrl-C during training: the first press stops at the next step boundary with a state that
resumes exactly; a second press interrupts at once."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from mnist_digits.training import distributed


class TrainingInterrupted(Exception):
    """Raised when training is interrupted (Ctrl-C); ``state`` resumes it exactly."""

    def __init__(self, state: dict[str, Any], epoch: int, step: int) -> None:
        super().__init__(f"interrupted at epoch {epoch}, step {step}")
        self.state, self.epoch, self.step = state, epoch, step


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Callable[[], bool]]:
    """Turn the first Ctrl-C into a flag the loop checks between steps, so training stops at a
    step boundary with a consistent state; a second Ctrl-C interrupts at once."""
    # Under torchrun each rank would see the flag at a different step and their collectives
    # would no longer match, so there Ctrl-C interrupts at once.
    if threading.current_thread() is not threading.main_thread() or distributed.active():
        yield lambda: False
        return
    pressed = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if pressed.is_set():
            raise KeyboardInterrupt
        pressed.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
