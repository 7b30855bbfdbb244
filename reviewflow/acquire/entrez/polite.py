"""Being a polite E-utilities client: a request rate limit and retries with back-off.

NCBI allows 3 requests per second without an API key and 10 with one. Both the clock and the
sleep are injectable so that tests run instantly and can check the spacing exactly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RATE_WITHOUT_KEY = 3.0
RATE_WITH_KEY = 10.0


class RateLimiter:
    """Spaces requests evenly: at most ``per_second`` requests in any one-second window."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        # a hair over 1/rate so that float rounding never lets rate+1 requests into one second
        self.interval = 1.0 / per_second * 1.001
        self.clock = clock
        self.sleep = sleep
        self._next_allowed: float | None = None

    def wait(self) -> None:
        """Block until the next request may be sent."""
        now = self.clock()
        if self._next_allowed is not None and now < self._next_allowed:
            self.sleep(self._next_allowed - now)
            now = max(self.clock(), self._next_allowed)
        self._next_allowed = now + self.interval


@dataclass
class Backoff:
    """Exponential back-off with jitter: attempt *n* (1-based) waits about ``base * 2**(n-1)``
    seconds, scaled by a random factor in [0.5, 1.5), capped at ``cap``."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 60.0
    random: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        wait = min(self.cap, self.base * 2 ** (attempt - 1)) * (0.5 + self.random())
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds (HTTP dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
