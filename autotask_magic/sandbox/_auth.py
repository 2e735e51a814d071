"""Authentication: the OAuth token endpoint, zone discovery, and checking the credentials of API calls."""

from __future__ import annotations

import base64
from typing import NamedTuple
from urllib.parse import parse_qs

from ._request import Reply, Request, errors, not_allowed
from ._state import retry_after_header

__all__ = ["Caller", "authenticate", "token_endpoint", "zone_information"]


class Caller(NamedTuple):
    """Who is calling: the auth mode, the identity (concurrency is per identity) and the rate-limit key."""

    mode: str
    identity: str
    rate_key: str


def token_endpoint(req: Request) -> Reply:
    """``POST /ATServicesRest/oauth/token``: client credentials (form or Basic) -> a bearer token."""
    sb = req.sandbox
    f = sb.faults
    sb.stats.count_token()
    if req.method != "POST":
        raise errors(405, "The token endpoint accepts POST only.", headers={"Allow": "POST"})
    req.maybe_drop()
    retry = f.take_burst(token=True)
    if retry is not None:
        sb.stats.count_fault("token_429")
        raise Reply(
            429,
            {"error": "rate_limit_exceeded", "error_description": "Too many token requests"},
            {"Retry-After": retry},
        )
    wait = req.shared.windows.hit("token", int(f.token_rate_limit_per_minute), float(f.rate_window_seconds))
    if wait is not None:
        raise Reply(
            429,
            {
                "error": "rate_limit_exceeded",
                "error_description": "Token endpoint limit of "
                f"{f.token_rate_limit_per_minute} requests a minute exceeded",
            },
            {"Retry-After": retry_after_header(wait)},
        )
    req.set_latency()
    if f.token_endpoint_fail_status:
        sb.stats.count_fault("token_fail")
        status = int(f.token_endpoint_fail_status)
        raise Reply(status, {"error": "server_error", "error_description": "Token service unavailable"})
    form = {k: v[-1] for k, v in parse_qs(req.raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    if form.get("grant_type") != "client_credentials":
        raise Reply(
            400, {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}
        )
    cid, secret = form.get("client_id"), form.get("client_secret")
    if cid is None and (auth := req.headers.get("Authorization", "")).lower().startswith("basic "):
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            cid = None
    if cid != sb.client_id or secret != sb.client_secret:
        raise Reply(400, {"error": "invalid_client", "error_description": "Invalid client credentials"})
    ttl = float(sb.token_ttl)
    token = sb.issue_token(ttl)
    return Reply(
        200,
        {"access_token": token, "token_type": "Bearer", "expires_in": int(ttl) if ttl.is_integer() else ttl},
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def zone_information(req: Request) -> Reply:
    """``GET …/zoneInformation?user=``: API-user mode discovery; answers with this server's own URL."""
    sb = req.sandbox
    sb.stats.count_zone()
    req.maybe_drop()
    req.set_latency()
    user = (parse_qs(req.query).get("user") or [""])[-1]
    if req.method != "GET":
        raise not_allowed(req.method)
    if user.lower() != sb.username.lower():
        raise errors(500, "Zone information could not be determined")
    return Reply(
        200,
        {
            "zoneName": "Sandbox (127.0.0.1)",
            "url": sb.root_url + "/ATServicesRest/",
            "webUrl": sb.root_url + "/",
            "ci": 0,
        },
    )


def authenticate(req: Request) -> Caller:
    """The caller of an API request (bearer token or API-user headers), or a 401/500 Reply."""
    sb = req.sandbox
    auth = req.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
        problem = "The access token is invalid" if sb.faults.reject_all_tokens else sb.check_token(token)
        if sb.faults.reject_all_tokens:
            sb.stats.count_fault("reject_token")
        if problem:
            raise Reply(
                401,
                {"error": "invalid_token", "error_description": problem},
                {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{problem}"'},
            )
        return Caller("oauth", "oauth:" + sb.client_id, "token:" + token)
    if req.headers.get("UserName") is not None or req.headers.get("ApiIntegrationCode") is not None:
        _check_api_user(req)
        return Caller("api_user", "user:" + sb.username.lower(), "user:" + sb.username.lower())
    raise Reply(
        401,
        {"error": "invalid_request", "error_description": "No credentials were sent"},
        {"WWW-Authenticate": "Bearer"},
    )


def _check_api_user(req: Request) -> None:
    sb = req.sandbox
    user = req.headers.get("UserName")
    ok = user is not None and user.lower() == sb.username.lower() and req.headers.get("Secret") == sb.secret
    if sb.faults.reject_all_tokens:
        sb.stats.count_fault("reject_token")
        ok = False
    if not ok:
        raise errors(401, "Authentication failed: check UserName and Secret.")
    # The real API answers a wrong tracking identifier with HTTP 500, not 401 (clients test this text).
    if req.headers.get("ApiIntegrationCode") != sb.integration_code:
        raise errors(500, "IntegrationCode is invalid.")
    imp = req.headers.get("ImpersonationResourceId")
    if imp:
        try:
            rid = int(imp)
        except ValueError:
            rid = -1
        if rid not in sb.store["Resources"] or not sb.store["Resources"][rid].get("isActive"):
            raise errors(500, f"Impersonation resource {imp} does not exist or is inactive.")
