"""Pure units of the partition planner and the partitioned pull over an in-memory page source."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from autotask_magic._exceptions import IncompletePullError, ServerError
from autotask_magic.client._paging import Page
from autotask_magic.client._parallel import MIN_PARALLEL_PAGES, parallel_records, plan_partitions

ALL = [{"op": "gte", "field": "id", "value": 0}]


class MemorySource:
    """Pages ids in ascending order like the API; counts requests and concurrency."""

    def __init__(self, ids: list[int], *, fail_on_call: int | None = None) -> None:
        self.ids = sorted(ids)
        self.page_requests = 0
        self.count_requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.fail_on_call = fail_on_call
        self._lock = threading.Lock()

    def _match(self, flt: list[dict[str, Any]]) -> list[int]:
        out = self.ids
        for node in flt:
            v = node["value"]
            if node["op"] == "gte":
                out = [i for i in out if i >= v]
            elif node["op"] == "lt":
                out = [i for i in out if i < v]
            else:  # pragma: no cover - the tests only use these
                raise AssertionError(node)
        return out

    def fetch_page(self, entity: str, body: dict[str, Any], next_url: str | None) -> Page:
        with self._lock:
            self.page_requests += 1
            n = self.page_requests
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.fail_on_call is not None and n >= self.fail_on_call:
                raise ServerError("HTTP 503 from the server", status=503)
            matched = self._match(body["filter"])
            start = int(next_url) if next_url else 0
            size = min(500, int(body.get("MaxRecords", 500)))
            end = start + size
            return Page([{"id": i} for i in matched[start:end]], str(end) if end < len(matched) else None)
        finally:
            with self._lock:
                self.in_flight -= 1

    def count(self, entity: str, filter: list[dict[str, Any]]) -> int:
        self.count_requests += 1
        return len(self._match(filter))


def _ids(source: MemorySource, **kw: Any) -> list[int]:
    return [r["id"] for r in parallel_records(source, "Tickets", {"filter": ALL}, **kw)]


def test_plan_dense_ids_whole_pages_last_open() -> None:
    parts = plan_partitions(list(range(1, 501)), 15_000)
    assert [p.index for p in parts] == [0, 1, 2]
    assert parts[0].lo == 501 and parts[-1].hi is None
    assert [p.hi for p in parts[:-1]] == [p.lo for p in parts[1:]]
    # 29 pages left: 10 + 10 + 9, each bounded partition a whole number of pages.
    assert [p.hi - p.lo for p in parts[:-1]] == [5000, 5000]


def test_plan_small_remainders_stay_sequential() -> None:
    assert plan_partitions(list(range(1, 501)), 500) == []
    assert plan_partitions(list(range(1, 501)), 500 * MIN_PARALLEL_PAGES) == []
    assert plan_partitions([], 10_000) == []
    assert len(plan_partitions(list(range(1, 501)), 500 * (MIN_PARALLEL_PAGES + 1))) == 3
    assert plan_partitions(list(range(1, 501)), 100_000, limit=1200) == []


def test_partition_filter_ands_the_user_filter() -> None:
    part = plan_partitions(list(range(1, 501)), 5000)[0]
    user = [{"op": "eq", "field": "status", "value": 1}]
    flt = part.filter(user)
    assert flt[0] == user[0] and flt[0] is not user[0]
    assert {"op": "gte", "field": "id", "value": part.lo} in flt
    assert {"op": "lt", "field": "id", "value": part.hi} in flt


@pytest.mark.parametrize(
    "ids",
    [
        list(range(1, 15_001)),
        sorted(random.Random(1).sample(range(1, 10**6), 12_345)),
        # Dense start, then a far sparse tail: the estimate is badly wrong, the open-ended partition saves it.
        list(range(1, 5001)) + list(range(10**7, 10**7 + 4000 * 97, 97)),
        list(range(1, 1001)),
        list(range(5, 400)),
    ],
)
def test_every_record_exactly_once_in_id_order(ids: list[int]) -> None:
    src = MemorySource(ids)
    assert _ids(src) == sorted(ids)
    assert src.max_in_flight <= 3
    pages = -(-len(ids) // 500)
    assert src.page_requests <= pages + 2  # at most one short page per extra partition
    assert src.count_requests == 1


@pytest.mark.parametrize("limit", [1, 499, 500, 501, 2600, 5000, 14_999, 50_000])
def test_limit_is_respected_without_over_fetching(limit: int) -> None:
    ids = list(range(1, 15_001))
    src = MemorySource(ids)
    assert _ids(src, limit=limit) == ids[:limit]
    assert src.page_requests == -(-min(limit, len(ids)) // 500)


def test_failure_raises_incomplete_with_everything_fetched() -> None:
    src = MemorySource(list(range(1, 20_001)), fail_on_call=8)
    got: list[int] = []
    with pytest.raises(IncompletePullError) as info:
        for rec in parallel_records(src, "Tickets", {"filter": ALL}):
            got.append(rec["id"])
    err = info.value
    ids = [r["id"] for r in err.records]
    assert ids == sorted(set(ids))  # id order, no duplicates
    assert set(got) <= set(ids)
    assert isinstance(err.cause, ServerError)
    assert err.pages >= 1 and len(ids) == 500 * err.pages
    assert "Tickets" in str(err) and "\n" not in str(err)


def test_first_page_error_is_raised_as_is() -> None:
    src = MemorySource(list(range(1, 5000)), fail_on_call=1)
    with pytest.raises(ServerError):
        _ids(src)


def test_early_close_stops_the_workers() -> None:
    src = MemorySource(list(range(1, 50_001)))
    gen = parallel_records(src, "Tickets", {"filter": ALL})
    first = [next(gen) for _ in range(600)]
    gen.close()
    assert [r["id"] for r in first] == list(range(1, 601))
    assert src.page_requests < 100
    assert not [t for t in threading.enumerate() if t.name.startswith("autotask-partition")]


def test_unordered_first_page_falls_back_to_sequential() -> None:
    class Shuffled(MemorySource):
        def fetch_page(self, entity: str, body: dict[str, Any], next_url: str | None) -> Page:
            page = super().fetch_page(entity, body, next_url)
            return Page(list(reversed(page.items)), page.next_url)

    src = Shuffled(list(range(1, 5001)))
    assert sorted(_ids(src)) == list(range(1, 5001))
    assert src.page_requests == 10


def test_scan_page_reads_next_url_and_count_without_parsing() -> None:
    import json

    from autotask_magic.client._paging import scan_page

    tricky = {"id": 1, "title": '"nextPageUrl": "http://evil/"', "userDefinedFields": [{"name": "nextPageUrl"}]}
    body = {
        "items": [tricky, {"id": 2}],
        "pageDetails": {
            "count": 2,
            "requestCount": 500,
            "prevPageUrl": None,
            "nextPageUrl": "http://127.0.0.1:1/ATServicesRest/V1.0/T/query/next?p=%7B%7D",
        },
    }
    page = scan_page(json.dumps(body).encode())
    assert page is not None
    assert page.next_url == body["pageDetails"]["nextPageUrl"] and page.size == 2
    assert page.items == body["items"]
    last = scan_page(json.dumps({"items": [], "pageDetails": {"count": 0, "nextPageUrl": None}}).encode())
    assert last is not None and last.next_url is None and last.items == []
    assert scan_page(b'{"items": []}') is None


def test_scan_mismatch_is_an_error_not_silent() -> None:
    from autotask_magic.client._paging import Page

    page = Page(None, "http://x/next", raw=b'{"items": [], "pageDetails": {"nextPageUrl": null}}')
    with pytest.raises(ServerError):
        page.items  # noqa: B018
