"""Control characters in credentials or tokens are refused (never echoed); the package's errors keep no
``__context__`` that could hold a secret; httpx/httpcore DEBUG logs go through the redacting filter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from autotask_magic import AutotaskError, ConfigurationError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials, OAuthCredentials
from tests._support.servers import Scripted, reply

VALUE = "Ct9rLq2WmX7vB4nK8pZs3yHd"
Start = Callable[[Callable[[Any], None]], Scripted]


@pytest.mark.parametrize("bad", ["\r\nX-Injected: 1", "\n", "\x00", "\x7f", "\t"])
@pytest.mark.parametrize(
    "field", ["client_id", "client_secret", "username", "integration_code", "secret", "impersonation"]
)
def test_control_characters_in_credentials_are_refused_without_echo(field: str, bad: str) -> None:
    value = VALUE[:12] + bad + VALUE[12:]
    args: dict[str, Any] = {"client_id": "cid-1", "client_secret": VALUE[::-1]}
    api: dict[str, Any] = {"username": "api@example.com", "integration_code": "Code1234", "secret": VALUE[::-1]}
    with pytest.raises(ConfigurationError) as info:
        if field in args:
            OAuthCredentials(**{**args, field: value})
        elif field == "impersonation":
            ApiUserCredentials(**api, impersonation_resource_id="12" + bad + "3")
        else:
            ApiUserCredentials(**{**api, field: value})
    text = str(info.value) + repr(info.value)
    assert VALUE[:12] not in text and VALUE[12:] not in text and "\n" not in str(info.value)
    assert info.value.__context__ is None and info.value.__cause__ is None


@pytest.mark.parametrize("field", ["client_secret", "integration_code", "secret"])
def test_a_pasted_secrets_surrounding_line_breaks_are_stripped(field: str) -> None:
    """A secret copied with its trailing line break is kept without it (it would otherwise reach a header)."""
    value = " " + VALUE + "\r\n"
    if field == "client_secret":
        kept = OAuthCredentials("cid-1", value).client_secret.reveal()
    else:
        api: dict[str, Any] = {"username": "api@example.com", "integration_code": "Code1234", "secret": "S3cr3t"}
        creds = ApiUserCredentials(**{**api, field: value})
        kept = getattr(creds, field).reveal()
    assert kept == VALUE


def test_control_characters_in_the_environment_are_refused_without_echo() -> None:
    env = {"AUTOTASK_CLIENT_ID": "cid", "AUTOTASK_CLIENT_SECRET": VALUE[:12] + "\r\n" + VALUE[12:]}
    with pytest.raises(ConfigurationError) as info:
        AutotaskClient.from_env(env)
    assert "AUTOTASK_CLIENT_SECRET" in str(info.value) or "client_secret" in str(info.value)
    assert VALUE[:12] not in str(info.value)


@pytest.fixture
def evil_token(scripted: Start) -> Scripted:
    """A token endpoint handing out a token with CR/LF in it (header injection), and an API behind it."""

    def script(h: Any) -> None:
        if h.path.endswith("/oauth/token"):
            body = {"access_token": VALUE[:12] + "\r\nX-Injected: 1\r\n" + VALUE[12:], "expires_in": 3600}
            reply(h, 200, json.dumps(body).encode(), [("Content-Type", "application/json")])
        else:
            reply(h, 200, b'{"items": []}', [("Content-Type", "application/json")])

    return scripted(script)


def test_a_token_with_control_characters_is_refused_in_one_line(evil_token: Scripted) -> None:
    creds = OAuthCredentials("cid-1", "client-secret-value-1")
    with AutotaskClient(creds, base_url=evil_token.base_url, token_url=evil_token.token_url, timeout=5) as c:
        with pytest.raises(AutotaskError) as info:
            c.request("GET", "Companies/0")
    err = info.value
    chain = []
    seen: BaseException | None = err
    while seen is not None and len(chain) < 10:
        chain.append(f"{type(seen).__name__}: {seen!s} {seen.args!r}")
        seen = seen.__cause__ or seen.__context__
    text = "\n".join(chain)
    assert "access token" in str(err) and "control character" in str(err)
    assert VALUE[:12] not in text and VALUE[12:] not in text
    assert err.__context__ is None and err.__cause__ is None
    assert [p for _, p in evil_token.requests if "Companies" in p] == []  # the token never went out


def test_network_errors_keep_no_context(scripted: Start) -> None:
    """A connection dropped mid-answer: the TransportError users catch has no __context__/__cause__."""

    def script(h: Any) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        h.wfile.flush()
        h.connection.close()

    creds = ApiUserCredentials("api@example.com", "IntegrationCode1", VALUE)
    with AutotaskClient(creds, base_url=scripted(script).base_url, timeout=5) as c:
        c.retry.sleep = lambda s: None
        with pytest.raises(AutotaskError) as info:
            c.request("GET", "Companies/0")
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_httpcore_debug_logs_are_redacted(scripted: Start, caplog: pytest.LogCaptureFixture) -> None:
    """A server echoing the credential headers back in its response headers: httpcore logs them at DEBUG."""

    def script(h: Any) -> None:
        echoed = [(k, v) for k, v in h.headers.items() if k.lower() in ("secret", "apiintegrationcode")]
        reply(h, 200, b'{"item": {"id": 0}}', [("Content-Type", "application/json"), *echoed])

    server = scripted(script)
    caplog.set_level(logging.DEBUG)
    creds = ApiUserCredentials("api@example.com", "IntegrationCode-" + VALUE[:8], VALUE)
    with AutotaskClient(creds, base_url=server.base_url, timeout=5) as c:
        assert c.request("GET", "Companies/0") == {"item": {"id": 0}}
    records = [r for r in caplog.records if r.name.startswith(("httpcore", "httpx"))]
    assert records, "httpcore logged nothing at DEBUG"
    text = "\n".join(r.getMessage() for r in records)
    assert "receive_response_headers" in text
    assert VALUE not in text and "IntegrationCode-" + VALUE[:8] not in text
