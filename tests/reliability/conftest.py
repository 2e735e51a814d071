"""Reliability and security suite: shared helpers and a session-wide tally printed at the end.

Every test records what it did into ``tally`` (faults injected, requests made, records verified, leaks
found); ``pytest_terminal_summary`` prints the totals so a CI log shows what the suite actually proved.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from autotask_magic import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials, OAuthCredentials
from autotask_magic.client._manager import CredentialManager, ManagerConfig
from autotask_magic.sandbox import Sandbox


class Tally:
    """Counters summed over the whole session (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def absorb(self, sb: Sandbox) -> None:
        """Add a sandbox's server-side counters (call once per sandbox, at the end of its test)."""
        with self._lock:
            for kind, n in sb.stats.faults_injected.items():
                self.faults[kind] += n
            self.counts["api requests"] += sb.stats.api_requests
            self.counts["token requests"] += sb.stats.token_requests
            self.counts["writes"] += len(sb.stats.writes)


_TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Tally:
    """The session-wide collector."""
    return _TALLY


@pytest.fixture
def sbx(tally: Tally, sandbox_factory: Any) -> Iterator[Callable[..., Sandbox]]:
    """``sbx(**Sandbox kwargs)`` -> a started sandbox, tallied at teardown (then stopped by ``sandbox_factory``)."""
    yield sandbox_factory
    for sb in sandbox_factory.made:
        tally.absorb(sb)


def oauth_manager(sb: Sandbox, secret: str | None = None, **kwargs: Any) -> CredentialManager:
    """A credential manager for the sandbox's OAuth client (optionally with a wrong secret)."""
    return CredentialManager(
        OAuthCredentials(sb.client_id, secret if secret is not None else sb.client_secret),
        ManagerConfig(base_url=sb.base_url, token_url=sb.token_url, **kwargs),
    )


def oauth_client(sb: Sandbox, **kwargs: Any) -> AutotaskClient:
    """A client on its own manager (kwargs go to the manager: limits, failure memory...)."""
    return AutotaskClient(manager=oauth_manager(sb, **kwargs))


def api_user_client(sb: Sandbox) -> AutotaskClient:
    """An API-user mode client that discovers its zone from the sandbox."""
    return AutotaskClient(ApiUserCredentials(sb.username, sb.integration_code, sb.secret), zone_url=sb.zone_url)


def settle_threads(before: set[threading.Thread], *, seconds: float = 10.0) -> list[threading.Thread]:
    """Threads started since ``before`` that are still alive after waiting (bounded) for them to end."""
    deadline = time.monotonic() + seconds
    while True:
        extra = [
            t
            for t in threading.enumerate()
            if t not in before
            and t.is_alive()
            and not t.name.startswith("autotask-sandbox")
            and "process_request_thread" not in t.name
        ]
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.05)


def server_limits_held(sb: Sandbox, *, concurrency: int = 3) -> None:
    """The server never saw more than its limits: every 429 it sent was an injected one."""
    injected = sum(n for k, n in sb.stats.faults_injected.items() if "429" in k)
    assert sb.stats.rejected_429 == injected, (sb.stats.rejected_429, sb.stats.faults_injected)
    assert max(sb.stats.max_concurrency.values(), default=0) <= concurrency, sb.stats.max_concurrency


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the reliability figures at the end of the run."""
    t = _TALLY
    if not t.counts and not t.faults:
        return
    tr = terminalreporter
    tr.section("autotask-magic reliability summary")
    faults = sum(t.faults.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(t.faults.items()))
    tr.write_line(f"faults injected:   {faults} ({detail})")
    tr.write_line(
        f"requests made:     {t.counts['api requests']} API + {t.counts['token requests']} token "
        f"(+ {t.counts['writes']} writes applied)"
    )
    tr.write_line(f"records verified:  {t.counts['records verified']} against ground truth")
    tr.write_line(f"bad inputs tried:  {t.counts['bad inputs']}; fuzz cases: {t.counts['fuzz cases']}")
    tr.write_line(
        f"leak scan:         {t.counts['artefacts scanned']} artefacts, "
        f"{t.counts['secrets searched']} secrets/tokens searched, leaks found: {t.counts['leaks found']}"
    )
