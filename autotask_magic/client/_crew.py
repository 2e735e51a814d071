"""Threads of a partitioned pull: registered before they start, stopped by one Event, joined with a bound."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ._limits import stop_on

__all__ = ["POLL_SECONDS", "Crew", "thread_may_deliver"]

logger = logging.getLogger("autotask_magic.parallel")

#: How long a blocked consumer waits between checks that the workers are still alive.
POLL_SECONDS = 0.5
# How long a thread whose start was interrupted is given to begin.
_START_GRACE = 1.0
# A crew thread that has not begun this long after its start() is taken as lost (it never will).
_LOST_SECONDS = 10.0


def thread_may_deliver(t: threading.Thread, entered: threading.Event, since: float) -> bool:
    """False once a crew thread has ended, or has not begun within :data:`_LOST_SECONDS` of its start."""
    if entered.is_set():
        return t.is_alive()
    return time.monotonic() - since < _LOST_SECONDS


class Crew:
    """The pull's threads: registered before they start, stopped by one Event, joined with a bound.

    ThreadPoolExecutor registers a thread only once ``Thread.start()`` has returned, so a Ctrl-C landing
    inside ``start()`` left a running thread that ``shutdown(wait=True)`` neither stopped nor joined, and
    its joins have no bound. Here every thread is in :attr:`threads` before it is started, checks
    :attr:`stop` before each request, and :meth:`close` waits for each one at most a bounded time.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.stop = threading.Event()
        self.threads: list[tuple[threading.Thread, threading.Event]] = []

    def start(self, fn: Callable[[], None]) -> tuple[threading.Thread, threading.Event]:
        """Run ``fn`` on a new daemon thread (it must check :attr:`stop`); returns it and its 'began' event."""
        entered = threading.Event()

        def main() -> None:
            entered.set()
            # Waits for a rate or concurrency slot end when the pull stops (Ctrl-C must not wait them out).
            with stop_on(self.stop):
                fn()

        t = threading.Thread(target=main, name=f"{self.prefix}_{len(self.threads)}", daemon=True)
        # Registered before start(): an interrupt inside start() cannot leave it running unseen.
        self.threads.append((t, entered))
        t.start()
        return t, entered

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` on a crew thread; its outcome goes to the returned future."""
        fut: Future[Any] = Future()

        def call() -> None:
            # Not when stopping or cancelled; once running, cancel() can no longer change its state.
            if self.stop.is_set() or not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(fn())
            except BaseException as exc:  # handed to the consumer's thread
                fut.set_exception(exc)

        fut.crew_thread = self.start(call)  # type: ignore[attr-defined]
        return fut

    def result(self, fut: Future[Any]) -> Any:
        """``fut``'s result, waited for in steps: a thread that ended or never began cannot hang us."""
        t, entered = fut.crew_thread  # type: ignore[attr-defined]
        since = time.monotonic()
        while True:
            try:
                return fut.result(timeout=POLL_SECONDS)
            except FutureTimeout:
                if not thread_may_deliver(t, entered, since):
                    raise RuntimeError("a partition thread ended without a result") from None

    def close(self, timeout: float) -> list[threading.Thread]:
        """Stop every thread and join it, ``timeout`` s at most in all; returns those still running."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        late: list[threading.Thread] = []
        for t, entered in self.threads:
            # A thread whose start() was cut short may not have begun yet: give it a moment to begin
            # (it then sees `stop` and ends at once); one that never began has nothing to join.
            if not entered.wait(max(0.0, min(_START_GRACE, deadline - time.monotonic()))):
                continue
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                late.append(t)
        if late:
            logger.warning(
                "%d partition thread(s) still running after %.0f s; left to finish on their own", len(late), timeout
            )
        return late
