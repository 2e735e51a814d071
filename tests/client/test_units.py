"""Pure unit tests of the core modules (fake clock, httpx.MockTransport)."""

from __future__ import annotations

import logging
import pickle
import threading
from email.utils import formatdate

import httpx
import pytest

from autotask_magic import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    ServerError,
    TransportError,
    WriteOutcomeUnknownError,
)
from autotask_magic._redact import get_logger, mask
from autotask_magic.client._credentials import ApiUserCredentials, OAuthCredentials, Secret
from autotask_magic.client._limits import PauseGate, SlidingWindow, endpoint_key
from autotask_magic.client._manager import TokenState
from autotask_magic.client._retry import RetryPolicy, is_read_only, parse_retry_after
from autotask_magic.client._settings import Settings, check_url, is_loopback, make_ssl_context, same_origin
from tests._support.clock import FakeClock
from tests._support.mock_api import BASE, CLIENT_SECRET, MockApi, make_client

# ---------------------------------------------------------------- credentials


def test_secret_never_shows_itself() -> None:
    s = Secret("hunter2-very-secret")
    assert repr(s) == str(s) == f"{s}" == "<secret>"
    assert s.reveal() == "hunter2-very-secret"
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_credential_reprs_are_masked() -> None:
    o = OAuthCredentials("client-id-abcdefgh", "oauth-secret-xyz")
    a = ApiUserCredentials("api.user@example.com", "INTEGRATION-CODE-1", "api-secret-xyz", 42)
    for text in (repr(o), str(o), repr(a), str(a)):
        for raw in (
            "oauth-secret-xyz",
            "INTEGRATION-CODE-1",
            "api-secret-xyz",
            "client-id-abcdefgh",
            "api.user@example.com",
        ):
            assert raw not in text
    assert "clie…efgh" in repr(o)
    assert mask("abc") == "…"


# ---------------------------------------------------------------- settings


def test_env_selects_oauth_and_api_user() -> None:
    s = Settings.from_env({"AUTOTASK_CLIENT_ID": "id-123456", "AUTOTASK_CLIENT_SECRET": "sec"})
    assert s.mode == "oauth"
    s = Settings.from_env(
        {
            "AUTOTASK_USERNAME": "u@x",
            "AUTOTASK_INTEGRATION_CODE": "c",
            "AUTOTASK_SECRET": "s",
            "AUTOTASK_BASE_URL": "https://webservices15.autotask.net/ATServicesRest/V1.0/",
        }
    )
    assert s.mode == "api_user" and s.base_url


@pytest.mark.parametrize(
    "env, names",
    [
        ({}, ["AUTOTASK_CLIENT_ID", "AUTOTASK_USERNAME"]),
        ({"AUTOTASK_CLIENT_ID": "x"}, ["AUTOTASK_CLIENT_SECRET"]),
        ({"AUTOTASK_USERNAME": "u", "AUTOTASK_SECRET": "s"}, ["AUTOTASK_INTEGRATION_CODE"]),
        ({"AUTOTASK_CLIENT_ID": "x", "AUTOTASK_USERNAME": "u"}, ["AUTOTASK_CLIENT_ID", "AUTOTASK_USERNAME"]),
    ],
)
def test_env_errors_name_the_variables(env: dict[str, str], names: list[str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(env)
    for name in names:
        assert name in str(info.value)


def test_plain_http_only_to_loopback() -> None:
    for ok in ("http://127.0.0.1:8/x", "http://127.5.4.3/x", "http://[::1]:80/", "http://localhost/", "https://a.b/"):
        check_url(ok)
    for bad in ("http://example.com/", "http://10.0.0.1/", "ftp://127.0.0.1/", "example.com/x"):
        with pytest.raises(ConfigurationError):
            check_url(bad)
    assert is_loopback("127.0.0.1") and not is_loopback("128.0.0.1")
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(
            {
                "AUTOTASK_CLIENT_ID": "x",
                "AUTOTASK_CLIENT_SECRET": "y",
                "AUTOTASK_BASE_URL": "http://webservices.autotask.net/ATServicesRest/V1.0/",
            }
        )
    assert "AUTOTASK_BASE_URL" in str(info.value)


def test_same_origin_compares_scheme_host_port() -> None:
    assert same_origin("https://a.b/x", "https://A.b:443/y")
    assert not same_origin("https://a.b/x", "http://a.b/x")
    assert not same_origin("http://127.0.0.1:1/x", "http://127.0.0.1:2/x")


def test_ca_bundle_must_exist(tmp_path) -> None:
    with pytest.raises(ConfigurationError):
        make_ssl_context(str(tmp_path / "missing.pem"))
    import ssl

    assert make_ssl_context().verify_mode == ssl.CERT_REQUIRED


# ---------------------------------------------------------------- limits / retry units


def test_endpoint_key_collapses_ids() -> None:
    assert endpoint_key("post", "/ATServicesRest/V1.0/Tickets/query") == "POST Tickets/query"
    assert endpoint_key("GET", "/ATServicesRest/V1.0/Companies/123/Contacts/7") == "GET Companies/{id}/Contacts/{id}"


def test_read_only_classification() -> None:
    assert is_read_only("GET", "Companies/1")
    for p in ("Tickets/query", "Tickets/query/count", "Tickets/query/next?paging=x"):
        assert is_read_only("POST", p)
    for m, p in (("POST", "Tickets"), ("PATCH", "Tickets"), ("PUT", "Tickets"), ("DELETE", "Tickets/1")):
        assert not is_read_only(m, p)


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 5, usegmt=True), now) == pytest.approx(5.0, abs=1)
    assert parse_retry_after("garbage") is None


def test_backoff_is_bounded_and_jittered() -> None:
    p = RetryPolicy(base=1.0, cap=4.0, rng=lambda: 1.0)
    assert [p.backoff(i) for i in (1, 2, 3, 4, 10)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    p.rng = lambda: 0.0
    assert p.backoff(3) == 2.0


def test_sliding_window_with_fake_clock() -> None:
    clock = FakeClock()
    w = SlidingWindow(3, 10.0, clock)
    assert [w.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert w.try_acquire() == pytest.approx(10.0)
    clock.advance(10.0)
    assert w.try_acquire() == 0.0 and w.count() == 1


def test_pause_gate() -> None:
    clock = FakeClock()
    gate = PauseGate(clock)
    gate.pause(5)
    assert gate.remaining() == 5
    clock.advance(5)
    gate.wait()  # returns at once


# ---------------------------------------------------------------- OAuth manager with a fake clock


def test_token_is_lazy_and_refreshed_with_margin_from_send_time() -> None:
    clock, api = FakeClock(), MockApi()
    api.lifetime = 600
    api.on_token = lambda: clock.advance(30)  # the token endpoint takes 30 s to answer
    client = make_client(api, clock)
    assert api.token_requests == 0  # lazy
    client.request("GET", "Companies/0")
    assert api.token_requests == 1
    # sent at t, margin 60: refresh at t + 540, i.e. 510 s after the answer arrived.
    clock.advance(509)
    client.request("GET", "/Companies/0")
    assert api.token_requests == 1
    clock.advance(1)
    client.request("GET", "Companies/0")
    assert api.token_requests == 2
    assert client.manager.status().refresh_margin == 60


def test_short_token_uses_half_its_lifetime_as_margin() -> None:
    clock, api = FakeClock(), MockApi()
    api.lifetime = 20
    client = make_client(api, clock)
    client.request("GET", "Companies/0")
    clock.advance(9.9)
    client.request("GET", "Companies/0")
    assert api.token_requests == 1
    clock.advance(0.1)
    client.request("GET", "Companies/0")
    assert api.token_requests == 2


def test_sleeping_laptop_and_clock_jumps() -> None:
    clock, api = FakeClock(), MockApi()
    client = make_client(api, clock)
    client.request("GET", "Companies/0")
    clock.advance(7200, mono=False)  # suspended: monotonic stood still, the wall clock moved
    client.request("GET", "Companies/0")
    assert api.token_requests == 2
    clock.advance(-7200 * 3, mono=False, wall=True)  # wall clock set far back
    clock.advance(3600, wall=False)  # ...while an hour really passed
    client.request("GET", "Companies/0")
    assert api.token_requests == 3


def test_invalid_client_fails_once_and_is_remembered_for_60_s() -> None:
    clock, api = FakeClock(), MockApi()
    api.token_response = lambda r: httpx.Response(400, json={"error": "invalid_client"})
    client = make_client(api, clock)
    for _ in range(20):
        with pytest.raises(AuthenticationError) as info:
            client.request("GET", "Companies/0")
        assert "Solution: Invalid client credentials" in str(info.value)
    assert api.token_requests == 1
    assert client.manager.status().state is TokenState.ERROR
    clock.advance(61)
    with pytest.raises(AuthenticationError):
        client.request("GET", "Companies/0")
    assert api.token_requests == 2


def test_keyboard_interrupt_in_token_fetch_leaves_no_stuck_lock() -> None:
    clock, api = FakeClock(), MockApi()
    hits = []

    def interrupt() -> None:
        hits.append(1)
        if len(hits) == 1:
            raise KeyboardInterrupt

    api.on_token = interrupt
    client = make_client(api, clock)
    with pytest.raises(KeyboardInterrupt):
        client.request("GET", "Companies/0")
    assert client.manager.status().state is not TokenState.REFRESHING
    done = []
    t = threading.Thread(target=lambda: done.append(client.request("GET", "Companies/0")))
    t.start()
    t.join(10)
    assert done and api.token_requests == 2


def test_401_replays_the_same_body_once() -> None:
    clock, api = FakeClock(), MockApi()
    client = make_client(api, clock)
    client.request("GET", "Companies/0")
    api.valid.clear()  # revoked server-side
    body = {"filter": [{"op": "eq", "field": "id", "value": 7}], "MaxRecords": 500}
    client.request("POST", "Tickets/query", json=body)
    posts = [r for r in api.api_requests() if r.method == "POST"]
    assert len(posts) == 2 and posts[0].content == posts[1].content and b'"value":7' in posts[0].content
    assert api.token_requests == 2


def test_403_never_refreshes() -> None:
    clock, api = FakeClock(), MockApi()
    api.api_response = lambda r: httpx.Response(403, json={"errors": ["no access"]})
    client = make_client(api, clock)
    with pytest.raises(PermissionDeniedError) as info:
        client.request("GET", "Companies/0")
    assert "Insufficient permissions" in str(info.value) and "no access" in str(info.value)
    assert api.token_requests == 1 and len(api.api_requests()) == 1


def test_subscribers_see_changes_and_logout_forgets() -> None:
    clock, api = FakeClock(), MockApi()
    client = make_client(api, clock)
    seen: list[TokenState] = []
    unsubscribe = client.manager.subscribe(lambda st: seen.append(st.state))
    client.manager.subscribe(lambda st: 1 / 0)  # a broken listener must not break anything
    client.request("GET", "Companies/0")
    assert TokenState.REFRESHING in seen and seen[-1] is TokenState.VALID
    assert client.manager.status().requests_last_minute == 1
    client.manager.logout()
    assert seen[-1] is TokenState.LOGGED_OUT and client.manager.credentials is None
    with pytest.raises(AuthenticationError):
        client.request("GET", "Companies/0")
    n = len(seen)
    unsubscribe()
    client.manager.logout()
    assert len(seen) == n


# ---------------------------------------------------------------- retries and errors


def test_writes_are_never_retried_once_sent() -> None:
    clock, api = FakeClock(), MockApi()

    def drop(r: httpx.Request) -> None:
        raise httpx.ReadError("connection dropped", request=r)

    api.api_response = drop
    client = make_client(api, clock)
    with pytest.raises(WriteOutcomeUnknownError) as info:
        client.request("PATCH", "Tickets", json={"id": 1, "title": "x"})
    assert "PATCH /Tickets" in str(info.value)
    assert len(api.api_requests()) == 1
    with pytest.raises(TransportError):
        client.request("POST", "Tickets/query", json={"filter": []})
    assert len(api.api_requests()) == 1 + client.retry.attempts


def test_reads_retry_on_503_then_succeed() -> None:
    clock, api = FakeClock(), MockApi()
    n = [0]

    def flaky(r: httpx.Request) -> httpx.Response | None:
        n[0] += 1
        return httpx.Response(503) if n[0] <= 2 else None

    api.api_response = flaky
    client = make_client(api, clock)
    sleeps: list[float] = []
    client.retry.sleep = sleeps.append
    assert client.request("GET", "Companies/0") == {"item": {"id": 0}}
    assert len(sleeps) == 2
    api.api_response = lambda r: httpx.Response(502)
    with pytest.raises(ServerError):
        client.request("GET", "Companies/0")


@pytest.mark.parametrize(
    "status, payload, exc, words",
    [
        (404, {"errors": []}, NotFoundError, None),
        (500, {"errors": ["Unable to find field: foo"]}, QueryError, "Unable to find field: foo"),
        (500, None, ServerError, None),
    ],
)
def test_errors_are_one_line(status, payload, exc, words) -> None:
    clock, api = FakeClock(), MockApi()
    api.api_response = lambda r: httpx.Response(status, json=payload) if payload is not None else httpx.Response(status)
    client = make_client(api, clock)
    client.retry.attempts = 1
    with pytest.raises(exc) as info:
        client.request("GET", "Companies/99")
    text = str(info.value)
    assert "\n" not in text and "GET /Companies/99" in text
    if words:
        assert words in text


def test_redacting_log_filter() -> None:
    Secret("zz-registered-secret-123")
    logger = get_logger("autotask_magic.test")
    records: list[logging.LogRecord] = []

    class H(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    h = H()
    logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("value %s and Bearer abc.def", "zz-registered-secret-123")
    finally:
        logger.removeHandler(h)
    assert "zz-registered-secret-123" not in records[0].getMessage()
    assert "abc.def" not in records[0].getMessage()


def test_no_secret_in_error_text() -> None:
    clock, api = FakeClock(), MockApi()
    api.token_response = lambda r: httpx.Response(400, text=f"bad client {CLIENT_SECRET}")
    client = make_client(api, clock)
    with pytest.raises(AuthenticationError) as info:
        client.request("GET", "Companies/0")
    assert CLIENT_SECRET not in str(info.value) and CLIENT_SECRET not in repr(info.value)
    assert BASE
