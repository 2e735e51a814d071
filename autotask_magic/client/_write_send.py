"""Sending planned writes: three at a time per endpoint, within the client's limits, each with one outcome.

Each write is sent once. A 429 means the server refused it before doing anything, so it is sent again
after the pause the server asked for; any other answer is final: a success is ``ok``, an error answer
``failed`` (with the server's words), and a write whose answer never came (dropped connection, timeout,
gateway error) is ``unknown`` and never sent again here. Ctrl-C stops the queue: writes in flight
finish, the others are ``not sent``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._exceptions import AutotaskError, RateLimitError, WriteOutcomeUnknownError
from ._limits import Stopped, stop_on

if TYPE_CHECKING:  # pragma: no cover
    from ._client import AutotaskClient

__all__ = ["IN_FLIGHT", "Job", "Outcome", "Progress", "send_all"]

#: Writes in flight at once: the API's limit of concurrent requests per endpoint.
IN_FLIGHT = 3
# 429 answers one write may get before it is reported failed (each waits out its Retry-After).
_MAX_429 = 8
# How often the waiting thread reports progress and notices Ctrl-C.
_POLL = 0.2

Progress = Callable[[int, int, int, int], None]  # (ok, failed, unknown, total)


@dataclass(frozen=True)
class Job:
    """One write: the frame row it comes from, and the request."""

    key: Any
    id: int | None
    method: str
    path: str
    body: Any = None


@dataclass(frozen=True)
class Outcome:
    """What became of one row: ``ok``, ``failed``, ``unknown`` or ``not sent``; ``item_id`` from the answer."""

    key: Any
    id: int | None
    status: str
    message: str = ""
    item_id: int | None = None


class _Tally:
    def __init__(self, total: int) -> None:
        self.lock = threading.Lock()
        self.outcomes: dict[Any, Outcome] = {}
        self.total = total

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes[outcome.key] = outcome

    def counts(self) -> tuple[int, int, int, int]:
        with self.lock:
            statuses = [o.status for o in self.outcomes.values()]
        return statuses.count("ok"), statuses.count("failed"), statuses.count("unknown"), self.total


def send_all(
    client: AutotaskClient, jobs: Sequence[Job], *, on_progress: Progress | None = None
) -> tuple[dict[Any, Outcome], bool]:
    """Send ``jobs`` (at most :data:`IN_FLIGHT` at once); returns every job's outcome and whether Ctrl-C stopped it.

    The client's limits (rate window, per-endpoint slots, 429 pause) apply to every request as usual.
    """
    queue = deque(jobs)
    tally = _Tally(len(jobs))
    stop = threading.Event()
    lock = threading.Lock()

    def work() -> None:
        with stop_on(stop):  # a wait for a rate slot ends at once when stopped
            while not stop.is_set():
                with lock:
                    if not queue:
                        return
                    job = queue.popleft()
                tally.add(send_one(client, job, stop))

    threads = [threading.Thread(target=work, name=f"autotask_write_{i}", daemon=True) for i in range(IN_FLIGHT)]
    interrupted = False
    try:
        # Started inside the try: a Ctrl-C between two starts must stop the threads already running.
        for t in threads:
            t.start()
        _wait(threads, tally, on_progress)
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        # The writes in flight finish (their outcome is then known); nothing new starts.
        for t in threads:
            if t.is_alive():
                t.join()
    outcomes = dict(tally.outcomes)
    for job in jobs:
        if job.key not in outcomes:
            outcomes[job.key] = Outcome(job.key, job.id, "not sent", "stopped (Ctrl-C) before it was sent")
    if on_progress is not None:
        try:
            on_progress(*tally.counts())
        except KeyboardInterrupt:  # a second Ctrl-C while the last count is shown: nothing is left to stop
            interrupted = True
    return outcomes, interrupted


def _wait(threads: list[threading.Thread], tally: _Tally, on_progress: Progress | None) -> None:
    last: tuple[int, int, int, int] | None = None
    for t in threads:
        while t.is_alive():
            t.join(_POLL)
            now = tally.counts()
            if on_progress is not None and now != last:
                on_progress(*now)
                last = now


def send_one(client: AutotaskClient, job: Job, stop: threading.Event) -> Outcome:
    """Send one write and say what became of it (never raises for an answer, only for a bug)."""
    refusals = 0
    while True:
        try:
            answer = client.request(job.method, job.path, json=job.body)
        except Stopped:
            return Outcome(job.key, job.id, "not sent", "stopped (Ctrl-C) before it was sent")
        except RateLimitError as exc:
            refusals += 1
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            # A 429 was refused before anything happened: sending it again cannot duplicate it.
            if refusals > _MAX_429 or wait > client.retry.max_retry_after or stop.is_set():
                return Outcome(job.key, job.id, "failed", _words(exc))
            client.manager.limits.gate.pause(wait)
            continue
        except WriteOutcomeUnknownError as exc:
            return Outcome(job.key, job.id, "unknown", exc.message)
        except AutotaskError as exc:
            return Outcome(job.key, job.id, "failed", _words(exc))
        item = answer.get("itemId") if isinstance(answer, dict) else None
        return Outcome(job.key, job.id, "ok", "", _int_or_none(item))


def _words(exc: AutotaskError) -> str:
    """The server's own words when it gave any, else the error's message (never the hint or request)."""
    if exc.server_messages:
        return "; ".join(exc.server_messages)
    return f"HTTP {exc.status}: {exc.message}" if exc.status else exc.message


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
