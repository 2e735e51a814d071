"""Credentials never leave the configured origins: absolute URLs, nextPageUrl, redirects, plain http, TLS."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from autotask_magic import AutotaskClient
from autotask_magic._exceptions import AutotaskError, ConfigurationError, IncompletePullError, TransportError
from autotask_magic.client._credentials import ApiUserCredentials, OAuthCredentials
from autotask_magic.sandbox import Sandbox
from tests._support.clients import api_user_client, oauth_client
from tests._support.servers import Recorder


@pytest.fixture
def recorder() -> Any:
    rec = Recorder()
    yield rec
    rec.stop()


def _elsewhere(sb: Sandbox, rec: Recorder) -> list[str]:
    """Roots that differ from the sandbox's in port, host or scheme (all on this machine)."""
    return [rec.root, f"http://localhost:{sb.port}", f"https://127.0.0.1:{sb.port}", f"http://127.0.0.2:{rec.port}"]


@pytest.mark.parametrize("mode", ["oauth", "api_user"])
def test_absolute_urls_next_pages_and_redirects_never_carry_credentials(
    sbx: Any, recorder: Recorder, mode: str
) -> None:
    sb: Sandbox = sbx(tickets=1200)
    client = oauth_client(sb) if mode == "oauth" else api_user_client(sb)
    with client:
        assert client.count("Tickets") == 1200
        for root in _elsewhere(sb, recorder):
            # An absolute URL elsewhere.
            for method in ("GET", "POST", "PATCH", "DELETE"):
                with pytest.raises(ConfigurationError):
                    client.request(
                        method,
                        root + "/ATServicesRest/V1.0/Companies/0",
                        json={"id": 1} if method in ("POST", "PATCH") else None,
                    )
            # A nextPageUrl elsewhere: the first page is kept, nothing is sent there.
            sb.faults.next_page_url_override = root
            with pytest.raises(IncompletePullError) as info:
                list(client.records("Tickets"))
            assert len(info.value.records) == 500 and "refused nextPageUrl" in str(info.value)
            with pytest.raises(IncompletePullError):
                list(client.records("Tickets", parallel=True))
            sb.faults.next_page_url_override = None
            # A redirect elsewhere is not followed.
            sb.faults.redirect_to = root + "/ATServicesRest/V1.0/Companies/0"
            with pytest.raises(AutotaskError) as err:
                client.request("GET", "Companies/0")
            assert "redirect" in str(err.value)
            with pytest.raises(AutotaskError):
                client.count("Tickets")
            sb.faults.redirect_to = None
        assert client.count("Tickets") == 1200
    assert recorder.requests == [] and recorder.credentials == []


def test_plain_http_to_non_loopback_refused_before_any_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []
    import socket

    real = socket.create_connection

    def spy(address: Any, *a: Any, **k: Any) -> Any:
        attempts.append(address)
        return real(address, *a, **k)

    monkeypatch.setattr(socket, "create_connection", spy)
    creds = OAuthCredentials("plain-http-client", "plain-http-secret")
    for base, token in [
        ("http://10.0.0.1/ATServicesRest/V1.0/", "https://example.invalid/ATServicesRest/oauth/token"),
        ("https://example.invalid/ATServicesRest/V1.0/", "http://192.168.1.1/ATServicesRest/oauth/token"),
        ("http://example.com/ATServicesRest/V1.0/", "http://example.com/ATServicesRest/oauth/token"),
        ("http://[::ffff:10.0.0.1]/ATServicesRest/V1.0/", "https://example.invalid/oauth/token"),
    ]:
        with pytest.raises(ConfigurationError) as info:
            AutotaskClient(creds, base_url=base, token_url=token)
        assert "http://" in str(info.value) or "https" in str(info.value)
    api = ApiUserCredentials("user@example.com", "CODE", "api-user-secret")
    with pytest.raises(ConfigurationError):
        AutotaskClient(api, zone_url="http://webservices.example.com/atservicesrest/V1.0/zoneInformation")
    assert attempts == []


@pytest.fixture(scope="module")
def ca() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


def _tls_sandbox(sbx: Any, ca: Any, host: str = "127.0.0.1") -> Sandbox:
    cert = ca.issue_cert(host)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return sbx(tickets=50, ssl_context=ctx)


@pytest.mark.parametrize("mode", ["oauth", "api_user"])
def test_unknown_ca_refused_unless_configured(sbx: Any, ca: Any, tmp_path: Any, mode: str) -> None:
    sb = _tls_sandbox(sbx, ca)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))

    def make(ca_bundle: str | None) -> AutotaskClient:
        if mode == "oauth":
            return AutotaskClient(
                OAuthCredentials(sb.client_id, sb.client_secret),
                base_url=sb.base_url,
                token_url=sb.token_url,
                ca_bundle=ca_bundle,
            )
        return AutotaskClient(
            ApiUserCredentials(sb.username, sb.integration_code, sb.secret), zone_url=sb.zone_url, ca_bundle=ca_bundle
        )

    with make(None) as client:
        with pytest.raises(TransportError) as info:
            client.count("Tickets")
        assert "AUTOTASK_CA_BUNDLE" in str(info.value)
    # Nothing got past the handshake: no token issued, no API or zone request served.
    assert sb.stats.token_requests == 0 and sb.stats.api_requests == 0 and sb.stats.zone_requests == 0
    with make(str(bundle)) as client:
        assert client.count("Tickets") == 50


def test_configured_ca_does_not_excuse_a_wrong_host_name(sbx: Any, ca: Any, tmp_path: Any) -> None:
    sb = _tls_sandbox(sbx, ca, host="api.example.test")  # valid chain, wrong name for 127.0.0.1
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with AutotaskClient(
        OAuthCredentials(sb.client_id, sb.client_secret),
        base_url=sb.base_url,
        token_url=sb.token_url,
        ca_bundle=str(bundle),
    ) as client:
        with pytest.raises(TransportError):
            client.count("Tickets")
    assert sb.stats.token_requests == 0
    # And a plain-http client cannot be pointed at the TLS port to dodge verification.
    with pytest.raises((TransportError, AutotaskError, httpx.HTTPError)):
        with AutotaskClient(
            OAuthCredentials(sb.client_id, sb.client_secret),
            base_url=sb.base_url.replace("https", "http"),
            token_url=sb.token_url.replace("https", "http"),
        ) as client:
            client.count("Tickets")
    assert sb.stats.token_requests == 0
