"""Fixtures for the security tests: a real sandbox and a transport that records what goes on the wire."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.sandbox import Sandbox
from tests._support.servers import Scripted
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


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[Any], None]], Scripted]]:
    """Start hostile :class:`Scripted` servers on 127.0.0.1; all are stopped at the end of the test."""
    started: list[Scripted] = []

    def start(script: Callable[[Any], None]) -> Scripted:
        started.append(Scripted(script))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def magic_shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, Any, list[Any]]]:
    """The IPython singleton with the extension loaded and no ``AUTOTASK_*`` variable: (shell, magic, shown)."""
    for name in list(os.environ):
        if name.startswith("AUTOTASK_"):
            monkeypatch.delenv(name)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "autotask_magic")
    from autotask_magic.notebook import _magics

    magic = _magics.get_magic(ip)
    assert magic is not None
    shown: list[Any] = []
    magic._display = shown.append
    magic.progress = "none"
    try:
        yield ip, magic, shown
    finally:
        ip.InteractiveTB.set_mode("Context")
        ip.run_line_magic("unload_ext", "autotask_magic")
