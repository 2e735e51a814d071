"""Fixtures for the security tests: a real sandbox and a transport that records what goes on the wire."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from autotask_magic.sandbox import Sandbox


class RecordingTransport(httpx.BaseTransport):
    """A real HTTP transport that also records every request it sends (URL and headers)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(tickets=1200, seed=7) as box:
        yield box


@pytest.fixture
def recorder() -> Iterator[RecordingTransport]:
    t = RecordingTransport()
    yield t
    t.close()
