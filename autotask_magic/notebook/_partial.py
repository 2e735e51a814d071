"""``_autotask_partial``: the records a stopped pull fetched, marked with the query and the time they
belong to, so nobody mistakes them for the latest pull (pandas is imported here, on first use).

``df.attrs["autotask"]`` holds ``query`` (the magic's line), ``stopped_at`` (UTC, ISO 8601), ``records``,
``pages`` and ``partial=True``; the repr (text and HTML) starts with one line saying the same, with the age.
"""

from __future__ import annotations

import datetime as _dt
import html
from typing import Any

import pandas as pd

__all__ = ["PartialFrame", "mark_partial"]


class PartialFrame(pd.DataFrame):
    """A DataFrame whose repr says which stopped pull it holds and how old it is; anything derived
    from it (``df[df.status == 5]``, ``df.head()``) is a plain DataFrame."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def banner(self) -> str:
        """One line: partial result of <query>, stopped <age> ago."""
        info = self.attrs.get("autotask") or {}
        query = info.get("query") or info.get("entity") or "a pull"
        when = info.get("stopped_at")
        age = ""
        if when:
            seconds = (_dt.datetime.now(_dt.UTC) - _dt.datetime.fromisoformat(when)).total_seconds()
            age = f", stopped {_age(seconds)} ago ({when[:19].replace('T', ' ')} UTC)"
        return f"partial result of `{query}`: {len(self):,} records{age} — not the latest pull"

    def __repr__(self) -> str:
        return self.banner() + "\n" + super().__repr__()

    def _repr_html_(self) -> str | None:
        body = super()._repr_html_()
        return None if body is None else f"<p><b>{html.escape(self.banner())}</b></p>" + body


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{max(0, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def mark_partial(frame: Any, query: str, pages: int) -> Any:
    """``frame`` as a PartialFrame carrying ``query`` and the time now; raw records stay a list."""
    if not isinstance(frame, pd.DataFrame):
        return frame
    out = PartialFrame(frame)
    info = dict(frame.attrs.get("autotask") or {})
    info.update(
        query=query,
        stopped_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        records=len(frame),
        pages=int(info.get("pages") or pages),
        partial=True,
    )
    out.attrs["autotask"] = info
    return out
