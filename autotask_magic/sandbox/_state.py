"""The sandbox's mutable state: the record store, counters, fault settings, tokens and rate windows.

Every lock here is held only for bookkeeping (microseconds), never across a sleep or a page
serialisation, so concurrent requests really run concurrently.
"""

from __future__ import annotations

import bisect
import copy
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._generate import Plan, generate_entity
from ._schema import ENTITY_NAMES

__all__ = ["Faults", "SlidingWindow", "Stats", "Store", "Table", "TokenBook"]


class Table(dict):
    """``{id: record}`` for one entity, plus a lazily rebuilt sorted id list for paging and bisect.

    Writes through item assignment or deletion mark the id list stale and bump ``version`` (which
    invalidates cached query cursors); in-place edits of a record's fields need no bookkeeping.
    """

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        super().__init__((r["id"], r) for r in records or ())
        self._ids: list[int] | None = None
        self.version = 0

    def __setitem__(self, key: int, value: dict[str, Any]) -> None:
        super().__setitem__(key, value)
        self._touch()

    def __delitem__(self, key: int) -> None:
        super().__delitem__(key)
        self._touch()

    def pop(self, key: Any, *default: Any) -> Any:
        """Like ``dict.pop``; invalidates the cached id list."""
        self._touch()
        return super().pop(key, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Like ``dict.update``; invalidates the cached id list."""
        super().update(*args, **kwargs)
        self._touch()

    def clear(self) -> None:
        """Like ``dict.clear``; invalidates the cached id list."""
        super().clear()
        self._touch()

    def _touch(self) -> None:
        self._ids = None
        self.version += 1

    @property
    def ids(self) -> list[int]:
        """All ids, ascending (do not mutate)."""
        ids = self._ids
        if ids is None or len(ids) != len(self):
            ids = self._ids = sorted(self)
        return ids

    def id_slice(self, lo: int | None, hi: int | None) -> list[int]:
        """Ids with lo <= id <= hi (either bound optional)."""
        ids = self.ids
        a = 0 if lo is None else bisect.bisect_left(ids, lo)
        b = len(ids) if hi is None else bisect.bisect_right(ids, hi)
        return ids[a:b] if (a, b) != (0, len(ids)) else ids

    def next_id(self) -> int:
        """The id a new record gets: one past the highest (1 when empty)."""
        ids = self.ids
        return (ids[-1] + 1) if ids else 1


class Store(dict):
    """``{entity: Table}``; an entity is generated on first access (deterministic per seed)."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        self._lock = threading.RLock()

    def __missing__(self, entity: str) -> Table:
        if entity not in ENTITY_NAMES:
            raise KeyError(entity)
        with self._lock:
            if dict.__contains__(self, entity):
                return dict.__getitem__(self, entity)
            table = Table(generate_entity(self.plan, entity, self))
            dict.__setitem__(self, entity, table)
            return table

    def __contains__(self, entity: object) -> bool:
        return entity in ENTITY_NAMES or dict.__contains__(self, entity)

    def __iter__(self) -> Iterator[str]:
        return iter(ENTITY_NAMES)

    def __len__(self) -> int:
        return len(ENTITY_NAMES)

    def keys(self) -> list[str]:  # type: ignore[override]
        """Every entity name (generated or not)."""
        return list(ENTITY_NAMES)

    def items(self) -> list[tuple[str, Table]]:  # type: ignore[override]
        """``(entity, Table)`` pairs for every entity (generates the missing ones)."""
        return [(e, self[e]) for e in ENTITY_NAMES]

    def values(self) -> list[Table]:  # type: ignore[override]
        """Every entity's Table (generates the missing ones)."""
        return [self[e] for e in ENTITY_NAMES]

    def get(self, entity: str, default: Any = None) -> Any:
        """The entity's Table, or ``default`` for an unknown entity."""
        return self[entity] if entity in ENTITY_NAMES else default


class Stats:
    """Live counters. Attribute reads return snapshots (copies), so they are safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter (in-flight request tracking is kept)."""
        with self._lock:
            self._token_requests = 0
            self._api_requests = 0
            self._zone_requests = 0
            self._by_endpoint: dict[str, int] = {}
            self._max_conc: dict[str, int] = {}
            self._max_overall = 0
            self._writes: list[dict[str, Any]] = []
            self._write_counts: dict[tuple[str, int], int] = {}
            self._rejected_429 = 0
            self._faults: dict[str, int] = {}
            if not hasattr(self, "_in_flight"):
                self._in_flight: dict[str, int] = {}
                self._in_flight_total = 0

    # -- reads -------------------------------------------------------------------------------
    @property
    def token_requests(self) -> int:
        """Requests to the OAuth token endpoint."""
        return self._token_requests

    @property
    def api_requests(self) -> int:
        """Requests under ``/V1.0/`` (zone discovery excluded: see ``zone_requests``)."""
        return self._api_requests

    @property
    def zone_requests(self) -> int:
        """Requests to ``zoneInformation`` (additive to the contract)."""
        return self._zone_requests

    @property
    def requests_by_endpoint(self) -> dict[str, int]:
        """``"METHOD /path-template"`` -> count, e.g. ``"POST /Tickets/query"``."""
        with self._lock:
            return dict(self._by_endpoint)

    @property
    def max_concurrency(self) -> dict[str, int]:
        """Endpoint -> most requests in flight at once."""
        with self._lock:
            return dict(self._max_conc)

    @property
    def max_concurrency_overall(self) -> int:
        """Most API requests in flight at once, across endpoints."""
        return self._max_overall

    @property
    def in_flight(self) -> int:
        """API requests being processed right now (additive)."""
        return self._in_flight_total

    @property
    def writes(self) -> list[dict[str, Any]]:
        """Writes performed: dicts with method, entity, id, body."""
        with self._lock:
            return copy.deepcopy(self._writes)

    def write_count(self, entity: str, id: int) -> int:
        """Writes applied to record ``id`` of ``entity`` (creates count for the id they made)."""
        with self._lock:
            return self._write_counts.get((entity, int(id)), 0)

    @property
    def writes_per_id(self) -> dict[tuple[str, int], int]:
        """``(entity, id)`` -> writes applied to that record (the ground truth for "no write duplicated")."""
        with self._lock:
            return dict(self._write_counts)

    @property
    def rejected_429(self) -> int:
        """Requests answered 429 for any reason."""
        return self._rejected_429

    @property
    def faults_injected(self) -> dict[str, int]:
        """Fault kind -> how many times it was injected."""
        with self._lock:
            return dict(self._faults)

    def snapshot(self) -> dict[str, Any]:
        """Everything as a plain dict (for printing and benchmarks)."""
        return {
            k: getattr(self, k)
            for k in (
                "token_requests",
                "api_requests",
                "zone_requests",
                "requests_by_endpoint",
                "max_concurrency",
                "max_concurrency_overall",
                "writes",
                "rejected_429",
                "faults_injected",
            )
        }

    def __repr__(self) -> str:
        return (
            f"Stats(token_requests={self._token_requests}, api_requests={self._api_requests}, "
            f"max_concurrency_overall={self._max_overall}, rejected_429={self._rejected_429})"
        )

    # -- updates (server side) -----------------------------------------------------------------
    def count_api(self, endpoint: str) -> None:
        """Count one API request to ``endpoint``."""
        with self._lock:
            self._api_requests += 1
            self._by_endpoint[endpoint] = self._by_endpoint.get(endpoint, 0) + 1

    def count_token(self) -> None:
        """Count one token-endpoint request."""
        with self._lock:
            self._token_requests += 1

    def count_zone(self) -> None:
        """Count one zoneInformation request."""
        with self._lock:
            self._zone_requests += 1

    def count_429(self) -> None:
        """Count one request answered 429."""
        with self._lock:
            self._rejected_429 += 1

    def count_fault(self, kind: str) -> None:
        """Count one injected fault of ``kind``."""
        with self._lock:
            self._faults[kind] = self._faults.get(kind, 0) + 1

    def record_write(self, method: str, entity: str, id: int | None, body: Any) -> None:
        """Remember a write (a deep copy of its body)."""
        with self._lock:
            self._writes.append({"method": method, "entity": entity, "id": id, "body": copy.deepcopy(body)})
            if id is not None:
                key = (entity, int(id))
                self._write_counts[key] = self._write_counts.get(key, 0) + 1

    def enter(self, endpoint: str, key: str, limit: int) -> bool:
        """Start tracking an in-flight request; False (nothing tracked) when ``key`` is at ``limit``."""
        with self._lock:
            if self._in_flight.get(key, 0) >= limit:
                return False
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            self._in_flight[endpoint + "\0"] = now = self._in_flight.get(endpoint + "\0", 0) + 1
            if now > self._max_conc.get(endpoint, 0):
                self._max_conc[endpoint] = now
            self._in_flight_total += 1
            self._max_overall = max(self._max_overall, self._in_flight_total)
            return True

    def leave(self, endpoint: str, key: str) -> None:
        """Stop tracking a request that ``enter`` admitted."""
        with self._lock:
            self._in_flight[key] -= 1
            self._in_flight[endpoint + "\0"] -= 1
            self._in_flight_total -= 1


class Faults:
    """Fault-injection and limit settings; change any attribute at any time (next request sees it)."""

    def __init__(self, latency_ms: float = 0) -> None:
        self._lock = threading.Lock()
        self.latency_ms: float = latency_ms
        self.jitter_ms: float = 0
        self.error_rate: float = 0.0
        self.drop_rate: float = 0.0
        self.reject_all_tokens: bool = False
        self.token_endpoint_fail_status: int | None = None
        self.next_page_url_override: str | None = None
        self.redirect_to: str | None = None
        self.rate_limit_per_minute: int = 600
        self.token_rate_limit_per_minute: int = 10
        self.concurrency_per_endpoint: int = 3
        self.hourly_threshold: int = 10_000
        self.rate_window_seconds: float = 60.0
        #: Writes that answer HTTP 500 without being applied: record ids, or for a create its new id or
        #: any value of its body (e.g. a title), so one create of a batch can be made to fail.
        self.write_errors: set[Any] = set()
        #: Writes that are applied, then get no answer (the connection is dropped): their outcome is unknown.
        self.write_drops: set[Any] = set()
        self._burst: list[Any] = [0, "1"]
        self._token_burst: list[Any] = [0, "1"]

    def burst_429(self, n: int, retry_after: str = "1") -> None:
        """The next ``n`` API requests get 429 with this ``Retry-After`` value (seconds or HTTP date)."""
        with self._lock:
            self._burst = [int(n), str(retry_after)]

    def token_429(self, n: int, retry_after: str = "1") -> None:
        """The next ``n`` token requests get 429 with this ``Retry-After`` value."""
        with self._lock:
            self._token_burst = [int(n), str(retry_after)]

    def take_burst(self, token: bool = False) -> str | None:
        """Consume one pending 429 (returns its Retry-After) or None."""
        with self._lock:
            b = self._token_burst if token else self._burst
            if b[0] > 0:
                b[0] -= 1
                return str(b[1])
            return None

    def write_fault(self, rid: int, body: Any = None) -> str | None:
        """``"error"``, ``"drop"`` or None: the injected fault for a write to ``rid`` (a create's ``body`` too)."""
        keys: set[Any] = {rid}
        if isinstance(body, dict):  # only creates pass their body: an update's values are not its identity
            keys.update(v for v in body.values() if isinstance(v, (str, int)) and not isinstance(v, bool))
        if keys & self.write_errors:
            return "error"
        if keys & self.write_drops:
            return "drop"
        return None

    def reset(self) -> None:
        """Back to defaults (no faults, documented limits)."""
        self.__init__()  # type: ignore[misc]

    def __repr__(self) -> str:
        shown = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return f"Faults({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


@dataclass
class _Token:
    expires_at: float
    client_id: str
    revoked: bool = False
    expired: bool = False


class TokenBook:
    """Issued OAuth tokens with TTLs; tokens are opaque random strings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self.issued: list[str] = []

    def issue(self, client_id: str, ttl: float) -> str:
        """A new random token valid for ``ttl`` seconds."""
        token = "sbx." + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _Token(time.monotonic() + ttl, client_id)
            self.issued.append(token)
        return token

    def check(self, token: str) -> str | None:
        """None when valid, else the ``error_description`` for a 401."""
        t = self._tokens.get(token)
        if t is None:
            return "The access token is invalid"
        if t.revoked:
            return "The access token has been revoked"
        if t.expired or time.monotonic() >= t.expires_at:
            return "The access token has expired"
        return None

    def revoke_all(self) -> None:
        """Mark every issued token revoked."""
        with self._lock:
            for t in self._tokens.values():
                t.revoked = True

    def expire_all(self) -> None:
        """Mark every issued token expired."""
        with self._lock:
            for t in self._tokens.values():
                t.expired = True


class SlidingWindow:
    """Request timestamps per key over a sliding window; answers "allowed?" and "retry after"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, window: float) -> float | None:
        """Record a hit if under ``limit`` (returns None), else return seconds until one frees up."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - window:
                q.popleft()
            if len(q) >= limit:
                return max(0.0, q[0] + window - now) if q else window
            q.append(now)
            return None

    def count(self, key: str, window: float) -> int:
        """Hits recorded for ``key`` within the last ``window`` seconds."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.get(key)
            if not q:
                return 0
            while q and q[0] <= now - window:
                q.popleft()
            return len(q)


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least 1 (what real servers send)."""
    return str(max(1, math.ceil(seconds)))
