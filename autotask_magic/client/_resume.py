"""Resume state of stopped pulls, kept per query on the client.

A pull stopped by Ctrl-C or ``IncompletePullError`` leaves a :class:`ResumeState`: the filter as it was
sent (relative dates keep the values resolved at the first attempt), the frame of every record fetched,
and where to go on. ``query(..., resume=True)`` of the **same** query (same entity, condition as typed,
fields, limit, labels and zone) sends the filter AND ``id > last`` and returns the whole frame. Records
arrive in id order, so ``id > last`` continues a sequential pull, or a parallel pull stopped by Ctrl-C
(it hands records over in id order) exactly. A parallel pull that failed holds pages of every partition:
each partition goes on from its own last id (``(id > last_1 and id < hi_1) or …``).
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
    started_at: _dt.datetime | None = None  #: when the first attempt began (a refresh's mark)
    ranges: list[tuple[int, int | None]] | None = None  #: a failed parallel pull's partitions (lo, hi)
    sent: list[dict[str, Any]] | None = None  #: the stopped attempt's filter (a resume's: with its id ranges)
    part: pandas.DataFrame | None = None  #: the stopped attempt's records (``frame`` holds every attempt's)

    def continued_filter(self) -> list[dict[str, Any]] | None:
        """The filter of the rest: the stopped attempt's filter AND ``id > last`` of that attempt (one
        range per partition when a parallel pull failed)."""
        sent = list(self.sent if self.sent is not None else self.filter or [])
        part = self.part if self.part is not None else self.frame
        ids = part["id"].dropna() if "id" in part.columns else None
        if ids is None or ids.empty:
            return sent or None
        if self.ranges:
            return [*sent, _rest_of_partitions(ids.astype("int64"), self.ranges)]
        return [*sent, {"op": "gt", "field": "id", "value": int(ids.max())}]


def _rest_of_partitions(ids: pandas.Series, ranges: list[tuple[int, int | None]]) -> dict[str, Any]:
    """``(id > last_1 and id < hi_1) or … or id > last_n``: each partition from its own last id."""
    items: list[dict[str, Any]] = []
    for lo, hi in ranges:
        inside = ids[(ids >= lo) & (ids < hi)] if hi is not None else ids[ids >= lo]
        after = int(inside.max()) if len(inside) else lo - 1
        cond = [{"op": "gt", "field": "id", "value": after}]
        if hi is not None:
            if after >= hi - 1:
                continue  # this partition was complete
            cond.append({"op": "lt", "field": "id", "value": hi})
        items.append(cond[0] if len(cond) == 1 else {"op": "and", "items": cond})
    if not items:
        return {"op": "gt", "field": "id", "value": int(ids.max())}
    return items[0] if len(items) == 1 else {"op": "or", "items": items}


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
