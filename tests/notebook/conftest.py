"""Fixtures for the magics: a real IPython ``InteractiveShell`` with the extension loaded.

``InteractiveShell.instance()`` is a process-wide singleton; every test gets it freshly reset: the
extension unloaded and loaded again, the user namespace cleared of what the test made, ``%xmode``
back to its default. ``shown`` records what the magics displayed (the injected ``display``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.notebook import _magics


class Shown(list):  # type: ignore[type-arg]
    """Everything the magics displayed, in order."""

    def text(self) -> str:
        return "\n".join(str(x) for x in self if isinstance(x, _magics._Text))


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


def run(ip: InteractiveShell, code: str) -> Any:
    """Run a cell; return the ExecutionResult (``.success``, ``.result``, ``.error_in_exec``)."""
    return ip.run_cell(code, store_history=False)
