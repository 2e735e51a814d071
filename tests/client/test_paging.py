"""Paging against the sandbox: prefetch while consuming, incomplete pulls, interrupts leave no thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from autotask_magic import IncompletePullError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.sandbox import Sandbox


@pytest.fixture()
def sb() -> Iterator[Sandbox]:
    with Sandbox(tickets=1600, seed=7) as box:
        yield box


def client_for(sb: Sandbox) -> AutotaskClient:
    client = AutotaskClient.from_env(sb.env())
    client.retry.sleep = lambda s: None
    return client


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("autotask-prefetch")]


def test_next_page_is_fetched_while_the_caller_consumes(sb: Sandbox) -> None:
    sb.faults.latency_ms = 50
    with client_for(sb) as client:
        it = client.records("Tickets")
        next(it)  # page 1 arrived; the caller is busy with its first record
        for _ in range(300):
            if sb.stats.requests_by_endpoint.get("POST /Tickets/query/next", 0) >= 1:
                break
            time.sleep(0.01)
        assert sb.stats.requests_by_endpoint.get("POST /Tickets/query/next", 0) == 1
        assert len(list(it)) == 1599


def test_failure_after_retries_keeps_every_record(sb: Sandbox) -> None:
    with client_for(sb) as client:

        def on_page(info) -> None:
            if info.pages == 1:
                sb.faults.drop_rate = 1.0

        got = []
        with pytest.raises(IncompletePullError) as info:
            # _total=False: no query/count for progress, so every dropped request is a page's retry.
            for record in client.records("Tickets", on_page=on_page, _total=False):
                got.append(record)
        err = info.value
        # Page 2's request may already be answered when on_page(1) turns drops on (it is sent before
        # page 1 is parsed), so the pull stops after page 1 or 2 — with every record of those pages.
        assert err.pages in (1, 2) and len(err.records) == 500 * err.pages and err.records == got
        assert err.cause is not None and "\n" not in str(err)
        assert sb.stats.faults_injected.get("drop", 0) == client.retry.attempts


def test_interrupt_leaves_no_thread_or_lock(sb: Sandbox) -> None:
    sb.faults.latency_ms = 100
    with client_for(sb) as client:
        with pytest.raises(KeyboardInterrupt):
            for _ in client.records("Tickets"):
                raise KeyboardInterrupt
        assert prefetch_threads() == []
        sb.faults.latency_ms = 0
        assert len(list(client.records("Tickets"))) == 1600  # nothing stuck
        assert client.manager.limits.endpoints.in_flight("POST Tickets/query/next") == 0


# ------------------------------------------------------------------------------ progress total (issue 16)


def test_progress_total_comes_from_one_count_sent_with_the_second_page(sb: Sandbox) -> None:
    from autotask_magic.client._paging import Page, PageInfo, iter_records

    counted = threading.Event()
    calls: list[str] = []

    def count() -> int:
        calls.append("count")
        counted.set()
        return 2400

    def fetch_next(url: str) -> Page:
        n = int(url)
        calls.append(f"page {n}")
        if n == 3:
            assert counted.wait(5)  # page 3 is asked for after the count went out with page 2
        return Page([{"id": i} for i in range(500 * (n - 1), 500 * n)], str(n + 1) if n < 5 else None)

    infos: list[PageInfo] = []
    got = list(
        iter_records(
            lambda: Page([{"id": i} for i in range(500)], "2"),
            fetch_next,
            entity="Tickets",
            on_page=infos.append,
            count=count,
        )
    )
    assert len(got) == 2500 and calls.count("count") == 1
    assert calls.index("count") <= calls.index("page 3")  # sent together with page 2, not before it
    assert infos[0].total_estimate is None  # nothing is waited for: page 1 is shown without a total
    assert infos[3].total_estimate == 2400  # the count, once it has arrived
    assert infos[-1].total_estimate == 2500  # the count was wrong (records added): the end says what came


def test_sequential_pull_sends_one_count_only_when_a_second_page_is_needed(sb: Sandbox) -> None:
    with client_for(sb) as client:
        infos = []
        assert len(list(client.records("Tickets", on_page=infos.append))) == 1600
        assert sb.stats.requests_by_endpoint.get("POST /Tickets/query/count") == 1
        assert infos[-1].total_estimate == 1600 and all(i.total_estimate in (None, 1600) for i in infos)
        flt = [{"op": "lt", "field": "id", "value": 100}]
        list(client.records("Tickets", flt, on_page=infos.append))  # one page: no count
        list(client.records("Tickets"))  # nobody shows progress: no count
        assert sb.stats.requests_by_endpoint.get("POST /Tickets/query/count") == 1
        infos.clear()
        list(client.records("Tickets", limit=700, on_page=infos.append))  # --limit caps the total
        assert [i.total_estimate for i in infos][-1] == 700 and all(i.total_estimate in (None, 700) for i in infos)
