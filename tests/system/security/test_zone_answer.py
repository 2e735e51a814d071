"""The zone-discovery answer decides where the API-user Secret goes: it is checked before anything is sent.

Accepted only on an Autotask host (``*.autotask.net``) or the zone URL's own host, never with a weaker
scheme than the zone URL; ``AUTOTASK_ALLOWED_HOSTS`` (or ``allowed_hosts=``) names more for private
deployments. Hostile servers listen on 127.0.0.x only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from autotask_magic import AutotaskError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials
from autotask_magic.sandbox import Sandbox
from tests._support.servers import Recorder

SECRET = "Zs8kQ2mV7pW4xR9tL3yB6nCd"


@pytest.fixture
def other_host() -> Iterator[Recorder]:
    """Where a hostile zone answer points: an API on another loopback address that records credentials."""
    rec = Recorder(body={"items": []}, host="127.0.0.2")
    yield rec
    rec.stop()


def _creds() -> ApiUserCredentials:
    return ApiUserCredentials("api@example.com", "IntegrationCode123", SECRET)


def _zone(answer: str) -> Recorder:
    return Recorder(body={"url": answer, "zoneName": "Hostile"})


@pytest.mark.parametrize("where", ["other-loopback-host", "unknown-domain"])
def test_zone_answer_elsewhere_is_refused_naming_the_host(other_host: Recorder, where: str) -> None:
    """Another loopback address (which records credentials) or a domain never looked up."""
    answer = other_host.root + "/ATServicesRest/" if where == "other-loopback-host" else "https://evil-zone.test/x/"
    zone = _zone(answer)
    try:
        with AutotaskClient(_creds(), zone_url=zone.root + "/atservicesrest/V1.0/zoneInformation", timeout=5) as c:
            with pytest.raises(AutotaskError) as info:
                c.request("GET", "Companies/0")
    finally:
        zone.stop()
    text = str(info.value)
    host = "127.0.0.2" if where == "other-loopback-host" else "evil-zone.test"
    assert host in text and "not an Autotask host" in text and "AUTOTASK_ALLOWED_HOSTS" in text and "\n" not in text
    assert other_host.requests == [] and other_host.credentials == []


def test_allowed_hosts_lets_a_private_deployment_through(other_host: Recorder) -> None:
    zone = _zone(other_host.root + "/ATServicesRest/")
    env = {
        "AUTOTASK_USERNAME": "api@example.com",
        "AUTOTASK_INTEGRATION_CODE": "IntegrationCode123",
        "AUTOTASK_SECRET": SECRET,
        "AUTOTASK_ZONE_URL": zone.root + "/atservicesrest/V1.0/zoneInformation",
        "AUTOTASK_ALLOWED_HOSTS": " example.org , 127.0.0.2",
    }
    try:
        with AutotaskClient.from_env(env, timeout=5) as c:
            assert c.request("GET", "Companies/0") == {"items": []}
    finally:
        zone.stop()
    assert other_host.requests and ("Secret", SECRET) in other_host.credentials


def test_zone_answer_may_not_downgrade_https_to_http() -> None:
    """Unit: an https zone URL answered with http:// (even to loopback) is refused."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "zone.example.com"  # nothing goes anywhere else
        return httpx.Response(200, json={"url": "http://127.0.0.1:9/ATServicesRest/"})

    with AutotaskClient(
        _creds(),
        zone_url="https://zone.example.com/atservicesrest/V1.0/zoneInformation",
        transport=httpx.MockTransport(handler),
        allowed_hosts=("127.0.0.1",),
    ) as c:
        with pytest.raises(AutotaskError) as info:
            _ = c.base_url
    assert "http://" in str(info.value) and "127.0.0.1" in str(info.value)


def test_autotask_hosts_and_the_zone_host_itself_are_accepted() -> None:
    """Unit: webservicesN.autotask.net and the zone URL's own host (another port) pass."""
    answers = iter(["https://webservices5.autotask.net/ATServicesRest/", "https://zone.example.com:8443/api/"])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"url": next(answers)})

    for expected in (
        "https://webservices5.autotask.net/ATServicesRest/V1.0/",
        "https://zone.example.com:8443/api/V1.0/",
    ):
        with AutotaskClient(
            _creds(),
            zone_url="https://zone.example.com/atservicesrest/V1.0/zoneInformation",
            transport=httpx.MockTransport(handler),
        ) as c:
            assert c.base_url == expected


@pytest.mark.parametrize("tls", [False, True], ids=["http", "tls"])
def test_the_sandbox_zone_answer_is_its_own_host(tls: bool) -> None:
    with Sandbox(tickets=10, seed=3, tls=tls) as sb:
        env = sb.env(mode="api_user")
        if tls:
            env["AUTOTASK_CA_BUNDLE"] = str(Path(sb.ca_path))
        with AutotaskClient.from_env(env, timeout=10) as c:
            assert c.base_url.startswith(sb.root_url)
            assert c.count("Tickets") == 10
