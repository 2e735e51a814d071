"""Fixtures for the security tests: a real sandbox and a transport that records what goes on the wire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autotask_magic.sandbox import Sandbox
from tests._support.transports import RecordingTransport


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(tickets=1200, seed=7) as box:
        yield box


@pytest.fixture
def recorder() -> Iterator[RecordingTransport]:
    t = RecordingTransport()
    yield t
    t.close()
