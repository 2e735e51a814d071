"""Credentials under load: wrong secret, the token endpoint's limit, 403 and revocation."""

from __future__ import annotations

from typing import Any

import pytest

from autotask_magic import AutotaskClient
from autotask_magic._exceptions import AuthenticationError, PermissionDeniedError, RateLimitError
from autotask_magic.client._credentials import OAuthCredentials
from autotask_magic.sandbox import Sandbox
from tests._support.clients import oauth_client, oauth_manager, owning, server_limits_held
from tests._support.clock import FakeClock
from tests._support.servers import Forbidding
from tests._support.tally import Tally
from tests._support.threads import crowd


def test_wrong_secret_under_50_callers_costs_one_token_request_per_window(sbx: Any) -> None:
    sb: Sandbox = sbx(tickets=100)
    # The remembered-failure window runs on the manager's clock: a fake one, so a wave always fits in one
    # window however slow the machine, and the next window starts exactly when the test says.
    clock = FakeClock()
    window = 60.0
    manager = oauth_manager(sb, secret="not-the-secret", failure_memory=window, clock=clock)
    client = owning(AutotaskClient(manager=manager))
    with client:
        for wave in (1, 2):
            results, errors = crowd(50, lambda: client.count("Tickets"))
            assert not results and len(errors) == 50
            assert all(isinstance(e, AuthenticationError) for e in errors)
            assert all("\n" not in str(e) and "not-the-secret" not in str(e) for e in errors)
            assert sb.stats.token_requests == wave
            # Callers that keep trying inside the window cost nothing more.
            clock.advance(window - 1)
            for _ in range(20):
                with pytest.raises(AuthenticationError):
                    client.count("Tickets")
            assert sb.stats.token_requests == wave
            clock.advance(1.1)  # past the window: the next caller may ask the token endpoint again
    assert sb.stats.api_requests == 0  # a wrong secret never reaches the API
    server_limits_held(sb)


def test_token_endpoint_limit_never_exceeded_by_forced_refreshes(sbx: Any) -> None:
    sb: Sandbox = sbx(tickets=100)
    manager = oauth_manager(sb, max_token_wait=0.3)
    with owning(AutotaskClient(manager=manager)) as client:
        client.count("Tickets")

        # Concurrent forced refreshes coalesce (single flight)... The token endpoint answers slowly here,
        # so all 15 callers really are concurrent on a loaded machine (a caller arriving after the
        # fetch ended would rightly force a new one).
        sb.faults.latency_ms = 300
        results, errors = crowd(15, manager.refresh)
        sb.faults.latency_ms = 0
        assert not errors and sb.stats.token_requests <= 2
        # ...and one caller forcing refresh after refresh is stopped by the client, not the server.
        refused = 0
        for _ in range(15):
            try:
                manager.refresh()
            except RateLimitError as exc:
                refused += 1
                assert "token endpoint limit" in str(exc) and "\n" not in str(exc)
        assert refused >= 5
        assert sb.stats.token_requests <= 10
        assert not sb.stats.faults_injected and sb.stats.rejected_429 == 0
        assert client.count("Tickets") == 100  # the live token still works


def test_403_never_refreshes(tally: Tally) -> None:
    srv = Forbidding()
    try:
        creds = OAuthCredentials("id-403-client", "secret-403-value")
        with AutotaskClient(creds, base_url=srv.base_url, token_url=srv.token_url) as client:
            results, errors = crowd(10, lambda: client.request("GET", "Companies/0"))
            assert len(errors) == 10 and all(isinstance(e, PermissionDeniedError) for e in errors)
            for _ in range(5):
                with pytest.raises(PermissionDeniedError) as info:
                    client.request("POST", "Tickets/query", json={"filter": [{"op": "gte", "field": "id", "value": 0}]})
                assert "403" in str(info.value) and "\n" not in str(info.value)
            assert srv.token_requests == 1  # the token was fine: no refresh
            assert srv.api_requests == 15  # and no replay
            assert client.manager.status().refresh_count == 1
    finally:
        srv.stop()
    tally.add("api requests", 15)
    tally.add("token requests", 1)


def test_revocation_recovers_with_one_refresh_under_load(sbx: Any, tally: Tally) -> None:
    sb: Sandbox = sbx(tickets=800)
    with oauth_client(sb) as client:
        assert client.count("Tickets") == 800
        assert sb.stats.token_requests == 1
        sb.revoke_tokens()
        results, errors = crowd(12, lambda: len(list(client.records("Tickets"))))
        assert not errors, errors[:2]
        assert results == [800] * 12
        assert sb.stats.token_requests == 2  # exactly one refresh for twelve callers
        # A second revocation later: again exactly one.
        sb.revoke_tokens()
        assert client.count("Tickets") == 800
        assert sb.stats.token_requests == 3
    server_limits_held(sb)
    tally.add("records verified", 800 * 12)
