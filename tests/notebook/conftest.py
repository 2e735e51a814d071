"""Fixtures for the notebook layer: a real IPython shell with the extension loaded, and the widget's fakes.

``InteractiveShell.instance()`` is a process-wide singleton; every test gets it freshly reset: the
extension unloaded and loaded again, the user namespace cleared of what the test made, ``%xmode``
back to its default. ``shown`` records what the magics displayed (the injected ``display``).
The widget's unit tests get a fake clock and a fake manager; ``panel_factory`` closes every panel it made.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.notebook import _magics
from tests._support.clock import FakeClock
from tests._support.fake_manager import FakeManager
from tests._support.shell import Shown


@pytest.fixture(scope="session")
def _shell() -> InteractiveShell:
    ip = InteractiveShell.instance()
    # No history database or colour codes: tests compare plain text.
    ip.history_manager.enabled = False
    ip.colors = "nocolor"
    return ip


@pytest.fixture
def ip(_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """The shell with ``%load_ext autotask_magic`` done and no AUTOTASK_* variables set."""
    for name in list(os.environ):
        if name.startswith("AUTOTASK_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    before = set(_shell.user_ns)
    _shell.run_line_magic("load_ext", "autotask_magic")
    try:
        yield _shell
    finally:
        _shell.run_line_magic("unload_ext", "autotask_magic")
        for name in set(_shell.user_ns) - before:
            _shell.user_ns.pop(name, None)
        _shell.user_ns.pop(_magics.PARTIAL_NAME, None)
        _shell.InteractiveTB.set_mode("Context")
        _shell.config.pop("AutotaskMagic", None)


@pytest.fixture
def magic(ip: InteractiveShell) -> _magics.AutotaskMagic:
    m = _magics.get_magic(ip)
    assert m is not None
    m.progress = "text"
    m._display = Shown().append  # dropped unless a test asks for ``shown``
    return m


@pytest.fixture
def shown(magic: _magics.AutotaskMagic) -> Shown:
    out = Shown()
    magic._display = out.append
    return out


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def manager(clock: FakeClock) -> FakeManager:
    return FakeManager(clock)


@pytest.fixture
def panel_factory() -> Iterator[Callable[..., Any]]:
    """Build panels that are always closed at the end (their ticker threads stop)."""
    from autotask_magic.notebook._widget import StatusPanel

    made: list[StatusPanel] = []

    def make(manager: Any, **kwargs: Any) -> StatusPanel:
        panel = StatusPanel(manager, **kwargs)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()
