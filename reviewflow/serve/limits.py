"""Failed sign-ins: a delay on every failure and a limit per name and per client address.

After ``per_name`` failures for one name, or ``per_client`` from one address, within ``window``
seconds, further attempts are refused until the oldest failure leaves the window, whatever the
passphrase. Unknown names count like known ones, so the limit tells nothing about who exists.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

FAILURE_DELAY_S = 1.0


@dataclass
class FailureLimiter:
    per_name: int = 5
    per_client: int = 20
    window: float = 15 * 60
    clock: object = field(default=time.monotonic)
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _now(self) -> float:
        return float(self.clock())  # type: ignore[operator]

    def _recent(self, key: str) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= self._now() - self.window:
            times.popleft()
        return times

    def wait_seconds(self, name: str, client: str) -> float:
        """0 when an attempt may be made now; else how long until one may."""
        waits = []
        for key, limit in ((f"name:{name.casefold()}", self.per_name),
                           (f"client:{client}", self.per_client)):  # fmt: skip
            times = self._recent(key)
            if len(times) >= limit:
                waits.append(times[0] + self.window - self._now())
        return max(waits, default=0.0)

    def failed(self, name: str, client: str) -> int:
        """Count a failure; returns how many this name has had in the window."""
        now = self._now()
        self._recent(f"client:{client}").append(now)
        times = self._recent(f"name:{name.casefold()}")
        times.append(now)
        return len(times)

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"name:{name.casefold()}", None)
