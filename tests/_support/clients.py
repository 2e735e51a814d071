"""Client builders against a running sandbox (real HTTP on 127.0.0.1), and a check of the server's limits.

For raw ``httpx.Client`` objects (the sandbox's own tests) see ``sandbox_http``; for a client on an
in-process mock API see ``mock_api.make_client``.
"""

from __future__ import annotations

import time
from typing import Any

from autotask_magic import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials, OAuthCredentials
from autotask_magic.client._manager import CredentialManager, ManagerConfig
from autotask_magic.sandbox import Sandbox


def oauth_manager(
    sb: Sandbox, secret: str | None = None, *, clock: Any = None, transport: Any = None, **config: Any
) -> CredentialManager:
    """A credential manager for the sandbox's OAuth client (optionally with a wrong secret).

    ``config`` goes to :class:`ManagerConfig` (timeout, limits, failure memory...).
    """
    return CredentialManager(
        OAuthCredentials(sb.client_id, secret if secret is not None else sb.client_secret),
        ManagerConfig(base_url=sb.base_url, token_url=sb.token_url, **config),
        clock=clock,
        transport=transport,
    )


def owning(client: AutotaskClient) -> AutotaskClient:
    """``client``, made to close its manager too (one made for it alone).

    Otherwise the manager's token connection is left for the GC to finalize in some later test, where a
    Ctrl-C landing in that finalizer is lost (see test_interrupts).
    """
    client._owns_manager = True
    return client


def oauth_client(
    sb: Sandbox,
    secret: str | None = None,
    *,
    timeout: float = 30.0,
    max_retry_sleep: float | None = None,
    **manager_kw: Any,
) -> AutotaskClient:
    """An OAuth client on its own manager; ``timeout`` applies to both.

    ``max_retry_sleep`` caps each retry back-off sleep (real time) for tests that inject many 5xx answers.
    """
    client = owning(AutotaskClient(manager=oauth_manager(sb, secret, timeout=timeout, **manager_kw), timeout=timeout))
    if max_retry_sleep is not None:
        cap = max_retry_sleep
        client.retry.sleep = lambda s: time.sleep(min(s, cap))
    return client


def api_user_client(sb: Sandbox) -> AutotaskClient:
    """An API-user mode client that discovers its zone from the sandbox."""
    return AutotaskClient(ApiUserCredentials(sb.username, sb.integration_code, sb.secret), zone_url=sb.zone_url)


def server_limits_held(sb: Sandbox, *, concurrency: int = 3) -> None:
    """The server never saw more than its limits: every 429 it sent was an injected one."""
    injected = sum(n for k, n in sb.stats.faults_injected.items() if "429" in k)
    assert sb.stats.rejected_429 == injected, (sb.stats.rejected_429, sb.stats.faults_injected)
    assert max(sb.stats.max_concurrency.values(), default=0) <= concurrency, sb.stats.max_concurrency
