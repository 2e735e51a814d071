"""Credentials never leave the API root: hostile paths, nextPageUrl and redirects are refused before sending."""

from __future__ import annotations

import pytest

from autotask_magic import AutotaskError, ConfigurationError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import OAuthCredentials
from autotask_magic.sandbox import Sandbox
from tests._support.transports import RecordingTransport

HOSTILE = [
    "../../oauth/token",
    "Companies/../../oauth/token",
    "Companies/0/..",
    "..",
    "./Companies/0",
    "Companies/%2e%2e/%2e%2e/oauth/token",
    "Companies/%2E%2E/x",
    "Companies%2f..%2f..%2foauth%2ftoken",
    "Companies/0\r\nX-Injected: 1",
    "Companies/0%0d%0aX-Injected:%201",
    "Companies/0%0AX",
    "Companies\\..\\..\\oauth\\token",
    "Companies/%5c..%5coauth",
    "Companies/0#../../oauth/token",
    "//evil.example/x",
    "/\\evil.example/x",
    "https:evil.example/x",
    "https://evil.example/ATServicesRest/V1.0/Companies/0",
    "http://evil.example/ATServicesRest/V1.0/Companies/0",
    "ftp://127.0.0.1/ATServicesRest/V1.0/Companies/0",
]


def _client(sb: Sandbox, rec: RecordingTransport) -> AutotaskClient:
    return AutotaskClient(
        OAuthCredentials(sb.client_id, sb.client_secret),
        base_url=sb.base_url,
        token_url=sb.token_url,
        transport=rec,
    )


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_path_refused_before_sending(sb: Sandbox, recorder: RecordingTransport, path: str) -> None:
    with _client(sb, recorder) as client:
        with pytest.raises(ConfigurationError) as info:
            client.request("GET", path)
    assert recorder.sent == []  # not even a token request
    text = str(info.value)
    assert "\n" not in text and "\r" not in text
    assert sb.client_secret not in text


def test_same_host_outside_api_root_refused(sb: Sandbox, recorder: RecordingTransport) -> None:
    with _client(sb, recorder) as client:
        assert client.request("GET", "Companies/0")["item"]["id"] == 0
        sent = len(recorder.sent)
        for url in (
            sb.token_url,
            sb.root_url + "/ATServicesRest/V1.0/../oauth/token",
            sb.root_url + "/",
            sb.base_url.replace("127.0.0.1", "127.0.0.1:1"),
            sb.base_url.replace("http://", "https://"),
            sb.base_url.replace("http://", "http://user@") + "Companies/0",
        ):
            with pytest.raises(ConfigurationError):
                client.request("GET", url)
        assert len(recorder.sent) == sent
        # An absolute URL under the root, and a query string, are still fine.
        assert client.request("GET", sb.base_url + "Companies/0?x=1")["item"]["id"] == 0
    assert all(r.url.path.startswith("/ATServicesRest/") for r in recorder.sent)
    assert not any("Authorization" in r.headers for r in recorder.sent if r.url.path.endswith("/oauth/token"))


@pytest.mark.parametrize(
    "override",
    [
        "{root}/ATServicesRest/V1.0/../../oauth/token?x=",
        "{root}/ATServicesRest/oauth/token?x=",
        "{root}/ATServicesRest/V1.0/%2e%2e/%2e%2e/oauth/token?x=",
        "http://127.0.0.1:1",
    ],
)
@pytest.mark.parametrize("parallel", [False, True])
def test_next_page_url_outside_root_refused(
    sb: Sandbox, recorder: RecordingTransport, override: str, parallel: bool
) -> None:
    with _client(sb, recorder) as client:
        assert client.count("Tickets") == 1200
        sb.faults.next_page_url_override = override.format(root=sb.root_url)
        with pytest.raises(AutotaskError) as info:
            list(client.records("Tickets", parallel=parallel))
        assert "nextPageUrl" in str(info.value) or "API root" in str(info.value) or "refus" in str(info.value)
    for r in recorder.sent:
        # Every request that carried credentials stayed under the API root.
        if "Authorization" in r.headers:
            assert r.url.path.startswith("/ATServicesRest/V1.0/") and ".." not in r.url.path
            assert "%2e" not in r.url.raw_path.decode().lower()
            assert r.url.port == httpx_port(sb)


def httpx_port(sb: Sandbox) -> int:
    import httpx

    return httpx.URL(sb.root_url).port  # type: ignore[return-value]


def test_redirect_is_an_error_not_followed(sb: Sandbox, recorder: RecordingTransport) -> None:
    with _client(sb, recorder) as client:
        assert client.count("Tickets") == 1200
        sb.faults.redirect_to = "http://127.0.0.1:1/steal"
        n = len(recorder.sent)
        with pytest.raises(AutotaskError) as info:
            client.request("GET", "Companies/0")
        assert "redirect" in str(info.value).lower() and "302" in str(info.value)
        with pytest.raises(AutotaskError):
            list(client.records("Tickets"))
    assert all(r.url.port != 1 for r in recorder.sent)
    assert len(recorder.sent) - n == 2  # one each; nothing followed, no retry of a 302
