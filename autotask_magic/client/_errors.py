"""From an error response to the exception users catch: the server's words, one line, what to do."""

from __future__ import annotations

from typing import Any

import httpx

from .. import _redact
from .._exceptions import (
    AuthenticationError,
    AutotaskError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    RateLimitError,
    ServerError,
)
from ._retry import parse_retry_after

__all__ = [
    "SOLUTION_400",
    "SOLUTION_401",
    "SOLUTION_403",
    "TLS_HINT",
    "bad_integration_code",
    "error_for",
    "missing_item",
    "server_messages",
]

# The spec's "Solution" column.
SOLUTION_401 = "Solution: Invalid or expired token"
SOLUTION_403 = "Solution: Insufficient permissions"
SOLUTION_400 = "Solution: Invalid client credentials"

#: What to do when certificate verification fails (token, zone discovery and API requests alike).
TLS_HINT = "if the server uses a private CA, set AUTOTASK_CA_BUNDLE to its PEM file"


def server_messages(response: httpx.Response) -> list[str]:
    """The server's own words about a failure (``errors``, ``error_description``, ``message``...), redacted."""
    try:
        data = response.json()
    except Exception:
        # Redact first, then cut: a cut first could keep the start of an echoed secret that the
        # redaction would then no longer recognise.
        text = _redact.redact(response.text.strip())
        return [text[:200]] if text else []
    words: list[str] = []
    if isinstance(data, dict):
        if isinstance(data.get("errors"), list):
            words += [str(e) for e in data["errors"]]
        for key in ("error", "error_description", "message", "Message"):
            if data.get(key):
                words.append(str(data[key]))
    return [_redact.redact(w) for w in words]


def error_for(response: httpx.Response, label: str) -> AutotaskError:
    """Map an error response to the exception users catch (one line, the server's words, what to do)."""
    status = response.status_code
    common: dict[str, Any] = {"status": status, "request": label, "server_messages": server_messages(response)}
    bad_code = bad_integration_code(response, label)
    if bad_code is not None:
        return bad_code
    if status == 401:
        return AuthenticationError(
            "not authenticated (HTTP 401)", hint=f"{SOLUTION_401} — check the credentials, then log in again", **common
        )
    if status == 403:
        return PermissionDeniedError(
            "permission denied (HTTP 403)",
            hint=f"{SOLUTION_403} — ask an Autotask administrator to grant the API user access",
            **common,
        )
    if status == 404:
        return NotFoundError("not found (HTTP 404)", hint="check the entity name and the id", **common)
    if status == 429:
        err = RateLimitError("rate limited by Autotask (HTTP 429)", hint="wait and try again", **common)
        err.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return err
    if _has_errors_list(response):
        return QueryError(
            f"Autotask rejected the request (HTTP {status})",
            hint="fix the fields or values the server names",
            **common,
        )
    if status == 400:
        return AuthenticationError("bad request (HTTP 400)", hint=SOLUTION_400, **common)
    if 300 <= status < 400:
        return ServerError(
            f"unexpected redirect (HTTP {status}); not followed",
            hint="redirects are never followed with credentials; check AUTOTASK_BASE_URL",
            **common,
        )
    if status >= 500:
        return ServerError(f"Autotask server error (HTTP {status})", hint="try again later", **common)
    return AutotaskError(f"unexpected HTTP {status}", hint="check the request", **common)


def bad_integration_code(response: httpx.Response, label: str) -> AuthenticationError | None:
    """The real API's answer to a wrong integration code, HTTP 500 ``{"errors":["IntegrationCode is
    invalid."]}``, as the AuthenticationError it is (a 500 like this is never retried), else None."""
    if response.status_code not in (401, 500):
        return None
    words = server_messages(response)
    if not any("integrationcodeisinvalid" in w.lower().replace(" ", "") for w in words):
        return None
    return AuthenticationError(
        f"the API rejected the integration code (HTTP {response.status_code})",
        status=response.status_code,
        request=label,
        server_messages=words,
        hint="check AUTOTASK_INTEGRATION_CODE (the API user's tracking identifier in Autotask)",
    )


def missing_item(label: str) -> NotFoundError:
    """A GET of one record answered HTTP 200 ``{"item": null}``: what live tenants send for a missing id
    (other answers show 404); both are "not found" to the user."""
    return NotFoundError("not found (no record with that id)", request=label, hint="check the entity name and the id")


def _has_errors_list(response: httpx.Response) -> bool:
    try:
        data = response.json()
    except Exception:
        return False
    return isinstance(data, dict) and isinstance(data.get("errors"), list)
