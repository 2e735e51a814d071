"""API-user mode with a mock transport: headers, zone discovery, unknown user, no plain-HTTP fallback."""

from __future__ import annotations

import httpx
import pytest

from autotask_magic import AuthenticationError, ConfigurationError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials
from autotask_magic.client._manager import CredentialManager, ManagerConfig, TokenState

ZONE = "http://127.0.0.1:9/atservicesrest/V1.0/zoneInformation"


def make(handler, **kw) -> AutotaskClient:
    transport = httpx.MockTransport(handler)
    creds = ApiUserCredentials("api.user@example.com", "INTEGRATION-CODE-XYZ", "api-user-secret-123", 29683)
    manager = CredentialManager(creds, ManagerConfig(zone_url=ZONE, **kw), transport=transport)
    client = AutotaskClient(manager=manager, transport=transport)
    client.retry.sleep = lambda s: None
    return client


def test_headers_on_every_request_after_zone_discovery() -> None:
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        if r.url.path.endswith("zoneInformation"):
            assert r.url.params["user"] == "api.user@example.com"
            assert "Secret" not in r.headers  # discovery needs no credentials
            return httpx.Response(200, json={"zoneName": "Sandbox", "url": "http://127.0.0.1:9/ATServicesRest/"})
        return httpx.Response(200, json={"item": {"id": 1}})

    client = make(handler)
    assert client.base_url == "http://127.0.0.1:9/ATServicesRest/V1.0/"
    client.request("GET", "Companies/1")
    client.request("POST", "Companies/query", json={"filter": []})
    api = [r for r in seen if "zoneInformation" not in r.url.path]
    assert len(api) == 2
    for r in api:
        assert r.headers["ApiIntegrationCode"] == "INTEGRATION-CODE-XYZ"
        assert r.headers["UserName"] == "api.user@example.com"
        assert r.headers["Secret"] == "api-user-secret-123"
        assert r.headers["ImpersonationResourceId"] == "29683"
    st = client.manager.status()
    assert st.zone == "Sandbox" and st.state is TokenState.VALID and st.hourly_requests == 2
    assert "api-user-secret-123" not in repr(st)


def test_unknown_user_is_a_clear_error() -> None:
    def handler(r: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"errors": ["Zone information could not be determined"]})

    client = make(handler)
    with pytest.raises(AuthenticationError) as info:
        client.request("GET", "Companies/1")
    assert "unknown API user" in str(info.value) and "AUTOTASK_USERNAME" in str(info.value)


def test_discovery_never_downgrades_to_plain_http() -> None:
    sent: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        sent.append(r)
        return httpx.Response(200, json={"zoneName": "Z", "url": "http://webservices15.autotask.net/ATServicesRest/"})

    client = make(handler)
    with pytest.raises(ConfigurationError):
        client.request("GET", "Companies/1")
    assert all("zoneInformation" in r.url.path for r in sent)


def test_401_is_an_authentication_error_without_retry() -> None:
    n = [0]

    def handler(r: httpx.Request) -> httpx.Response:
        if r.url.path.endswith("zoneInformation"):
            return httpx.Response(200, json={"zoneName": "Z", "url": "http://127.0.0.1:9/ATServicesRest/"})
        n[0] += 1
        return httpx.Response(401, json={"errors": ["bad credentials"]})

    client = make(handler)
    with pytest.raises(AuthenticationError):
        client.request("GET", "Companies/1")
    assert n[0] == 1 and client.manager.status().state is TokenState.ERROR


def test_absolute_url_to_another_origin_is_refused() -> None:
    sent: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        sent.append(r)
        return httpx.Response(200, json={"zoneName": "Z", "url": "http://127.0.0.1:9/ATServicesRest/"})

    client = make(handler)
    with pytest.raises(ConfigurationError):
        client.request("GET", "http://127.0.0.1:10/ATServicesRest/V1.0/Companies/1")
    assert not [r for r in sent if r.url.port == 10]
