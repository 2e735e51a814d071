"""A single record (``GET /Companies/0``) shown as a field/value card.

The result is still a one-row DataFrame (``df.loc[0, "companyName"]``, ``-o``, ``pd.concat`` work as
for any pull): :class:`RecordFrame` only changes how that one row is drawn. Field names down the
left, values beside them, no row number and no ``0`` header. Fields without a value (most of a
ticket's 73 published fields) are not drawn as blank rows: they are named together, once, below the
filled ones (folded in a ``<details>`` in HTML). Any operation on it returns a plain DataFrame, which
pandas draws as usual.
"""

from __future__ import annotations

import html
import textwrap
from typing import Any

import pandas as pd

__all__ = ["RecordFrame", "card_rows", "split_empty"]


def _shown(value: Any) -> str:
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # lists and arrays: not a missing scalar
        pass
    return str(value)


def card_rows(df: pd.DataFrame) -> list[tuple[str, str]]:
    """(field, value text) for the first row, missing values as empty text."""
    if not len(df):
        return []
    row = df.iloc[0]
    return [(str(name), _shown(row[name])) for name in df.columns]


def split_empty(pairs: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """The pairs with a value, and the names of those without one (both in column order)."""
    return [(k, v) for k, v in pairs if v != ""], [k for k, v in pairs if v == ""]


def _empty_note(empty: list[str]) -> str:
    return f"{len(empty)} empty field" + ("" if len(empty) == 1 else "s")


class RecordFrame(pd.DataFrame):
    """A one-row DataFrame that draws itself as a field/value card."""

    _autotask_card = True  # -o shows the card itself, not head() (which is a plain frame)

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame  # derived frames (head, filters, copies) are plain and draw as tables

    def _repr_html_(self) -> str:
        if len(self) != 1:
            return str(pd.DataFrame(self)._repr_html_())
        left = ' style="text-align:left"'
        filled, empty = split_empty(card_rows(self))
        rows = "".join(f"<tr><th{left}>{html.escape(k)}</th><td{left}>{html.escape(v)}</td></tr>" for k, v in filled)
        if empty:
            names = html.escape(", ".join(empty))
            rows += (
                f'<tr><td colspan="2"{left}><details class="autotask-card-empty">'
                f"<summary>{_empty_note(empty)}</summary>{names}</details></td></tr>"
            )
        return f'<table class="dataframe autotask-card"><tbody>{rows}</tbody></table>'

    def __repr__(self) -> str:
        if len(self) != 1:
            return repr(pd.DataFrame(self))
        filled, empty = split_empty(card_rows(self))
        width = max((len(k) for k, _ in filled), default=0)
        lines = [f"{k.ljust(width)}  {v}".rstrip() for k, v in filled]
        if empty:
            lines += textwrap.wrap(f"({_empty_note(empty)}: {', '.join(empty)})", 100, subsequent_indent=" ")
        return "\n".join(lines)
