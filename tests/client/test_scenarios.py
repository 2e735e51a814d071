"""Issue 2's scenarios against the real sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import pytest

from autotask_magic import (
    AuthenticationError,
    ConfigurationError,
    IncompletePullError,
    QueryError,
    RateLimitError,
    ServerError,
    TransportError,
)
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import OAuthCredentials
from autotask_magic.client._limits import SystemClock
from autotask_magic.client._manager import TokenState
from autotask_magic.sandbox import Sandbox
from tests._support.clients import oauth_client
from tests._support.clock import FakeClock
from tests._support.threads import crowd, wait_for


@pytest.fixture()
def sb() -> Iterator[Sandbox]:
    with Sandbox(tickets=1300, seed=3) as box:
        yield box


_made: list[AutotaskClient] = []


def quick_client(sb: Sandbox, **kw: Any) -> AutotaskClient:
    """10 s timeouts, and retry back-off capped at 0.05 s of real time (the scenarios inject 5xx);
    closed when the test ends."""
    client = oauth_client(sb, **{"timeout": 10.0, "max_retry_sleep": 0.05, **kw})
    _made.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _made:
        _made.pop().close()


def test_eight_threads_across_each_expiry_cause_one_token_request(sb: Sandbox) -> None:
    clock = FakeClock()
    sb.faults.latency_ms = 30  # the refresh is in flight while the other threads arrive
    client = quick_client(sb, clock=clock)
    client.count("Tickets")
    assert sb.stats.token_requests == 1
    for expiry in range(1, 4):
        clock.advance(3600)  # past the refresh point of the current token
        results, errors = crowd(8, lambda: client.count("Tickets"))
        assert not errors and results == [1300] * 8
        assert sb.stats.token_requests == 1 + expiry
    assert client.manager.status().refresh_count == 4


def test_early_refresh_refused_by_the_token_endpoint_keeps_the_valid_token(sb: Sandbox) -> None:
    """A refresh due (inside the margin) but refused for now (429) is not worth failing a call over while
    the token is valid: the call goes on with it; a forced refresh, or an expired token, still fails."""
    clock = FakeClock()
    client = quick_client(sb, clock=clock, max_token_wait=0.0)
    assert client.count("Tickets") == 1300 and sb.stats.token_requests == 1
    sb.faults.token_429(50, retry_after="30")
    clock.advance(3600 - 50)  # inside the 60 s refresh margin, 50 s before expiry
    assert client.count("Tickets") == 1300  # with the current token
    assert sb.stats.token_requests == 2  # the one refused refresh...
    assert client.count("Tickets") == 1300
    assert sb.stats.token_requests == 2  # ...not tried again on every call
    assert client.manager.status().last_error  # the panel says the refresh was refused
    with pytest.raises(RateLimitError):
        client.manager.refresh()  # asked for explicitly: the refusal is the answer
    clock.advance(31)  # past the pause, still valid: one more try, refused, the call still succeeds
    before = sb.stats.token_requests
    assert client.count("Tickets") == 1300 and sb.stats.token_requests == before + 1
    clock.advance(20)  # expired: nothing valid to fall back on
    with pytest.raises(RateLimitError):
        client.count("Tickets")


def test_revoked_token_one_refresh_and_callers_succeed(sb: Sandbox) -> None:
    sb.faults.latency_ms = 20
    client = quick_client(sb)
    client.count("Tickets")
    sb.revoke_tokens()
    results, errors = crowd(8, lambda: client.count("Tickets"))
    assert not errors and results == [1300] * 8
    assert sb.stats.token_requests == 2


def test_api_rejecting_every_token_one_refresh_then_error(sb: Sandbox) -> None:
    client = quick_client(sb)
    client.count("Tickets")
    sb.faults.reject_all_tokens = True
    results, errors = crowd(8, lambda: client.count("Tickets"))
    assert not results and len(errors) == 8
    assert all(isinstance(e, AuthenticationError) for e in errors)
    assert sb.stats.token_requests == 2  # the first token, then exactly one refresh
    assert client.manager.status().state is TokenState.ERROR


def test_wrong_secret_costs_one_token_request_over_20_calls(sb: Sandbox) -> None:
    client = quick_client(sb, secret="definitely-the-wrong-secret")
    for _ in range(20):
        with pytest.raises(AuthenticationError) as info:
            client.count("Tickets")
        assert "Solution: Invalid client credentials" in str(info.value)
    assert sb.stats.token_requests == 1
    assert sb.stats.api_requests == 0


class RecordingClock(SystemClock):
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_token_endpoint_429_retry_after_is_honoured(sb: Sandbox, form: str) -> None:
    value = "1" if form == "seconds" else formatdate(time.time() + 2, usegmt=True)
    sb.faults.token_429(1, retry_after=value)
    clock = RecordingClock()
    client = quick_client(sb, clock=clock)
    assert client.count("Tickets") == 1300
    assert sb.stats.token_requests == 2
    assert len(clock.sleeps) == 1
    if form == "seconds":
        assert clock.sleeps[0] == 1.0
    else:
        assert 0.0 < clock.sleeps[0] <= 2.0


def test_token_endpoint_limit_keeps_headroom(sb: Sandbox) -> None:
    client = quick_client(sb, token_rate_limit=8, token_rate_window=60.0, max_token_wait=0.0)

    for _ in range(8):
        client.manager.refresh()
    with pytest.raises(RateLimitError):
        client.manager.refresh()
    assert sb.stats.token_requests == 8  # never the server's 10


def test_timed_out_token_fetch_leaves_no_stuck_lock(sb: Sandbox) -> None:
    sb.faults.latency_ms = 1500
    client = quick_client(sb, timeout=0.3)
    with pytest.raises(TransportError):
        client.count("Tickets")
    assert client.manager.status().state is not TokenState.REFRESHING
    sb.faults.latency_ms = 0
    results, errors = crowd(4, lambda: client.count("Tickets"))
    assert not errors and results == [1300] * 4


def test_401_on_post_query_replays_the_same_body(sb: Sandbox) -> None:
    client = quick_client(sb)
    flt = [{"op": "lt", "field": "id", "value": sb.ground_truth("Tickets")[700]["id"]}]
    client.count("Tickets")
    sb.revoke_tokens()
    got = list(client.records("Tickets", filter=flt))
    assert [r["id"] for r in got] == [r["id"] for r in sb.ground_truth("Tickets", flt)]
    assert sb.stats.token_requests == 2


def test_records_follow_every_page_and_stop_at_limit(sb: Sandbox) -> None:
    client = quick_client(sb)
    assert [r["id"] for r in client.records("Tickets")] == [r["id"] for r in sb.ground_truth("Tickets")]
    sb.reset_stats()
    assert len(list(client.records("Tickets", limit=501))) == 501
    assert sb.stats.requests_by_endpoint.get("POST /Tickets/query/next", 0) == 1
    sb.reset_stats()
    assert len(list(client.records("Tickets", limit=20))) == 20
    assert sb.stats.requests_by_endpoint.get("POST /Tickets/query/next", 0) == 0


def test_next_page_url_on_another_port_is_refused_and_nothing_sent(sb: Sandbox) -> None:
    with Sandbox(tickets=10) as other:
        sb.faults.next_page_url_override = other.root_url
        client = quick_client(sb)
        with pytest.raises(IncompletePullError) as info:
            list(client.records("Tickets"))
        assert len(info.value.records) == 500 and info.value.pages == 1
        assert "refused nextPageUrl" in str(info.value)
        assert other.stats.api_requests == 0 and other.stats.token_requests == 0


def test_plain_http_to_non_loopback_refused(sb: Sandbox) -> None:
    with pytest.raises(ConfigurationError):
        AutotaskClient(
            OAuthCredentials("id-12345678", "s"), base_url="http://webservices.autotask.net/ATServicesRest/V1.0/"
        )
    with pytest.raises(ConfigurationError):
        AutotaskClient(OAuthCredentials("id-12345678", "s"), token_url="http://10.1.2.3/ATServicesRest/oauth/token")
    sb.faults.next_page_url_override = "http://203.0.113.7:80"
    client = quick_client(sb)
    with pytest.raises(IncompletePullError) as info:
        list(client.records("Tickets"))
    assert "refused nextPageUrl" in str(info.value)


def test_redirects_are_not_followed(sb: Sandbox) -> None:
    with Sandbox(tickets=10) as other:
        sb.faults.redirect_to = other.base_url + "Tickets/query/count"
        client = quick_client(sb)
        with pytest.raises(ServerError):
            client.count("Tickets")
        assert other.stats.api_requests == 0


def test_rate_limit_holds_with_retries(sb: Sandbox) -> None:
    # Shrunk window: the server allows 40 per 2 s; the client keeps headroom at 32 per 2 s.
    sb.faults.rate_window_seconds = 2.0
    sb.faults.rate_limit_per_minute = 40
    sb.faults.token_rate_limit_per_minute = 1000
    sb.faults.error_rate = 0.25  # 5xx answers force retries, which must count too
    client = quick_client(sb, rate_limit=32, rate_window=2.0)
    client.retry.attempts = 8

    def calls() -> int:
        ok = 0
        for _ in range(12):
            try:
                ok += client.count("Tickets") == 1300
            except (QueryError, ServerError):  # injected plain 500s are not retryable
                pass
        return ok

    results, errors = crowd(6, calls)
    assert not errors, errors[:1]
    assert sum(results) > 40  # more than one window's worth got through
    assert sb.stats.api_requests > 72  # retries happened (and were counted by the limiter)
    assert sb.stats.rejected_429 == 0
    assert max(sb.stats.max_concurrency.values()) <= 3


def test_429_pauses_every_request_of_the_client(sb: Sandbox) -> None:
    # The fake clock holds the pause until the test moves it: the check below runs on any machine.
    clock = FakeClock()
    client = quick_client(sb, clock=clock)
    gate = client.manager.limits.gate
    client.count("Tickets")
    sb.faults.burst_429(1, retry_after="2")
    first = threading.Thread(target=client.count, args=("Tickets",))
    first.start()
    # The server counts the 429 before the client has read it: wait for the client's pause gate too.
    wait_for(lambda: sb.stats.rejected_429 == 1 and gate.remaining() > 0, "the client paused after the 429")
    assert gate.remaining() == 2.0  # the whole Retry-After is still ahead
    before = sb.stats.api_requests
    done: list[int] = []
    second = threading.Thread(target=lambda: done.append(client.count("Tickets")))
    second.start()
    time.sleep(0.3)  # room for either thread to send, which neither may do inside the pause
    assert sb.stats.api_requests == before and not done
    clock.advance(2.0)  # Retry-After has passed
    first.join(10)
    second.join(10)
    assert done == [1300] and sb.stats.rejected_429 == 1
    assert sb.stats.api_requests == before + 2  # each paused request sent once, after the pause


def test_api_user_mode_end_to_end(sb: Sandbox) -> None:
    with AutotaskClient.from_env(sb.env(mode="api_user")) as client:
        assert client.count("Tickets") == 1300
        st = client.manager.status()
        assert st.mode == "api_user" and st.zone and st.hourly_requests and st.state is TokenState.VALID
    env = sb.env(mode="api_user")
    env["AUTOTASK_USERNAME"] = "nobody@nowhere.example"
    with AutotaskClient.from_env(env) as client, pytest.raises((AuthenticationError, ConfigurationError)) as info:
        client.count("Tickets")
    assert "AUTOTASK_USERNAME" in str(info.value)
