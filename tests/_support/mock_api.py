"""A scriptable in-process Autotask on ``httpx.MockTransport`` and a client wired to it (pure units only)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import OAuthCredentials
from autotask_magic.client._manager import CredentialManager, ManagerConfig
from tests._support.clock import FakeClock

ROOT = "http://127.0.0.1:9"
BASE = ROOT + "/ATServicesRest/V1.0/"
TOKEN = ROOT + "/ATServicesRest/oauth/token"
CLIENT_SECRET = "unit-client-secret-0xDEADBEEF"


class MockApi:
    """A tiny scriptable Autotask: records every request; ``token_handler``/``api_handler`` overridable."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.token_requests = 0
        self.tokens: list[str] = []
        self.valid: set[str] = set()
        self.lifetime = 3600
        self.lock = threading.Lock()
        self.on_token: Callable[[], None] | None = None
        self.token_response: Callable[[httpx.Request], httpx.Response] | None = None
        self.api_response: Callable[[httpx.Request], httpx.Response | None] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        if request.url.path.endswith("/oauth/token"):
            with self.lock:
                self.token_requests += 1
            if self.on_token:
                self.on_token()
            if self.token_response:
                return self.token_response(request)
            with self.lock:
                tok = f"tok-{len(self.tokens):04d}-abcdefghijkl"
                self.tokens.append(tok)
                self.valid.add(tok)
            return httpx.Response(200, json={"access_token": tok, "token_type": "Bearer", "expires_in": self.lifetime})
        if self.api_response:
            r = self.api_response(request)
            if r is not None:
                return r
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(
                401, json={"error": "invalid_token", "error_description": "The access token has expired"}
            )
        return httpx.Response(200, json={"item": {"id": 0}})

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if not r.url.path.endswith("/oauth/token")]


def make_client(api: MockApi, clock: FakeClock | None = None, **manager_kw: Any) -> AutotaskClient:
    """An OAuth client on ``api`` (kwargs go to the manager); retries do not sleep."""
    transport = httpx.MockTransport(api)
    manager = CredentialManager(
        OAuthCredentials("unit-client-id-123456", CLIENT_SECRET),
        ManagerConfig(base_url=BASE, token_url=TOKEN, **manager_kw),
        clock=clock,
        transport=transport,
    )
    client = AutotaskClient(manager=manager, transport=transport)
    client.retry.sleep = lambda s: None
    return client
