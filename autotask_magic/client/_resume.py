"""Resume state of stopped pulls, kept per query on the client.

A pull stopped by Ctrl-C or ``IncompletePullError`` leaves a :class:`ResumeState`: the filter as it was
sent (relative dates keep the values resolved at the first attempt), the frame of every record fetched,
and where to go on. ``query(..., resume=True)`` of the **same** query (same entity, condition as typed,
fields, limit, labels and zone) sends the filter AND ``id > last`` and returns the whole frame. Records
arrive in id order, so ``id > last`` continues a sequential pull exactly; a parallel pull's partitions
are not contiguous, so it continues after its first page and drops the ids it already has.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["ResumeState", "ResumeStore", "query_key"]


def query_key(entity: str, condition: Any, fields: Any, limit: int | None, labels: bool, tz: str) -> str:
    """The identity of a query as typed (what must not change between a stopped pull and its resume)."""
    return json.dumps([entity.lower(), condition, fields, limit, labels, tz], default=str, sort_keys=True)


@dataclass
class ResumeState:
    """A stopped pull: the filter sent, every record fetched (as a frame), pages and requests used."""

    entity: str
    filter: list[dict[str, Any]] | None
    frame: pandas.DataFrame
    pages: int
    requests: int
    parallel: bool
    page_size: int
    started_at: _dt.datetime | None = None  #: when the first attempt began (a refresh's mark)

    def last_id(self) -> int | None:
        """The id to continue after (None: nothing with an id was fetched)."""
        if "id" not in self.frame.columns or self.frame.empty:
            return None
        ids = self.frame["id"].dropna()
        if ids.empty:
            return None
        if not self.parallel:
            return int(ids.iloc[-1])
        # A parallel pull's partitions are not contiguous; only its first page surely is (its records lead).
        return int(ids.iloc[min(len(ids), self.page_size) - 1])

    def continued_filter(self) -> list[dict[str, Any]] | None:
        """The filter of the rest: the first attempt's filter AND ``id > last``."""
        last = self.last_id()
        if last is None:
            return self.filter
        return [*(self.filter or []), {"op": "gt", "field": "id", "value": last}]


class ResumeStore:
    """Stopped pulls by :func:`query_key`; the newest one per query."""

    def __init__(self) -> None:
        self._states: dict[str, ResumeState] = {}
        self._lock = threading.Lock()

    def save(self, key: str, state: ResumeState) -> None:
        with self._lock:
            self._states[key] = state

    def take(self, key: str) -> ResumeState:
        """The state of this query (removed: a resume that stops again saves a new one); refuses otherwise."""
        with self._lock:
            state = self._states.pop(key, None)
            others = len(self._states)
        if state is None:
            hint = (
                "the query differs from the stopped one (entity, condition, fields, limit, labels and zone must match)"
                if others
                else "resume continues a pull stopped by Ctrl-C or IncompletePullError; run the query without it"
            )
            raise ConfigurationError("no stopped pull of this query to resume", hint=hint)
        return state

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)


def store_of(client: Any) -> ResumeStore:
    """The client's resume store (created on first use)."""
    store = client.__dict__.get("_resume_store")
    if store is None:
        store = client.__dict__.setdefault("_resume_store", ResumeStore())
    return store
