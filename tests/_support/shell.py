"""What the magics' tests need beside their fixtures: the record of what was displayed, and running a cell."""

from __future__ import annotations

from typing import Any

from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.notebook import _magics


class Shown(list):  # type: ignore[type-arg]
    """Everything the magics displayed, in order."""

    def text(self) -> str:
        return "\n".join(str(x) for x in self if isinstance(x, _magics._Text))


def run(ip: InteractiveShell, code: str) -> Any:
    """Run a cell; return the ExecutionResult (``.success``, ``.result``, ``.error_in_exec``)."""
    return ip.run_cell(code, store_history=False)


def interrupt_on_page(monkeypatch: Any, page: int) -> None:
    """Make the next pull raise KeyboardInterrupt (a Ctrl-C) right after its page ``page`` arrived."""
    from autotask_magic.notebook import _display

    original = _display.Progress.update

    def update(self: Any, info: Any) -> None:
        original(self, info)
        if info.pages == page:
            raise KeyboardInterrupt

    monkeypatch.setattr(_display.Progress, "update", update)
