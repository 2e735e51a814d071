"""Waiting for other threads without timing assertions: bounded polls and joins only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], bool], what: str, attempts: int = 1000) -> None:
    """Poll ``condition`` every 10 ms, at most ``attempts`` times (threads deliver asynchronously)."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def crowd(n: int, fn: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``fn`` in ``n`` threads released together (bounded waits); its results and exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait(timeout=10)
        try:
            r = fn()
            with lock:
                results.append(r)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results, errors


def settle_threads(before: set[threading.Thread], *, seconds: float = 10.0) -> list[threading.Thread]:
    """Threads started since ``before`` that are still alive after waiting (bounded) for them to end."""
    deadline = time.monotonic() + seconds
    while True:
        extra = [
            t
            for t in threading.enumerate()
            if t not in before
            and t.is_alive()
            and not t.name.startswith("autotask-sandbox")
            and "process_request_thread" not in t.name
        ]
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.05)
