"""Token expiry during work: a 2 s token through a long pull and through 8 concurrent pulls."""

from __future__ import annotations

import threading
import time
from typing import Any

from autotask_magic.sandbox import Sandbox
from tests._support.clients import oauth_client, server_limits_held
from tests._support.tally import Tally

TTL = 2.0
MARGIN = min(60.0, TTL / 2)  # the spec's refresh margin


def _ids(records: list[dict[str, Any]]) -> list[int]:
    return [r["id"] for r in records]


def test_long_multi_page_pull_across_many_expiries(sbx: Any, tally: Tally) -> None:
    sb: Sandbox = sbx(tickets=4000, token_ttl=TTL, latency_ms=250)
    with oauth_client(sb) as client:
        started = time.monotonic()
        got = list(client.records("Tickets"))  # no exception: nothing shown to the user
        elapsed = time.monotonic() - started
    truth = sb.ground_truth("Tickets")
    assert _ids(got) == _ids(truth)  # every record exactly once, in order
    assert got == truth
    pages = sb.stats.requests_by_endpoint.get("POST /Tickets/query/next", 0) + 1
    assert pages >= 8
    # The pull outlived several tokens, yet no request was refused for an expired token...
    assert elapsed > TTL
    assert sb.stats.api_requests == pages
    # ...and the refreshes stayed within one of pull time / (TTL - margin).
    assert sb.stats.token_requests <= elapsed / (TTL - MARGIN) + 1, (sb.stats.token_requests, elapsed)
    server_limits_held(sb)
    tally.add("records verified", len(truth))


def test_eight_concurrent_pulls_across_expiries(sbx: Any, tally: Tally) -> None:
    sb: Sandbox = sbx(tickets=2000, token_ttl=TTL, latency_ms=350)
    filters = (
        [[{"op": "eq", "field": "status", "value": s}] for s in (1, 5, 8)]
        + [None] * 2
        + [
            [{"op": "gt", "field": "id", "value": 300}],
            [{"op": "lt", "field": "priority", "value": 3}],
            [{"op": "noteq", "field": "status", "value": 5}],
        ]
    )
    results: list[Any] = [None] * len(filters)
    errors: list[BaseException] = []
    with oauth_client(sb) as client:
        barrier = threading.Barrier(len(filters))

        def pull(i: int) -> None:
            try:
                barrier.wait(timeout=10)
                results[i] = list(client.records("Tickets", filters[i]))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=pull, args=(i,)) for i in range(len(filters))]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        elapsed = time.monotonic() - started
    assert not errors, errors
    verified = 0
    for flt, got in zip(filters, results, strict=True):
        truth = sb.ground_truth("Tickets", flt)
        assert _ids(got) == _ids(truth)
        verified += len(truth)
    assert elapsed > TTL
    assert sb.stats.token_requests <= elapsed / (TTL - MARGIN) + 1, (sb.stats.token_requests, elapsed)
    # No request bounced off an expired token (a 401 would show as an extra request).
    assert sb.stats.api_requests == sum(sb.stats.requests_by_endpoint.values())
    n_pages = sum(max(1, -(-len(r) // 500)) for r in results)
    assert sb.stats.api_requests == n_pages, (sb.stats.api_requests, n_pages)
    server_limits_held(sb)
    tally.add("records verified", verified)
