"""Secrets and tokens never appear in repr, str, exception text, DEBUG logs or verbose tracebacks."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from autotask_magic import AutotaskError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import OAuthCredentials
from autotask_magic.client._manager import CredentialManager, ManagerConfig
from autotask_magic.sandbox import Sandbox

WRONG = "wrong-secret-Zq9xP2mW7"


@pytest.fixture()
def sb() -> Iterator[Sandbox]:
    with Sandbox(tickets=700, seed=5) as box:
        yield box


def secrets_of(sb: Sandbox) -> list[str]:
    return [sb.client_secret, sb.secret, sb.integration_code, WRONG, *sb.issued_tokens]


def _verbose(etype: Any, value: Any, tb: Any) -> str:
    """The traceback with every frame's locals: Python's ``capture_locals`` and IPython's Verbose mode."""
    from IPython.core.ultratb import VerboseTB

    text = "".join(traceback.TracebackException(etype, value, tb, capture_locals=True).format())
    return text + VerboseTB(include_vars=True).text(etype, value, tb)


def capture(fn: Callable[[], Any]) -> tuple[BaseException, str]:
    """Run ``fn`` and render its exception verbosely (locals of every frame), as %xmode Verbose does."""
    try:
        fn()
    except AutotaskError:
        etype, value, tb = sys.exc_info()
    else:  # pragma: no cover
        raise AssertionError("expected an AutotaskError")
    text = _verbose(etype, value, tb)
    return value, text  # type: ignore[return-value]


def test_secrets_absent_everywhere(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # root: autotask_magic, httpx and httpcore at DEBUG
    texts: list[str] = []

    oauth = AutotaskClient.from_env(sb.env(mode="oauth"))
    texts += [
        repr(oauth),
        str(oauth),
        repr(oauth.manager),
        repr(oauth.manager.status()),
        repr(oauth.manager.credentials),
    ]
    assert oauth.count("Tickets") == 700
    sb.revoke_tokens()  # a 401 and a replay
    assert len(list(oauth.records("Tickets"))) == 700

    # Wrong secret (token endpoint 400) rendered verbosely.
    wrong = AutotaskClient(OAuthCredentials(sb.client_id, WRONG), base_url=sb.base_url, token_url=sb.token_url)
    err, text = capture(lambda: wrong.count("Tickets"))
    texts += [text, str(err), repr(err)]

    # API rejects every token (401 after a refresh), a transport failure and an incomplete pull.
    sb.faults.reject_all_tokens = True
    err, text = capture(lambda: oauth.count("Tickets"))
    texts += [text, str(err), repr(err)]
    sb.faults.reject_all_tokens = False

    api = AutotaskClient.from_env(sb.env(mode="api_user"))
    texts += [repr(api), repr(api.manager.credentials), repr(api.manager.status())]
    assert api.count("Tickets") == 700
    sb.faults.next_page_url_override = "http://127.0.0.1:1"
    err, text = capture(lambda: list(api.records("Tickets")))
    texts += [text, str(err)]
    sb.faults.next_page_url_override = None
    sb.faults.latency_ms = 800
    slow = AutotaskClient.from_env(sb.env(mode="api_user"), timeout=0.2)
    slow.retry.attempts = 1
    err, text = capture(lambda: slow.count("Tickets"))
    texts += [text, str(err)]
    sb.faults.latency_ms = 0
    manager = CredentialManager(
        OAuthCredentials(sb.client_id, sb.client_secret),
        ManagerConfig(base_url=sb.base_url, token_url=sb.token_url, timeout=0.2),
    )
    sb.faults.latency_ms = 800
    err, text = capture(lambda: manager.refresh())
    texts += [text, str(err)]

    texts += [r.getMessage() for r in caplog.records]
    assert any("Tickets/query" in r.getMessage() for r in caplog.records)  # DEBUG request lines exist
    blob = "\n".join(texts)
    assert len(sb.issued_tokens) >= 3
    for secret in secrets_of(sb):
        assert secret not in blob
    for c in (oauth, wrong, api, slow):
        c.close()
    manager.close()


def _interrupted(fn: Callable[[], Any], after: float) -> str:
    """Run ``fn`` on the main thread, press Ctrl-C after ``after`` s, and render the KeyboardInterrupt
    verbosely (every frame's locals), as ``%xmode Verbose`` shows an interrupted cell."""
    assert threading.current_thread() is threading.main_thread()
    timer = threading.Timer(after, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    timer.start()
    try:
        fn()
    except KeyboardInterrupt:
        etype, value, tb = sys.exc_info()
    else:  # pragma: no cover
        raise AssertionError("the call ended before Ctrl-C was pressed")
    finally:
        timer.cancel()
    assert etype is not None and tb is not None
    return _verbose(etype, value, tb)


@pytest.mark.parametrize("mode", ["oauth", "api_user"])
def test_ctrl_c_while_credentials_are_on_the_wire_shows_no_secret(sb: Sandbox, mode: str) -> None:
    """Ctrl-C during a token fetch (OAuth) or the zone lookup and validation (API user), both on the main
    thread: the frames the KeyboardInterrupt passes hold no plain secret (the form body shows its size)."""
    with AutotaskClient.from_env(sb.env(mode=mode)) as client:
        sb.faults.latency_ms = 600  # the token endpoint and zoneInformation answer slowly
        text = _interrupted(client.manager.refresh, 0.25)
        sb.faults.latency_ms = 0
        assert "request_off_main" in text  # it was waiting for the request, where the secret is sent
        if mode == "oauth":
            assert "<token form body, " in text
        for secret in (sb.client_secret, sb.secret, sb.integration_code):
            assert secret not in text
        assert client.count("Tickets") == 700  # and the client still works
