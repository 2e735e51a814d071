"""The exception hierarchy users catch.

Every error renders as one line: what happened, the server's own words (if any), and what to do.
No exception ever carries a secret or a token: messages are built from redacted parts only, and
``request`` holds a method and a URL whose query string has been stripped of credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AuthenticationError",
    "AutotaskError",
    "ConfigurationError",
    "IncompletePullError",
    "NotFoundError",
    "PermissionDeniedError",
    "QueryError",
    "QuerySyntaxError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "WriteOutcomeUnknownError",
]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class AutotaskError(Exception):
    """Base class of every error raised by autotask-magic.

    ``str(err)`` is a single readable line. The parts stay available as attributes:
    ``status`` (HTTP status or None), ``request`` (e.g. ``"POST /Tickets/query"``), ``server_messages``
    (the server's own words) and ``hint`` (what to do).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request: str | None = None,
        server_messages: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        self.message = _one_line(message)
        self.status = status
        self.request = request
        self.server_messages = tuple(_one_line(m) for m in server_messages if str(m).strip())
        self.hint = _one_line(hint) if hint else None
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.request:
            parts[0] = f"{self.message} ({self.request})"
        if self.server_messages:
            parts.append("server says: " + "; ".join(self.server_messages))
        if self.hint:
            parts.append(self.hint)
        return " — ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep pickling (e.g. across processes) working with keyword-only arguments.
        return (
            _rebuild,
            (type(self), self.message, self.status, self.request, self.server_messages, self.hint),
        )


def _rebuild(
    cls: type[AutotaskError],
    message: str,
    status: int | None,
    request: str | None,
    server_messages: Sequence[str],
    hint: str | None,
) -> AutotaskError:
    err = cls.__new__(cls)
    AutotaskError.__init__(err, message, status=status, request=request, server_messages=server_messages, hint=hint)
    return err


class ConfigurationError(AutotaskError, ValueError):
    """Settings are missing, contradictory or unsafe (e.g. ``http://`` to a non-loopback host)."""


class AuthenticationError(AutotaskError):
    """HTTP 401 (invalid or expired token / bad API-user credentials) or 400 (invalid client credentials)."""


class PermissionDeniedError(AutotaskError):
    """HTTP 403: the credentials are valid but lack permission for this resource."""


class NotFoundError(AutotaskError):
    """HTTP 404: no entity or record at that path."""


class RateLimitError(AutotaskError):
    """HTTP 429, or a client-side limit that cannot be waited out; ``retry_after`` is in seconds."""

    retry_after: float | None = None


class QueryError(AutotaskError, ValueError):
    """The server rejected the request with Autotask's ``{"errors": [...]}`` list (usually HTTP 500)."""


class QuerySyntaxError(AutotaskError, ValueError):
    """The query text or filter is invalid; raised before any request is sent.

    ``text`` is the offending source and ``position`` the 0-based column (or None).
    """

    text: str | None = None
    position: int | None = None


class ServerError(AutotaskError):
    """HTTP 5xx without an Autotask error list."""


class TransportError(AutotaskError):
    """The request failed on the network: connect error, timeout, dropped connection, TLS failure."""


class WriteOutcomeUnknownError(TransportError):
    """A create, update or delete may or may not have reached the server; it was not retried."""


class IncompletePullError(AutotaskError):
    """A multi-page pull stopped early. ``records`` holds every record fetched, ``pages`` the pages read."""

    records: list[dict[str, Any]]
    pages: int = 0
    cause: BaseException | None = None
