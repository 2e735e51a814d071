"""A single record (``GET /Companies/0``) shown as a field/value card.

The result is still a one-row DataFrame (``df.loc[0, "companyName"]``, ``-o``, ``pd.concat`` work as
for any pull): :class:`RecordFrame` only changes how that one row is drawn. Field names down the
left, values beside them, missing values blank (not NaN, ``<NA>`` and NaT), no row number and no
``0`` header. Any operation on it returns a plain DataFrame, which pandas draws as usual.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

__all__ = ["RecordFrame", "card_rows"]


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
        rows = "".join(
            f"<tr><th{left}>{html.escape(k)}</th><td{left}>{html.escape(v)}</td></tr>" for k, v in card_rows(self)
        )
        return f'<table class="dataframe autotask-card"><tbody>{rows}</tbody></table>'

    def __repr__(self) -> str:
        if len(self) != 1:
            return repr(pd.DataFrame(self))
        pairs = card_rows(self)
        width = max((len(k) for k, _ in pairs), default=0)
        return "\n".join(f"{k.ljust(width)}  {v}".rstrip() for k, v in pairs)
