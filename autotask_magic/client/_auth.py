"""The two ``httpx.Auth`` flows: OAuth bearer tokens and API-user headers, both backed by a credential manager."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import httpx

from .. import _redact
from ._credentials import ApiUserCredentials

if TYPE_CHECKING:  # pragma: no cover
    from ._manager import CredentialManager

__all__ = ["ApiUserFlow", "OAuthFlow"]

log = _redact.get_logger("autotask_magic.auth")


class OAuthFlow(httpx.Auth):
    """Bearer token on every request; one refresh and one replay on a 401."""

    requires_request_body = True  # keep the body so a replay sends it intact

    def __init__(self, manager: CredentialManager) -> None:
        self._manager = manager

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        m = self._manager
        m.check_api_origin(request.url)
        tok = m.access_token()
        request.headers["Authorization"] = "Bearer " + tok.secret.reveal()
        response = yield request
        if response.status_code != 401:
            if response.status_code < 400:
                m.token_accepted(tok)
            return
        if not m.token_rejected(tok, response, replay=False):
            return
        log.debug("401: refreshing the token once and replaying %s %s", request.method, request.url.path)
        tok = m.access_token()
        request.headers["Authorization"] = "Bearer " + tok.secret.reveal()
        response = yield request
        if response.status_code == 401:
            m.token_rejected(tok, response, replay=True)
        elif response.status_code < 400:
            m.token_accepted(tok)


class ApiUserFlow(httpx.Auth):
    """``ApiIntegrationCode`` / ``UserName`` / ``Secret`` (+ ``ImpersonationResourceId``) headers."""

    def __init__(self, manager: CredentialManager) -> None:
        self._manager = manager

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        m = self._manager
        m.check_api_origin(request.url)
        creds = m.require_credentials()
        assert isinstance(creds, ApiUserCredentials)
        request.headers["ApiIntegrationCode"] = creds.integration_code.reveal()
        request.headers["UserName"] = creds.username
        request.headers["Secret"] = creds.secret.reveal()
        if creds.impersonation_resource_id:
            request.headers["ImpersonationResourceId"] = creds.impersonation_resource_id
        response = yield request
        if response.status_code >= 400:
            # api_user_answered quotes the server's words; the body of a streamed error is not loaded yet.
            response.read()
        m.api_user_answered(response)
