"""Partitioned pulls against the real sandbox over HTTP: every record exactly once, limits kept, faults honoured."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from autotask_magic import AutotaskClient, IncompletePullError
from autotask_magic.client._paging import PageInfo
from autotask_magic.sandbox import Sandbox

TICKETS = 6000  # 12 pages: enough for three partitions


@pytest.fixture
def sb(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory(tickets=TICKETS)


@pytest.fixture
def client(sb: Sandbox) -> Iterator[AutotaskClient]:
    with AutotaskClient.from_env(sb.env("api_user")) as c:
        c.count("Tickets")  # zone discovery and auth before the counters are reset
        sb.reset_stats()
        yield c


def _page_requests(sb: Sandbox) -> int:
    by = sb.stats.requests_by_endpoint
    return by.get("POST /Tickets/query", 0) + by.get("POST /Tickets/query/next", 0)


def _assert_within_limit(sb: Sandbox) -> None:
    assert sb.stats.max_concurrency, "no request was counted"
    assert max(sb.stats.max_concurrency.values()) <= 3
    assert sb.stats.rejected_429 == 0


def test_full_pull_matches_ground_truth(sb: Sandbox, client: AutotaskClient) -> None:
    got = list(client.records("Tickets", parallel=True))
    assert got == sb.ground_truth("Tickets")
    _assert_within_limit(sb)
    assert (
        sb.stats.max_concurrency.get("POST /Tickets/query", 0)
        + sb.stats.max_concurrency.get("POST /Tickets/query/next", 0)
        >= 2
    ), "the pull never ran partitions side by side"
    assert sb.stats.requests_by_endpoint.get("POST /Tickets/query/count") == 1
    assert _page_requests(sb) <= math.ceil(TICKETS / 500) + 2


def test_sparse_ids_and_far_outliers(sb: Sandbox, client: AutotaskClient) -> None:
    table = sb.store["Tickets"]
    ids = list(table.ids)
    rng = random.Random(7)
    # A deleted block, random holes, and records far above the rest: the estimate from the first page is
    # badly wrong, and only the open-ended last partition can find the outliers.
    for i in ids[1000:2500] + rng.sample(ids[2500:], 800):
        del table[i]
    template = table[table.ids[-1]]
    for far in (10**7, 10**7 + 3, 2 * 10**9):
        table[far] = dict(template, id=far)
    got = [r["id"] for r in client.records("Tickets", parallel=True)]
    truth = [r["id"] for r in sb.ground_truth("Tickets")]
    assert got == truth
    assert len(set(got)) == len(got)
    _assert_within_limit(sb)


def test_user_filter_is_anded_with_the_partitions(sb: Sandbox, client: AutotaskClient) -> None:
    flt = [{"op": "noteq", "field": "priority", "value": 3}]
    truth = sb.ground_truth("Tickets", flt)
    assert len(truth) > 1500, "the filter should leave several pages"
    assert list(client.records("Tickets", flt, parallel=True)) == truth
    _assert_within_limit(sb)
    sent = sb.stats.requests_by_endpoint.get("POST /Tickets/query/count")
    assert sent == 1


@pytest.mark.parametrize("limit", [1, 499, 501, 2600, 4321, TICKETS + 10])
def test_limit_first_records_in_id_order_without_over_fetching(sb: Sandbox, client: AutotaskClient, limit: int) -> None:
    truth = sb.ground_truth("Tickets")[:limit]
    got = list(client.records("Tickets", limit=limit, parallel=True))
    assert got == truth
    assert _page_requests(sb) <= math.ceil(len(truth) / 500) + 2
    _assert_within_limit(sb)


def test_include_fields_without_id(sb: Sandbox, client: AutotaskClient) -> None:
    got = list(client.records("Tickets", fields=["title", "status"], parallel=True))
    truth = sb.ground_truth("Tickets")
    assert [r["id"] for r in got] == [r["id"] for r in truth]
    assert [r["title"] for r in got] == [r["title"] for r in truth]


def test_query_parallel_equals_sequential(sb: Sandbox, client: AutotaskClient) -> None:
    seq = client.query("Tickets", where="priority in (1, 2)")
    par = client.query("Tickets", where="priority in (1, 2)", parallel=True)
    pd.testing.assert_frame_equal(seq, par)
    assert len(par) > 1000


def test_retried_faults_do_not_change_the_result(sb: Sandbox, client: AutotaskClient) -> None:
    sb.faults.burst_429(4, retry_after="0")
    sb.faults.drop_rate = 0.05
    got = list(client.records("Tickets", parallel=True))
    sb.faults.drop_rate = 0.0
    assert got == sb.ground_truth("Tickets")
    assert sb.stats.faults_injected.get("burst_429") == 4


def test_failure_after_retries_raises_incomplete_with_everything_fetched(sb: Sandbox, client: AutotaskClient) -> None:
    client.retry.base = 0.01  # keep the back-off short; the attempts stay bounded
    client.retry.cap = 0.05
    seen: list[dict[str, Any]] = []

    def break_server(info: PageInfo) -> None:
        # From the second page on every request fails with 500/502/503.
        if info.pages == 1:
            sb.faults.error_rate = 1.0

    with pytest.raises(IncompletePullError) as caught:
        for rec in client.records("Tickets", parallel=True, on_page=break_server):
            seen.append(rec)
    err = caught.value
    truth = {r["id"]: r for r in sb.ground_truth("Tickets")}
    ids = [r["id"] for r in err.records]
    assert ids == sorted(set(ids)), "records must be in id order without duplicates"
    assert all(truth[r["id"]] == r for r in err.records)
    assert len(ids) < len(truth)
    assert {r["id"] for r in seen} <= set(ids)
    assert err.cause is not None and err.pages >= 1
    assert "\n" not in str(err)
    _assert_within_limit(sb)


def test_parallel_progress_total_is_the_count_capped_by_the_limit(sb: Sandbox, client: AutotaskClient) -> None:
    infos: list[PageInfo] = []
    assert len(list(client.records("Tickets", parallel=True, on_page=infos.append))) == TICKETS
    assert all(i.total_estimate == TICKETS for i in infos)  # the count came with the first page
    infos.clear()
    assert len(list(client.records("Tickets", limit=2200, parallel=True, on_page=infos.append))) == 2200
    assert {i.total_estimate for i in infos} == {2200}  # --limit caps the total shown
    assert infos[-1].records == 2200
