"""A fake clock for everything that accepts one (the credential manager, limits, the widget's view)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

#: Where every FakeClock starts unless told otherwise.
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """Monotonic and wall clocks that only move when told; ``sleep`` records the wait and advances both.

    It has the manager's clock interface (``monotonic()``, ``time()``, ``sleep()``) plus ``now()`` for views.
    """

    def __init__(self, start: datetime = T0) -> None:
        self.mono = 1000.0
        self.wall = start.timestamp()
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.mono

    def time(self) -> float:
        with self._lock:
            return self.wall

    def now(self) -> datetime:
        """The wall time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float, *, mono: bool = True, wall: bool = True) -> None:
        with self._lock:
            if mono:
                self.mono += seconds
            if wall:
                self.wall += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
