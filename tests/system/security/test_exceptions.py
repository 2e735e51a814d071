"""Errors and logs never carry a secret: exception chains, reprs, verbose tracebacks, DEBUG logs of httpx/httpcore."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from autotask_magic import AutotaskError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials, OAuthCredentials
from autotask_magic.client._manager import CredentialManager, ManagerConfig
from autotask_magic.sandbox import Sandbox

WRONG = "Wrong-Secret-Q7x2P9mZ4k"


def secrets(sb: Sandbox) -> list[str]:
    return [sb.client_secret, sb.secret, sb.integration_code, WRONG, *sb.issued_tokens]


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 50:
        seen.add(id(exc))
        yield exc
        nxt = exc.__cause__ or exc.__context__ or getattr(exc, "cause", None)
        exc = nxt if isinstance(nxt, BaseException) else None


def request_texts(exc: BaseException) -> list[str]:
    """Everything the chain below our error still references about requests: headers and bodies."""
    out: list[str] = []
    for e in list(chain(exc))[1:]:
        req = getattr(e, "_request", None)
        frames = []
        tb = e.__traceback__
        while tb is not None:
            frames.append(tb.tb_frame)
            tb = tb.tb_next
        reqs = [req] + [v for f in frames for v in f.f_locals.values() if isinstance(v, httpx.Request)]
        for r in reqs:
            if isinstance(r, httpx.Request):
                out.append(repr(dict(r.headers)))
                try:
                    out.append(r.content.decode(errors="replace"))
                except httpx.RequestNotRead:
                    pass
    return out


def renderings(exc: BaseException) -> str:
    from IPython.core.ultratb import VerboseTB

    parts = [str(exc), repr(exc), repr(exc.args)]
    for e in chain(exc):
        parts += [str(e), repr(e), repr(e.args), repr(getattr(e, "__dict__", {}))]
    parts.append("".join(traceback.format_exception(exc)))
    parts += list(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    parts.append(VerboseTB(include_vars=True).text(type(exc), exc, exc.__traceback__))
    parts += request_texts(exc)
    return "\n".join(parts)


def failure(fn: Callable[[], Any]) -> AutotaskError:
    try:
        fn()
    except AutotaskError as exc:
        return exc
    raise AssertionError("expected an AutotaskError")


@pytest.fixture
def root_debug() -> Iterator[io.StringIO]:
    """The root logger at the lowest level (httpcore's TRACE too), like logging.basicConfig(level=DEBUG)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(1)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


@pytest.mark.parametrize("mode", ["oauth", "api_user"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_transport_errors_keep_no_request_with_credentials(sb: Sandbox, mode: str, method: str) -> None:
    client = AutotaskClient.from_env(sb.env(mode=mode), timeout=0.2)
    client.retry.attempts = 1
    assert client.count("Tickets") == 1200
    sb.faults.latency_ms = 1000
    path = "Companies/0" if method == "GET" else "Tickets"
    err = failure(lambda: client.request(method, path, json={"title": "x"} if method == "POST" else None))
    sb.faults.latency_ms = 0
    text = renderings(err)
    client.close()
    assert "request" in text.lower()
    for s in secrets(sb):
        assert s not in text


def test_token_request_failure_keeps_no_client_secret(sb: Sandbox) -> None:
    manager = CredentialManager(
        OAuthCredentials(sb.client_id, sb.client_secret),
        ManagerConfig(base_url=sb.base_url, token_url=sb.token_url, timeout=0.2),
    )
    sb.faults.latency_ms = 1000
    err = failure(manager.refresh)
    sb.faults.latency_ms = 0
    manager.close()
    text = renderings(err)
    assert sb.client_secret not in text


def test_api_user_validation_failure_keeps_no_secret(sb: Sandbox) -> None:
    manager = CredentialManager(
        ApiUserCredentials(sb.username, sb.integration_code, sb.secret),
        ManagerConfig(base_url=sb.base_url, timeout=0.2),
    )
    sb.faults.latency_ms = 1000
    err = failure(manager.refresh)
    sb.faults.latency_ms = 0
    manager.close()
    text = renderings(err)
    for s in (sb.secret, sb.integration_code):
        assert s not in text


def test_debug_logging_of_httpx_and_httpcore_has_no_secret(sb: Sandbox, root_debug: io.StringIO) -> None:
    errors: list[AutotaskError] = []
    for mode in ("oauth", "api_user"):
        with AutotaskClient.from_env(sb.env(mode=mode)) as client:
            assert client.count("Tickets") == 1200
            assert len(list(client.records("Tickets"))) == 1200
            sb.revoke_tokens()
            assert client.request("GET", "Companies/0")["item"]["id"] == 0
    wrong = AutotaskClient(OAuthCredentials(sb.client_id, WRONG), base_url=sb.base_url, token_url=sb.token_url)
    errors.append(failure(lambda: wrong.count("Tickets")))
    wrong_api = AutotaskClient(ApiUserCredentials(sb.username, sb.integration_code, WRONG), base_url=sb.base_url)
    errors.append(failure(lambda: wrong_api.count("Tickets")))
    wrong.close()
    wrong_api.close()
    log = root_debug.getvalue()
    assert "httpcore" in log and "httpx" in log and "autotask_magic" in log  # everyone logged
    blob = log + "\n".join(renderings(e) for e in errors)
    assert len(sb.issued_tokens) >= 2
    for s in secrets(sb):
        assert s not in blob
