"""What every endpoint handler works with: the request, the reply, and the narrow view of the Sandbox.

Handlers are plain functions ``(Request, Target) -> Reply``; they raise ``Reply`` to answer early (an
error) and never touch sockets. ``SandboxView`` lists exactly what the HTTP side reads from its
``Sandbox``, so the server depends on that Protocol and not on the ``Sandbox`` class.
"""

from __future__ import annotations

import json
import random
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Protocol
from urllib.parse import parse_qs

from ._schema import ChildSpec, EntitySpec
from ._state import Faults, SlidingWindow, Stats, Store

__all__ = [
    "Drop",
    "Reply",
    "Request",
    "SandboxView",
    "Shared",
    "Target",
    "dumps",
    "errors",
    "no_resource",
    "not_allowed",
]

dumps = json.JSONEncoder(check_circular=False, separators=(",", ":"), ensure_ascii=False).encode


class SandboxView(Protocol):
    """The parts of a ``Sandbox`` the server reads: settings, state, credentials and its token book."""

    @property
    def seed(self) -> int: ...
    @property
    def ssl_context(self) -> ssl.SSLContext | None: ...
    @property
    def faults(self) -> Faults: ...
    @property
    def stats(self) -> Stats: ...
    @property
    def store(self) -> Store: ...
    @property
    def token_ttl(self) -> float: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def secret(self) -> str: ...
    @property
    def integration_code(self) -> str: ...
    @property
    def root_url(self) -> str: ...
    @property
    def hidden_entities(self) -> frozenset[str]: ...
    def issue_token(self, ttl: float) -> str: ...
    def check_token(self, token: str) -> str | None: ...


class Reply(Exception):
    """A response: handlers return it, and raise it anywhere to answer immediately."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class Drop(Exception):
    """Close the connection without answering (an injected dropped connection)."""


def errors(status: int, *messages: str, headers: dict[str, str] | None = None) -> Reply:
    """The API's error shape: ``{"errors": [...]}``."""
    return Reply(status, {"errors": list(messages)}, headers)


def not_allowed(method: str) -> Reply:
    """405 in the API's words (ASP.NET's ``Message`` shape, not ``errors``)."""
    return Reply(405, {"Message": f"The requested resource does not support http method '{method}'."})


def no_resource(url: str) -> Reply:
    """404 for a path the API does not publish at all (e.g. ``POST /Tasks``), in ASP.NET's words."""
    return Reply(404, {"Message": f"No HTTP resource was found that matches the request URI '{url}'."})


class Shared:
    """State shared by every request of one server: rate windows, seeded randomness, cursors, write lock."""

    def __init__(self, seed: int) -> None:
        self.windows = SlidingWindow()
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.cursors: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self.cursor_lock = threading.Lock()
        self.write_lock = threading.Lock()

    def random(self) -> float:
        """A float in [0, 1) from the seeded generator (thread-safe)."""
        with self._rng_lock:
            return self._rng.random()

    def choice(self, seq: list[int]) -> int:
        """One element of ``seq`` from the seeded generator (thread-safe)."""
        with self._rng_lock:
            return self._rng.choice(seq)


@dataclass
class Request:
    """One HTTP request as the handlers see it, plus its latency deadline and concurrency slot."""

    method: str
    headers: Message
    raw: bytes
    query: str
    sandbox: SandboxView
    shared: Shared
    send: Callable[[Reply], None]
    arrived: float = field(default_factory=time.monotonic)
    path: str = ""  # the URL path as sent (for 404 messages)
    #: When the response may go out at the earliest (the injected latency floor), or None.
    deadline: float | None = None
    slot: tuple[str, str] | None = None

    @property
    def params(self) -> dict[str, str]:
        """Query-string parameters (the last value of each; blank values kept)."""
        return {k: v[-1] for k, v in parse_qs(self.query, keep_blank_values=True).items()}

    def json_body(self) -> Any:
        """The body as JSON (None when empty); 400 when it is not JSON."""
        if not self.raw.strip():
            return None
        try:
            return json.loads(self.raw)
        except ValueError:
            raise errors(400, "The request body is not valid JSON.") from None

    def maybe_drop(self) -> None:
        """Raise ``Drop`` with the injected probability ``faults.drop_rate``."""
        f = self.sandbox.faults
        if f.drop_rate and self.shared.random() < f.drop_rate:
            self.sandbox.stats.count_fault("drop")
            raise Drop()

    def set_latency(self) -> None:
        """Set the response time floor: arrival + latency (+ jitter); the server waits for it before sending."""
        f = self.sandbox.faults
        ms = float(f.latency_ms or 0)
        if f.jitter_ms:
            ms += self.shared.random() * float(f.jitter_ms)
        if ms > 0:
            self.deadline = self.arrived + ms / 1000.0

    def release_slot(self) -> None:
        """Stop counting this request as in flight (idempotent)."""
        held, self.slot = self.slot, None
        if held is not None:
            self.sandbox.stats.leave(*held)


@dataclass
class Target:
    """What the URL path names, resolved and checked (404s) by the router before the handler runs."""

    spec: EntitySpec | None = None  # /{entity}
    id: int | None = None  # /{entity}/{id}
    child: EntitySpec | None = None  # /{entity}/{id}/{child}
    parent_field: str = ""  # the child's field that holds the parent's id
    path: ChildSpec | None = None  # the child collection (its operations)
    child_id: int | None = None  # /{entity}/{id}/{child}/{child_id}
    record: dict[str, Any] | None = None  # the child record, once checked to belong to the parent

    @property
    def entity(self) -> EntitySpec:
        """The entity (routes with ``{entity}`` always resolve it)."""
        assert self.spec is not None
        return self.spec

    @property
    def rid(self) -> int:
        """The record id (routes with ``{id}`` always resolve it)."""
        assert self.id is not None
        return self.id

    @property
    def child_entity(self) -> EntitySpec:
        """The child collection's entity (routes with ``{child}`` always resolve it)."""
        assert self.child is not None
        return self.child
