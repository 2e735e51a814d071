"""Client-side limits: a sliding request window, per-endpoint concurrency, the hourly count and a 429 pause.

All waits use the injected clock for bookkeeping and real (interruptible) condition waits for blocking.
Each condition is entered through its plain ``threading.Lock`` (a C-level ``with``): a Ctrl-C cannot land
between taking and releasing it, as it can inside ``Condition.__exit__`` (Python code), which would leave
the lock held for good. A thread inside :func:`stop_on` leaves any wait here once its event is set.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

#: The largest answer body accepted, decoded (``max_response_bytes``): a 500-record page is ~1-3 MB.
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

__all__ = [
    "Clock",
    "EndpointLimiter",
    "Limits",
    "PauseGate",
    "SlidingWindow",
    "Stopped",
    "SystemClock",
    "endpoint_key",
    "stop_on",
]

_local = threading.local()


class Stopped(BaseException):
    """A wait for a limit ended because the work it was for was stopped (see :func:`stop_on`).

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` turns it into an error.
    """


@contextmanager
def stop_on(event: threading.Event) -> Iterator[None]:
    """Within the block, this thread's waits for a limit raise :class:`Stopped` once ``event`` is set."""
    previous = getattr(_local, "stop", None)
    _local.stop = event
    try:
        yield
    finally:
        _local.stop = previous


def _check_stop() -> None:
    event: threading.Event | None = getattr(_local, "stop", None)
    if event is not None and event.is_set():
        raise Stopped("stopped while waiting for a request slot")


class Clock(Protocol):
    """What the limits and the credential manager need from a clock."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary, never-decreasing origin."""
        return time.monotonic()

    def time(self) -> float:
        """Wall-clock seconds since the epoch."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)


_ID = re.compile(r"^-?\d+$")


def endpoint_key(method: str, path: str) -> str:
    """``"POST Tickets/query"`` for ``POST /ATServicesRest/V1.0/Tickets/query?x``; numeric ids become ``{id}``."""
    path = path.split("?", 1)[0]
    low = path.lower()
    marker = "/v1.0/"
    idx = low.find(marker)
    if idx >= 0:
        path = path[idx + len(marker) :]
    parts = [("{id}" if _ID.match(p) else p) for p in path.strip("/").split("/") if p]
    return f"{method.upper()} {'/'.join(parts)}"


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds; :meth:`acquire` blocks for a slot."""

    def __init__(self, limit: int, window: float = 60.0, clock: Clock | None = None) -> None:
        self.limit = int(limit)
        self.window = float(window)
        self.clock: Clock = clock or SystemClock()
        self._events: deque[float] = deque()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    def _prune(self, now: float) -> None:
        cutoff = now - self.window
        while self._events and self._events[0] <= cutoff:
            self._events.popleft()

    def wait_time(self) -> float:
        """Seconds until a slot is free (0 when one is free now), taking none."""
        with self._lock:
            now = self.clock.monotonic()
            self._prune(now)
            if len(self._events) < self.limit:
                return 0.0
            return max(0.0, self._events[0] + self.window - now)

    def try_acquire(self) -> float:
        """Take a slot and return 0, or return the seconds to wait without taking one."""
        with self._lock:
            now = self.clock.monotonic()
            self._prune(now)
            if len(self._events) < self.limit:
                self._events.append(now)
                return 0.0
            return max(1e-3, self._events[0] + self.window - now)

    def acquire(self, max_wait: float | None = None) -> None:
        """Block until a slot is free, then take it. ``max_wait`` exceeded -> TimeoutError."""
        waited = 0.0
        while True:
            delay = self.try_acquire()
            if delay == 0.0:
                return
            if max_wait is not None and waited + delay > max_wait:
                raise TimeoutError(delay)
            # Sleep in short steps so a shrunk window or a cleared event is noticed promptly.
            step = min(delay, 0.25)
            _check_stop()
            with self._lock:
                self._cond.wait(step)
            waited += step

    def count(self) -> int:
        """Events in the current window."""
        with self._lock:
            self._prune(self.clock.monotonic())
            return len(self._events)

    def reset(self) -> None:
        """Forget every event."""
        with self._lock:
            self._events.clear()
            self._cond.notify_all()


class EndpointLimiter:
    """At most ``limit`` requests in flight per endpoint key."""

    def __init__(self, limit: int = 3) -> None:
        self.limit = int(limit)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._in_flight: dict[str, int] = {}

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        """Hold one of the endpoint's slots for the duration of the block."""
        taken = False
        try:
            with self._lock:
                while self._in_flight.get(key, 0) >= self.limit:
                    _check_stop()
                    self._cond.wait(0.25)
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
                taken = True
            # Ctrl-C can land as the `with` above exits: the slot is released below, never leaked.
            yield
        finally:
            if taken:
                with self._lock:
                    n = self._in_flight.get(key, 1) - 1
                    if n <= 0:
                        self._in_flight.pop(key, None)
                    else:
                        self._in_flight[key] = n
                    self._cond.notify_all()

    def in_flight(self, key: str) -> int:
        """Requests currently in flight for ``key``."""
        with self._lock:
            return self._in_flight.get(key, 0)


class PauseGate:
    """Client-wide pause after a 429: every request waits until the Retry-After deadline."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._until = 0.0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (extends, never shortens, a pause)."""
        with self._lock:
            self._until = max(self._until, self.clock.monotonic() + max(0.0, seconds))

    def remaining(self) -> float:
        """Seconds left in the current pause."""
        with self._lock:
            return max(0.0, self._until - self.clock.monotonic())

    def wait(self) -> None:
        """Block until no pause is in force."""
        while True:
            left = self.remaining()
            if left <= 0:
                return
            _check_stop()
            with self._lock:
                self._cond.wait(min(left, 0.25))


class Limits:
    """The limits one set of credentials shares across clients: rate window, concurrency, pause, hourly count."""

    def __init__(
        self,
        *,
        rate_limit: int = 600,
        rate_window: float = 60.0,
        concurrency_per_endpoint: int = 3,
        hourly: bool = False,
        hourly_window: float = 3600.0,
        clock: Clock | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.rate = SlidingWindow(rate_limit, rate_window, self.clock)
        self.endpoints = EndpointLimiter(concurrency_per_endpoint)
        self.gate = PauseGate(self.clock)
        # The hourly window only counts (the server enforces the threshold); 10k entries at most.
        self.hourly: SlidingWindow | None = SlidingWindow(10**9, hourly_window, self.clock) if hourly else None
        self.on_request = on_request

    @contextmanager
    def request(self, key: str) -> Iterator[None]:
        """Wait for the pause gate, an endpoint slot and a rate slot; count the request; hold the slot."""
        self.gate.wait()
        with self.endpoints.slot(key):
            self.rate.acquire()
            if self.hourly is not None:
                self.hourly.try_acquire()
            if self.on_request is not None:
                self.on_request()
            yield
