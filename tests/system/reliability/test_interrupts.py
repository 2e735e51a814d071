"""Ctrl-C at random points of a pull: no stuck lock, no leaked thread or connection, partial kept, next call works."""

from __future__ import annotations

import gc
import random
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic import AutotaskClient
from autotask_magic._exceptions import IncompletePullError
from autotask_magic.notebook import _magics
from autotask_magic.sandbox import Sandbox
from tests._support.clients import oauth_client, server_limits_held
from tests._support.tally import Tally
from tests._support.threads import settle_threads


class _Interrupter:
    """Presses Ctrl-C (SIGINT to the main thread) after ``delay`` s, unless the work finished first.

    A real signal, as a terminal or a kernel sends it, rather than ``PyThreadState_SetAsyncExc``: on
    CPython 3.11 the latter can hand the exception to a thread that is being created (its preallocated
    state still carries its creator's id), which then dies before ``Thread.start()`` returns and the
    main thread never sees the interrupt. If Python swallows the KeyboardInterrupt because it landed in
    a gc callback or a ``__del__`` ("Exception ignored in ..."), or CPython dropped it silently inside a
    socket finalizer's warning, Ctrl-C is pressed again, a bounded number of times, so every interrupt
    that fires reaches the code under test.

    Garbage left by earlier code is collected on entry, before any press can land: CPython drops, without
    a trace, a KeyboardInterrupt raised while the cyclic GC finalizes an unclosed socket (the finalizer
    keeps only Warnings), and the handler's frame then names whatever code the GC interrupted, so the
    lost press looks like the pull's. Measured with 150 leaked sockets per round: 39 of 40 presses lost
    when they are finalized inside the window, 0 of 40 when collected first.
    """

    MAX_PRESSES = 5

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.done = False
        self.fired = False
        self.swallowed = 0
        self.landed: list[str] = []
        self._again = threading.Event()
        self.target = threading.main_thread().ident
        self.thread = threading.Thread(target=self._run, name="test-interrupter", daemon=True)

    def _run(self) -> None:
        time.sleep(self.delay)
        for _ in range(self.MAX_PRESSES):
            with self.lock:
                if self.done:
                    return
                self._again.clear()
                self.fired = True  # before the signal: the handler may run (and _swallowed() too) at once
                signal.pthread_kill(self.target, signal.SIGINT)
            # Bounded: the guarded work ends (finish) well within this, or the press was swallowed.
            deadline = time.monotonic() + 60
            while not self._again.wait(0.05):
                with self.lock:
                    if self.done or time.monotonic() > deadline:
                        return

    def _on_sigint(self, signum: int, frame: Any) -> None:
        # Where each press landed, so a press the code never saw can be told apart and reported.
        if frame is not None:
            self.landed.append(f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno} {frame.f_code.co_name}")
        # CPython drops, without telling the unraisable hook, an exception raised while a socket's
        # finalizer formats its "unclosed socket" ResourceWarning (socket.__repr__): press again then.
        if frame is not None and frame.f_code.co_name == "__repr__" and frame.f_code.co_filename.endswith("socket.py"):
            self._swallowed()
        raise KeyboardInterrupt

    def _swallowed(self) -> None:
        # This press never reached the code under test: it counts as fired again only once pressed again
        # (the work may finish before the next press, and then Ctrl-C was never seen by it).
        self.fired = False
        self.swallowed += 1
        self._again.set()

    def _unraisable(self, info: Any) -> None:
        if isinstance(info.exc_value, KeyboardInterrupt) and self.fired and not self.done:
            self._swallowed()  # press again: this one never reached the code under test
            return
        self._previous_hook(info)

    def __enter__(self) -> _Interrupter:
        assert threading.current_thread() is threading.main_thread()
        gc.collect()
        self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        self.thread.start()
        return self

    def finish(self) -> None:
        """Call as the last statement of the guarded work: after this the interrupt can no longer fire."""
        with self.lock:
            self.done = True

    def __exit__(self, *exc: Any) -> None:
        # Also on an unexpected error: an interrupt must never land in pytest itself.
        self.finish()
        self.thread.join(timeout=10)
        sys.unraisablehook = self._previous_hook
        signal.signal(signal.SIGINT, self._previous_handler)


def _assert_clean(client: AutotaskClient, sb: Sandbox, before: set[threading.Thread]) -> None:
    """No stuck lock, no leaked thread, no connection left mid-request (client or server side)."""
    assert settle_threads(before) == []
    m = client.manager
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(m._lock.acquire(timeout=2) and (m._lock.release() or True)))
    t.start()
    t.join(5)
    assert got == [True], "credential manager lock is stuck"
    assert m._inflight is None
    assert m.limits.endpoints._in_flight == {}, m.limits.endpoints._in_flight
    pool = client._bounded._inner._pool  # type: ignore[attr-defined]  # under the size/deadline wrapper
    assert not pool._requests, "a request is still queued in the connection pool"
    assert all(c.is_idle() or c.is_closed() for c in pool.connections), pool.connections
    deadline = time.monotonic() + 5
    while sb.stats.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sb.stats.in_flight == 0


ROUNDS = 10


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
def test_async_ctrl_c_at_random_points(sbx: Any, tally: Tally, parallel: bool) -> None:
    sb: Sandbox = sbx(tickets=3000, seed=11, latency_ms=40)
    truth_ids = [r["id"] for r in sb.ground_truth("Tickets")]
    rng = random.Random(8)
    fired = 0
    lost: list[str] = []
    with oauth_client(sb) as client, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always", ResourceWarning)
        before = set(threading.enumerate())
        for round_ in range(ROUNDS):
            got: list[dict[str, Any]] = []
            interrupted = False
            try:
                with _Interrupter(rng.uniform(0.0, 0.6)) as irq:
                    if round_ % 2:
                        got.extend(client.records("Tickets", parallel=parallel))
                    else:
                        df = client.query("Tickets", parallel=parallel)
                        got = df.to_dict("records")
                    irq.finish()
            except KeyboardInterrupt as exc:
                interrupted = True
                records = getattr(exc, "records", None)
                if records is not None:  # client.query hands the partial result over
                    got = records
            fired += irq.fired
            if irq.fired and not interrupted:
                lost.append(f"round {round_}: landed at {irq.landed}")  # reported below, with the others
            else:
                assert interrupted == irq.fired
            ids = [r["id"] for r in got] if round_ % 2 else [int(r["id"]) for r in got]
            # The partial result is genuine: no duplicate, nothing invented, in order for a sequential pull.
            assert len(ids) == len(set(ids)) and set(ids) <= set(truth_ids)
            if not parallel:
                assert ids == truth_ids[: len(ids)]
            if not interrupted:
                assert sorted(ids) == truth_ids
            _assert_clean(client, sb, before)
            # The next call works.
            assert client.count("Tickets") == 3000
        assert fired >= 3
        assert not lost, lost
        assert [r["id"] for r in client.records("Tickets")] == truth_ids
        # No pull, interrupted or not, left a connection for the GC to close (where a later Ctrl-C is lost).
        gc.collect()
        leaked = [str(w.message) for w in warned if issubclass(w.category, ResourceWarning)]
        assert not leaked, leaked
    server_limits_held(sb)
    tally.add("interrupts", fired)
    tally.add("records verified", len(truth_ids))


def test_ctrl_c_from_on_page_at_every_page_and_during_token_fetch(sbx: Any, tally: Tally) -> None:
    sb: Sandbox = sbx(tickets=2600, seed=2, latency_ms=10)
    truth_ids = [r["id"] for r in sb.ground_truth("Tickets")]
    with oauth_client(sb) as client:
        before = set(threading.enumerate())
        for stop_at in range(1, 7):

            def on_page(info: Any) -> None:
                if info.pages == stop_at:  # noqa: B023 - called inside this iteration only
                    raise KeyboardInterrupt

            with pytest.raises(KeyboardInterrupt) as ki:
                client.query("Tickets", on_page=on_page)
            partial = ki.value.records  # type: ignore[attr-defined]
            assert [r["id"] for r in partial] == truth_ids[: len(partial)]
            assert len(partial) == min(500 * stop_at, 2600)  # the page just shown is kept too
            assert ki.value.pages == stop_at  # type: ignore[attr-defined]
            _assert_clean(client, sb, before)
        # Ctrl-C while the token request is in flight (slow token endpoint): the next call fetches one.
        sb.expire_tokens()
        client.manager._token = None
        sb.faults.latency_ms = 400
        with pytest.raises(KeyboardInterrupt):
            with _Interrupter(0.15) as irq:
                client.count("Tickets")
                irq.finish()
        assert irq.fired
        sb.faults.latency_ms = 0
        _assert_clean(client, sb, before)
        assert [r["id"] for r in client.records("Tickets")] == truth_ids
    tally.add("records verified", len(truth_ids))


@contextmanager
def _magic_shell(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, Any]]:
    """IPython with the extension loaded and the sandbox's OAuth variables set; unloaded afterwards, with
    the names the cells made removed. Outputs are not displayed (errors still print)."""
    for k, v in sb.env("oauth").items():
        monkeypatch.setenv(k, v)
    ip = InteractiveShell.instance()
    ip.history_manager.enabled = False
    ip.run_line_magic("load_ext", "autotask_magic")
    before = set(ip.user_ns)
    try:
        magic = _magics.get_magic(ip)
        assert magic is not None
        magic._display = lambda obj: None
        yield ip, magic
    finally:
        ip.run_line_magic("unload_ext", "autotask_magic")
        for name in set(ip.user_ns) - before:
            ip.user_ns.pop(name, None)


def test_magic_ctrl_c_keeps_partial_and_next_cell_works(
    sbx: Any, tally: Tally, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    sb: Sandbox = sbx(tickets=3000, seed=4, latency_ms=40)
    with _magic_shell(sb, monkeypatch) as (ip, magic):
        magic.progress = "text"
        assert ip.run_cell("_ok = %autotask query Companies", store_history=False).success
        truth_ids = [r["id"] for r in sb.ground_truth("Tickets")]
        before = set(threading.enumerate())
        rng = random.Random(3)
        fired = 0
        for _ in range(6):
            ip.user_ns.pop(_magics.PARTIAL_NAME, None)
            with _Interrupter(rng.uniform(0.05, 0.5)) as irq:
                # finish() inside the cell: Ctrl-C can only land while the cell runs, not in IPython's
                # bookkeeping after it (where a real Ctrl-C is the kernel's to handle, not the magic's).
                ip.user_ns["_irq"] = irq
                result = ip.run_cell("df = %autotask query Tickets\n_irq.finish()", store_history=False)
            out = capsys.readouterr().out
            if irq.fired and isinstance(result.error_in_exec, IncompletePullError):
                fired += 1
                assert "Traceback" not in out and out.count("Error") == 1, out
                if "after 0 pages" in out:  # interrupted before the first page arrived: nothing to keep
                    assert _magics.PARTIAL_NAME not in ip.user_ns
                    continue
                assert "_autotask_partial" in out
                partial = ip.user_ns[_magics.PARTIAL_NAME]
                assert isinstance(partial, pd.DataFrame)
                assert partial["id"].tolist() == truth_ids[: len(partial)]
            elif not irq.fired:
                assert result.success and ip.user_ns["df"]["id"].tolist() == truth_ids
            # Whatever happened, the next cell works.
            nxt = ip.run_cell("_n = %autotask query Tickets --count\n_n", store_history=False)
            assert nxt.success and nxt.result == 3000
        client = magic.client
        assert client is not None
        _assert_clean(client, sb, before)
        assert fired >= 2
        tally.add("interrupts", fired)


@pytest.mark.parametrize(
    ("cell", "press_at"),
    [
        ("%autotask query Contacts --count", 0.3),
        ("%autotask fields Projects", 0.3),
        ("%autotask query Opportunities where id > 0 --dry-run", 0.3),
        ("%autotask GET /Resources/{resource}", 0.9),  # the GET's answer at ~0.6 s, then Resources' metadata
    ],
)
def test_magic_ctrl_c_while_field_metadata_loads_is_one_line(
    sbx: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any, cell: str, press_at: float
) -> None:
    """The first use of an entity loads its field metadata: Ctrl-C then is a one-line error that fails the
    cell (not a KeyboardInterrupt traceback through httpx), nothing is cached half-done, the next cell works."""
    sb: Sandbox = sbx(tickets=50, seed=4)
    with _magic_shell(sb, monkeypatch) as (ip, _):
        assert ip.run_cell("_n = %autotask query Tickets --count", store_history=False).success  # token ready
        cell = cell.format(resource=sb.ground_truth("Resources")[0]["id"])
        capsys.readouterr()
        sb.faults.latency_ms = 600
        with _Interrupter(press_at) as irq:
            ip.user_ns["_irq"] = irq
            result = ip.run_cell(f"_r = {cell}\n_irq.finish()", store_history=False)
        sb.faults.latency_ms = 0
        out = capsys.readouterr().out
        assert irq.fired and not result.success, out
        assert "Traceback" not in out and "KeyboardInterrupt" not in out and out.count("Error") == 1, out
        assert "interrupted (Ctrl-C) while" in out, out
        again = ip.run_cell(f"_r = {cell}", store_history=False)
        assert again.success, capsys.readouterr().out


@pytest.mark.parametrize("when", ["before", "after"])
def test_ctrl_c_while_a_partition_thread_starts(
    sbx: Any, tally: Tally, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Ctrl-C inside ``Thread.start()`` of each partition thread in turn: every thread is stopped and joined.

    Regression: the partition pool registered a thread only after ``start()`` returned, so a Ctrl-C
    landing just after the thread began left it running, neither stopped nor joined by the pull.
    """
    sb: Sandbox = sbx(tickets=3000, seed=5, latency_ms=20)
    truth_ids = [r["id"] for r in sb.ground_truth("Tickets")]
    real_start = threading.Thread.start
    with oauth_client(sb) as client:
        before = set(threading.enumerate())
        for k in range(1, 5):  # the count thread, then partitions 0-2
            n = [0]

            def start(self: threading.Thread, k: int = k) -> None:
                if self.name.startswith("autotask-partition"):
                    n[0] += 1  # noqa: B023
                    if n[0] == k:  # noqa: B023
                        if when == "after":
                            real_start(self)
                        raise KeyboardInterrupt
                real_start(self)

            monkeypatch.setattr(threading.Thread, "start", start)
            with pytest.raises(KeyboardInterrupt):
                list(client.records("Tickets", parallel=True))
            monkeypatch.setattr(threading.Thread, "start", real_start)
            # Joined before the interrupt reached us: no waiting for stragglers here.
            assert [t for t in threading.enumerate() if t.name.startswith("autotask-partition")] == []
            _assert_clean(client, sb, before)
            assert sorted(r["id"] for r in client.records("Tickets", parallel=True)) == truth_ids
    server_limits_held(sb)
    tally.add("interrupts", 4)
    tally.add("records verified", len(truth_ids))


def test_ctrl_c_as_the_finished_frame_is_returned_keeps_it(
    sbx: Any, tally: Tally, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: Ctrl-C landing once the whole frame was built (or while it was annotated) lost every
    record (the magic said 'after 6 pages; no records were kept')."""
    from autotask_magic.client import _frames

    sb: Sandbox = sbx(tickets=1200, seed=6)
    truth_ids = [r["id"] for r in sb.ground_truth("Tickets")]
    real_frame = _frames.FrameBuilder.frame

    def frame(self: Any) -> pd.DataFrame:
        real_frame(self)
        raise KeyboardInterrupt  # as if Ctrl-C landed just as frame() returned

    monkeypatch.setattr(_frames.FrameBuilder, "frame", frame)
    with oauth_client(sb) as client:
        with pytest.raises(KeyboardInterrupt) as ki:
            client.query("Tickets")
        monkeypatch.setattr(_frames.FrameBuilder, "frame", real_frame)
        assert ki.value.frame["id"].tolist() == truth_ids  # type: ignore[attr-defined]
        assert ki.value.records == []  # type: ignore[attr-defined]
        assert client.query("Tickets")["id"].tolist() == truth_ids
    tally.add("records verified", len(truth_ids))


def test_ctrl_c_just_after_httpcore_takes_a_lock_leaves_the_client_working(
    sbx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: Ctrl-C landing in httpcore's ``Lock.__enter__`` right after ``acquire()`` (on the main thread,
    where signals land) left the connection pool's lock held for good: every later request, and
    ``close()``, hung. Here that moment is made certain: the first such acquire on the main thread raises."""
    from httpcore import _synchronization as sync

    sb: Sandbox = sbx(tickets=1200, seed=9)
    truth_ids = [r["id"] for r in sb.ground_truth("Tickets")]
    held: list[Any] = []  # locks left acquired by the simulated Ctrl-C

    def enter(self: Any) -> Any:
        self._lock.acquire()
        if threading.current_thread() is threading.main_thread() and not held:
            held.append(self)
            raise KeyboardInterrupt  # as if Ctrl-C landed just as acquire() returned
        return self

    with oauth_client(sb) as client:
        for cls in (sync.Lock, sync.ThreadLock):  # the client's connections and the manager's (token fetch)
            monkeypatch.setattr(cls, "__enter__", enter)
        got: list[Any] = []
        try:
            got.append(client.count("Tickets"))
            got.append(client.query("Tickets")["id"].tolist())
            got.append(sorted(r["id"] for r in client.records("Tickets", parallel=True)))
        except KeyboardInterrupt:
            pass
        monkeypatch.undo()
        # Bounded: a stuck lock fails the test instead of hanging it.
        nxt: list[int] = []
        t = threading.Thread(target=lambda: nxt.append(client.count("Tickets")), daemon=True)
        t.start()
        t.join(10)
        for lock in held:  # let the client close even when the fix is missing
            lock._lock.release()
        assert nxt == [1200], "the next request hung on a lock the interrupted one left held"
        assert held == [], "a request ran httpcore on the main thread, where Ctrl-C lands"
        assert got == [1200, truth_ids, truth_ids]
