"""Showing results: plain text for ``display``, the summary line, and ``-o NAME`` (store, then show)."""

from __future__ import annotations

import builtins
from collections.abc import Callable, MutableMapping
from typing import Any

from . import _display

__all__ = ["Text", "store_and_show", "summary_text"]


class Text:
    """Plain text for ``display``: shows as text in every front end, never as a repr with quotes."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return str(other) == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text)


def summary_text(name: str, result: Any, pages: int, elapsed: float) -> str:
    """One line: a DataFrame's shape summary, or the number of raw records, pages and seconds."""
    if hasattr(result, "shape"):
        return _display.frame_summary(name, result)
    n = len(result) if hasattr(result, "__len__") else 0
    return f"{name}: {n:,} records, {pages} pages, {elapsed:.2f} s"


def store_and_show(
    ns: MutableMapping[str, Any],
    name: str,
    result: Any,
    *,
    say: Callable[[str], None],
    display: Callable[[Any], None],
    rows: int,
    noun: str = "records",
) -> None:
    """``-o NAME``: put ``result`` in the namespace as ``name`` and show what it holds, not the value.

    A DataFrame gets its summary line and its first ``rows`` rows; a count ``<name>: N <noun>``; a list
    or dict the number of records.
    """
    ns[name] = result
    if hasattr(builtins, name):
        say(f"note: -o {name} hides Python's builtin {name} in this notebook (del {name} brings it back)")
    if hasattr(result, "shape"):
        say(_display.frame_summary(name, result))
        if rows > 0 and len(result):
            display(result if getattr(result, "_autotask_card", False) else result.head(rows))
    elif isinstance(result, int) and not isinstance(result, bool):
        say(f"{name}: {result:,} {noun}")
    else:
        n = len(result) if hasattr(result, "__len__") else 1
        say(f"{name}: {n:,} records")
