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
            for record in client.records("Tickets", on_page=on_page):
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
