"""Both auth modes: OAuth client credentials (spec) and API-user headers with zone discovery (real tenants)."""

from __future__ import annotations

import time

import httpx
import pytest

from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import ALL, get_token


def test_token_endpoint_issues_bearer_tokens(sandbox: Sandbox) -> None:
    r = httpx.post(
        sandbox.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
    )
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert sandbox.issued_tokens == [body["access_token"]]
    assert sandbox.stats.token_requests == 1
    r = httpx.get(sandbox.base_url + "Tickets/10001", headers={"Authorization": "Bearer " + body["access_token"]})
    assert r.status_code == 200 and r.json()["item"]["id"] == 10001


def test_bad_client_is_400(sandbox: Sandbox) -> None:
    for data in (
        {"grant_type": "client_credentials", "client_id": sandbox.client_id, "client_secret": "x"},
        {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": sandbox.client_secret},
    ):
        r = httpx.post(sandbox.token_url, data=data)
        assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    r = httpx.post(
        sandbox.token_url,
        data={"grant_type": "password", "client_id": sandbox.client_id, "client_secret": sandbox.client_secret},
    )
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    assert sandbox.issued_tokens == []


def test_tokens_really_expire(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(token_ttl=0.5, tickets=50)
    token = get_token(sb)
    h = {"Authorization": "Bearer " + token}
    assert httpx.get(sb.base_url + "Tickets/10001", headers=h).status_code == 200
    for _ in range(50):  # bounded wait for the TTL to pass
        time.sleep(0.1)
        r = httpx.get(sb.base_url + "Tickets/10001", headers=h)
        if r.status_code == 401:
            break
    assert r.status_code == 401 and r.json() == {
        "error": "invalid_token",
        "error_description": "The access token has expired",
    }


def test_revoke_and_expire(sandbox: Sandbox) -> None:
    h = {"Authorization": "Bearer " + get_token(sandbox)}
    sandbox.expire_tokens()
    r = httpx.get(sandbox.base_url + "Tickets/10001", headers=h)
    assert r.status_code == 401 and "expired" in r.json()["error_description"]
    h = {"Authorization": "Bearer " + get_token(sandbox)}
    assert httpx.get(sandbox.base_url + "Tickets/10001", headers=h).status_code == 200
    sandbox.revoke_tokens()
    r = httpx.get(sandbox.base_url + "Tickets/10001", headers=h)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert httpx.get(sandbox.base_url + "Tickets/10001", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert httpx.get(sandbox.base_url + "Tickets/10001").status_code == 401


def test_zone_discovery_points_back_here(sandbox: Sandbox) -> None:
    r = httpx.get(sandbox.zone_url, params={"user": sandbox.username})
    assert r.status_code == 200
    url = r.json()["url"]
    assert url == sandbox.root_url + "/ATServicesRest/"
    r = httpx.post(url + "V1.0/Companies/query", json={"filter": ALL}, headers=sandbox.api_user_headers())
    assert r.status_code == 200 and r.json()["items"]
    bad = httpx.get(sandbox.zone_url, params={"user": "nobody@example.com"})
    assert bad.status_code == 500 and bad.json() == {"errors": ["Zone information could not be determined"]}


def test_api_user_headers(sandbox: Sandbox) -> None:
    good = sandbox.api_user_headers()
    assert httpx.get(sandbox.base_url + "Tickets/10001", headers=good).status_code == 200
    lower = {k.lower(): v for k, v in good.items()}  # header names are case-insensitive
    assert httpx.get(sandbox.base_url + "Tickets/10001", headers=lower).status_code == 200
    for k in ("UserName", "Secret"):
        r = httpx.get(sandbox.base_url + "Tickets/10001", headers={**good, k: "wrong"})
        assert r.status_code == 401 and r.json()["errors"]
    # A wrong integration code is HTTP 500 with this exact text on the real API (issue 13, point 3).
    r = httpx.get(sandbox.base_url + "Tickets/10001", headers={**good, "ApiIntegrationCode": "wrong"})
    assert r.status_code == 500 and r.json() == {"errors": ["IntegrationCode is invalid."]}
    imp = {**good, "ImpersonationResourceId": str(sandbox.store["Resources"].ids[0])}
    assert httpx.get(sandbox.base_url + "Tickets/10001", headers=imp).status_code == 200
    r = httpx.get(sandbox.base_url + "Tickets/10001", headers={**good, "ImpersonationResourceId": "1"})
    assert r.status_code == 500 and r.json()["errors"]


def test_env_has_the_contract_variables(sandbox: Sandbox) -> None:
    assert set(sandbox.env("oauth")) == {
        "AUTOTASK_CLIENT_ID",
        "AUTOTASK_CLIENT_SECRET",
        "AUTOTASK_TOKEN_URL",
        "AUTOTASK_BASE_URL",
    }
    assert set(sandbox.env("api_user")) == {
        "AUTOTASK_USERNAME",
        "AUTOTASK_INTEGRATION_CODE",
        "AUTOTASK_SECRET",
        "AUTOTASK_ZONE_URL",
    }
    assert sandbox.env("oauth")["AUTOTASK_BASE_URL"] == sandbox.base_url


def test_https_with_ssl_context(sandbox_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import ssl

    import trustme

    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    sb = sandbox_factory(ssl_context=ctx, tickets=50)
    assert sb.base_url.startswith("https://127.0.0.1:")
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    r = httpx.get(sb.zone_url, params={"user": sb.username}, verify=ssl.create_default_context(cafile=str(bundle)))
    assert r.status_code == 200 and r.json()["url"].startswith("https://")
    with pytest.raises(httpx.ConnectError):
        httpx.get(sb.zone_url, params={"user": sb.username})  # untrusted by default
