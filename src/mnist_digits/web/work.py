"""CPU work off the event loop: decoding, preprocessing and the model run in bounded threads.

A request's image work never runs on the event loop, so health checks and other requests are
answered while an image is read (a 16 MP 16-bit PNG holds a core for ~0.3 s). Work goes
through two lanes, each a few threads with a short queue:

- the *fast* lane reads every image first, within ``FAST_PIXELS``: the page's canvas, 28×28
  pixels and ordinary uploads are answered here in milliseconds;
- an image that the fast lane cannot read (too large for it, or broken) is read again in the
  *slow* lane with the full limits, which also gives the final error message. Batches run
  there too. Large or hostile images therefore queue behind each other, not before drawings.

A lane whose threads are busy and whose queue is full answers 503 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import HTTPException

from mnist_digits.core.errors import ImageError
from mnist_digits.core.limits import MAX_PIXELS

T = TypeVar("T")

# The page sends 280x280 (number mode 560x280) PNGs; 1 MP covers those and any ordinary
# photo crop, and a 1 MP 16-bit PNG takes ~20 ms here. Larger images go to the slow lane.
FAST_PIXELS = 1_000_000
# Two threads: while one waits on a C call that releases the GIL (PNG inflate, resampling,
# the forward pass) the other runs; more gain nothing in one process (the GIL).
FAST_THREADS = 2
SLOW_THREADS = 1  # one large image at a time per process bounds memory (~130 MB at 16 MP)
# Jobs allowed to wait per lane: at ~3 ms per drawing, 32 waiting is ~50 ms of queue; at up
# to 0.4 s per large image, 4 waiting is under 2 s.
FAST_QUEUE = 32
SLOW_QUEUE = 4
RETRY_AFTER = "1"  # seconds; a busy lane drains well within a second or two


@dataclass
class Lane:
    """A few threads and a bounded queue in front of them."""

    name: str
    threads: int
    queue: int
    in_flight: int = 0  # running and waiting

    def __post_init__(self) -> None:
        self.limiter = CapacityLimiter(self.threads)

    async def run(self, job: Callable[[], T]) -> T:
        """Run ``job`` in one of this lane's threads; 503 when the lane is full."""
        if self.in_flight >= self.threads + self.queue:
            raise HTTPException(
                503,
                f"the server is busy reading {self.in_flight} {self.name} images; "
                f"retry in {RETRY_AFTER} s",
                headers={"Retry-After": RETRY_AFTER},
            )
        self.in_flight += 1
        try:
            return await to_thread.run_sync(job, limiter=self.limiter)
        finally:
            self.in_flight -= 1


class Work:
    """The fast and slow lanes of one server process (see the module docstring)."""

    def __init__(
        self,
        fast_threads: int = FAST_THREADS,
        slow_threads: int = SLOW_THREADS,
        fast_queue: int = FAST_QUEUE,
        slow_queue: int = SLOW_QUEUE,
    ) -> None:
        self.fast = Lane("small", fast_threads, fast_queue)
        self.slow = Lane("large", slow_threads, slow_queue)

    async def read(self, job: Callable[[int], T]) -> T:
        """Run ``job(max_pixels)``: in the fast lane within ``FAST_PIXELS``, else in the slow.

        ``job`` gets the most pixels it may decode per image (``MAX_PIXELS``: the usual). An
        ``ImageError`` in the fast lane sends the image to the slow lane, whose answer or
        error is final: errors name the real limits, and no image is refused for the fast
        lane's budget alone.
        """
        try:
            return await self.fast.run(lambda: job(FAST_PIXELS))
        except ImageError:
            return await self.slow.run(lambda: job(MAX_PIXELS))

    async def heavy(self, job: Callable[[], T]) -> T:
        """Run ``job`` (a batch) in the slow lane."""
        return await self.slow.run(job)
