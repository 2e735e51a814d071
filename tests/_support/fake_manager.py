"""A small fake CredentialManager implementing the status contract the widget reads.

The widget is a pure view over ``ManagerStatus`` events, so its unit tests drive it with this fake; the
headless notebook and browser tests use the real manager against the sandbox.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from autotask_magic.client._manager import ManagerStatus, TokenState
from tests._support.clock import FakeClock

CLIENT_ID = "fakeclientid-0123456789-abcdef-SECRETPART-zz9"
CLIENT_SECRET = "s3cr3t-client-secret-never-shown"
TOKEN = "tok-abcdefghijklmnopqrstuvwxyz-0123456789"


class FakeManager:
    """Contract-shaped manager: status/subscribe/refresh/logout/clock, with knobs for the tests."""

    def __init__(self, clock: FakeClock, *, mode: str = "oauth", ttl: float = 3600.0) -> None:
        self.clock = clock
        self.ttl = ttl
        self.client_id = CLIENT_ID
        self.secret = CLIENT_SECRET
        self.token: str | None = TOKEN
        self.calls: list[str] = []
        self.fail_refresh: Exception | None = None
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[Any], None]] = []
        self._status = ManagerStatus(
            mode=mode,
            label="sandbox",
            identity=f"{CLIENT_ID[:4]}…{CLIENT_ID[-4:]}",
            api_host="127.0.0.1:5555",
            zone=None if mode == "oauth" else "Sandbox Zone",
            state=TokenState.VALID,
            expires_at=clock.now() + timedelta(seconds=ttl) if mode == "oauth" else None,
            refresh_margin=60.0,
            refresh_count=0,
            last_refresh_at=None,
            requests_last_minute=0,
            requests_per_minute_limit=600,
            hourly_requests=None if mode == "oauth" else 0,
            hourly_threshold=None if mode == "oauth" else 10000,
            last_error=None,
        )

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def status(self) -> Any:
        with self._lock:
            return self._status

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def set(self, **changes: Any) -> None:
        """Change the status and notify, like the real manager after a request/refresh/error."""
        with self._lock:
            self._status = dataclasses.replace(self._status, **changes)
            status = self._status
        for callback in list(self._subscribers):
            callback(status)

    def refresh(self) -> None:
        self.calls.append("refresh")
        if self.fail_refresh is not None:
            self.set(state=TokenState.ERROR, last_error=str(self.fail_refresh))
            raise self.fail_refresh
        self.set(state=TokenState.REFRESHING)
        self.token = TOKEN + "-next"
        self.set(
            state=TokenState.VALID,
            expires_at=self.clock.now() + timedelta(seconds=self.ttl),
            refresh_count=self._status.refresh_count + 1,
            last_refresh_at=self.clock.now(),
            last_error=None,
        )

    def logout(self) -> None:
        self.calls.append("logout")
        self.token = None
        self.set(state=TokenState.LOGGED_OUT, expires_at=None)
