"""A token bucket per client address for the routes that write (the samples routes).

Each client (its address, as the server sees it) has a bucket of ``burst`` tokens refilled at
``rate`` per second; a write takes one, and with none left the answer is 429 with
``Retry-After``. The buckets live in one server process: with ``--workers N`` a client may get
up to N times the rate, which still bounds what one client can write.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import HTTPException

# 10 writes a second with a burst of 30: a writer in collect mode saves one drawing every
# second or two, a class of 30 behind one address (a school's NAT) still fits, and a script
# cannot fill the disk (10/s of ~5 kB rows is 180 MB a hour at most).
RATE = 10.0
BURST = 30
MAX_CLIENTS = 10_000  # buckets kept; the least recently seen are dropped (they are full again)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets by client key (see the module docstring)."""

    def __init__(self, rate: float = RATE, burst: int = BURST) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str, now: float | None = None) -> None:
        """Take one token for ``client``.

        Raises:
            HTTPException: 429 with ``Retry-After`` (whole seconds) when its bucket is empty.
        """
        now = time.monotonic() if now is None else now
        bucket = self._buckets.pop(client, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        self._buckets[client] = bucket
        if len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        if bucket.tokens < 1:
            wait = max(1, math.ceil((1 - bucket.tokens) / self.rate))
            raise HTTPException(
                429,
                f"too many samples from this address ({self.rate:g} a second, bursts of "
                f"{self.burst}); retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        bucket.tokens -= 1
