"""Each documented limit and each injected fault does what it says (windows shrunk so tests are fast)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import ALL, api_user_http, get_token, oauth_http


def _token_req(sb: Sandbox) -> httpx.Response:
    return httpx.post(
        sb.token_url,
        data={"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret},
    )


def test_token_endpoint_limit(sandbox: Sandbox) -> None:
    codes = [_token_req(sandbox).status_code for _ in range(11)]
    assert codes == [200] * 10 + [429]
    r = _token_req(sandbox)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert sandbox.stats.rejected_429 == 2


def test_token_limit_window_is_configurable(sandbox: Sandbox) -> None:
    sandbox.faults.rate_window_seconds = 1.5  # wide enough that a loaded machine still hits the limit
    sandbox.faults.token_rate_limit_per_minute = 2
    assert [_token_req(sandbox).status_code for _ in range(3)] == [200, 200, 429]
    for _ in range(100):  # bounded: the window frees up
        if _token_req(sandbox).status_code == 200:
            break
        threading.Event().wait(0.05)
    else:
        pytest.fail("token window never freed up")


def test_api_limit_per_token(sandbox: Sandbox) -> None:
    sandbox.faults.rate_limit_per_minute = 5
    with oauth_http(sandbox) as a, oauth_http(sandbox) as b:
        codes = [a.get("Tickets/10001").status_code for _ in range(6)]
        assert codes == [200] * 5 + [429]
        assert int(a.get("Tickets/10001").headers["Retry-After"]) >= 1
        assert b.get("Tickets/10001").status_code == 200  # per token


def test_hourly_threshold_api_user(sandbox: Sandbox) -> None:
    sandbox.faults.hourly_threshold = 4
    with api_user_http(sandbox) as c:
        info = c.get("ThresholdInformation").json()
        assert info["externalRequestThreshold"] == 4 and info["currentTimeframeRequestCount"] == 1
        codes = [c.get("Tickets/10001").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert "threshold" in c.get("Tickets/10001").json()["errors"][0]


def _hammer(sb: Sandbox, client_factory: Any, n: int) -> list[int]:
    codes: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def one() -> None:
        with client_factory() as c:
            barrier.wait(timeout=10)
            code = c.post("Tickets/query", json={"filter": ALL, "MaxRecords": 1}).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return codes


def test_three_concurrent_per_endpoint(sandbox: Sandbox) -> None:
    sandbox.faults.latency_ms = 1000  # keeps the requests in flight together
    codes = _hammer(sandbox, lambda: api_user_http(sandbox), 5)
    assert sorted(codes) == [200, 200, 200, 429, 429]
    assert sandbox.stats.max_concurrency["POST /Tickets/query"] == 3
    assert sandbox.stats.max_concurrency_overall == 3


def test_concurrent_requests_really_overlap(sandbox: Sandbox) -> None:
    sandbox.faults.latency_ms = 800
    sandbox.faults.concurrency_per_endpoint = 10
    codes = _hammer(sandbox, lambda: api_user_http(sandbox), 6)
    assert codes == [200] * 6
    assert sandbox.stats.max_concurrency_overall == 6


def test_burst_429_with_http_date(sandbox: Sandbox) -> None:
    sandbox.faults.burst_429(2, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    with api_user_http(sandbox) as c:
        rs = [c.get("Tickets/10001") for _ in range(3)]
    assert [r.status_code for r in rs] == [429, 429, 200]
    assert rs[0].headers["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert sandbox.stats.faults_injected["burst_429"] == 2 and sandbox.stats.rejected_429 == 2


def test_token_429_and_fail_status(sandbox: Sandbox) -> None:
    sandbox.faults.token_429(1, retry_after="3")
    r = _token_req(sandbox)
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    sandbox.faults.token_endpoint_fail_status = 503
    assert _token_req(sandbox).status_code == 503
    sandbox.faults.token_endpoint_fail_status = None
    assert _token_req(sandbox).status_code == 200


def test_error_rate(sandbox: Sandbox) -> None:
    sandbox.faults.error_rate = 0.5
    with api_user_http(sandbox) as c:
        codes = [c.get("Tickets/10001").status_code for _ in range(60)]
    bad = [x for x in codes if x != 200]
    assert 10 < len(bad) < 50 and set(bad) <= {500, 502, 503}
    assert sum(v for k, v in sandbox.stats.faults_injected.items() if k.startswith("error_")) == len(bad)


def test_drop_rate(sandbox: Sandbox) -> None:
    sandbox.faults.drop_rate = 1.0
    with api_user_http(sandbox) as c, pytest.raises(httpx.RemoteProtocolError):
        c.get("Tickets/10001")
    sandbox.faults.drop_rate = 0.0
    with api_user_http(sandbox) as c:
        assert c.get("Tickets/10001").status_code == 200
    assert sandbox.stats.faults_injected["drop"] == 1


def test_reject_all_tokens(sandbox: Sandbox) -> None:
    with oauth_http(sandbox) as c:
        sandbox.faults.reject_all_tokens = True
        r = c.get("Tickets/10001")
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
        sandbox.faults.reject_all_tokens = False
        assert c.get("Tickets/10001").status_code == 200


def test_redirect(sandbox: Sandbox) -> None:
    sandbox.faults.redirect_to = "http://127.0.0.1:9/elsewhere"
    with api_user_http(sandbox) as c:
        r = c.get("Tickets/10001")
    assert r.status_code == 302 and r.headers["Location"] == "http://127.0.0.1:9/elsewhere"


def test_latency_is_applied_without_serialising(sandbox: Sandbox) -> None:
    sandbox.faults.latency_ms = 800
    sandbox.faults.jitter_ms = 50
    sandbox.faults.concurrency_per_endpoint = 10
    codes = _hammer(sandbox, lambda: api_user_http(sandbox), 4)
    assert codes == [200] * 4 and sandbox.stats.max_concurrency_overall == 4


def test_stats_and_reset(sandbox: Sandbox) -> None:
    token = get_token(sandbox)
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": "Bearer " + token}) as c:
        c.get("Tickets/10001")
        c.patch("Tickets", json={"id": 10001, "title": "changed"})
    s = sandbox.stats
    assert s.token_requests == 1 and s.api_requests == 2
    assert s.requests_by_endpoint == {"GET /Tickets/{id}": 1, "PATCH /Tickets": 1}
    assert s.writes == [
        {"method": "PATCH", "entity": "Tickets", "id": 10001, "body": {"id": 10001, "title": "changed"}}
    ]
    sandbox.reset_stats()
    assert sandbox.stats.api_requests == 0 and sandbox.stats.writes == []
