"""What the client makes of one answer or network failure: retry, hand back, parse or raise."""

from __future__ import annotations

from typing import Any

import httpx

from .. import _redact
from .._exceptions import AutotaskError, RateLimitError, ServerError, TransportError, WriteOutcomeUnknownError
from ._errors import TLS_HINT, error_for, server_messages
from ._limits import PauseGate
from ._retry import RetryPolicy, is_tls_error, is_transient_server_error, parse_retry_after

__all__ = ["network_error", "rate_limited", "result_of", "waited_to_retry"]


def waited_to_retry(
    response: httpx.Response,
    method: str,
    label: str,
    attempt: int,
    read_only: bool,
    *,
    policy: RetryPolicy,
    gate: PauseGate,
) -> bool:
    """True after waiting out a retryable answer; False to hand ``response`` back; raises when it must not be."""
    status = response.status_code
    last = attempt >= policy.attempts
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = policy.backoff(attempt)
        if wait > policy.max_retry_after or not read_only or last:
            raise rate_limited(response, label, wait)
        # Pause every request of this client (and of any client sharing the manager).
        gate.pause(wait)
        return True
    # A read is safe to repeat; a 500 naming a field or value is the user's to fix, not retried.
    if (
        read_only
        and not last
        and (
            status in (502, 503, 504)
            or (status == 500 and is_transient_server_error(status, server_messages(response)))
        )
    ):
        policy.sleep(policy.backoff(attempt))
        return True
    if not read_only and status in (502, 504):
        raise WriteOutcomeUnknownError(
            f"{method} may or may not have been applied: the gateway answered HTTP {status}",
            status=status,
            request=label,
            server_messages=server_messages(response),
            hint="check in Autotask whether the change happened before repeating it",
        )
    return False


def rate_limited(response: httpx.Response, label: str, wait: float) -> RateLimitError:
    """The error for a 429 that is not waited out (``retry_after`` set to ``wait``)."""
    err = RateLimitError(
        "rate limited by Autotask (HTTP 429)",
        status=429,
        request=label,
        server_messages=server_messages(response),
        hint=f"wait {wait:.0f} s and try again",
    )
    err.retry_after = wait
    return err


def result_of(response: httpx.Response, label: str) -> Any:
    """The parsed JSON of a 2xx answer (None when empty); the matching error for any other."""
    status = response.status_code
    if 200 <= status < 300:
        if not response.content.strip():
            return None
        try:
            return response.json()
        except (ValueError, RecursionError) as exc:
            what = "JSON nested too deeply to read" if isinstance(exc, RecursionError) else "not JSON"
        raise ServerError(
            f"Autotask answered HTTP {status} with a body that is {what}",
            status=status,
            request=label,
            hint="check AUTOTASK_BASE_URL points at the REST API root",
        )
    raise error_for(response, label)


def network_error(
    exc: httpx.HTTPError, method: str, label: str, attempt: int, *, outcome_unknown: bool
) -> AutotaskError:
    """The error for a request that failed on the network (the request is detached: it holds credentials)."""
    kind = type(exc).__name__
    tls = is_tls_error(exc)
    _redact.detach(exc)  # our error must not keep the request (credential headers) reachable
    if outcome_unknown:
        return WriteOutcomeUnknownError(
            f"{method} may or may not have been applied: the connection failed ({kind})",
            request=label,
            hint="check in Autotask whether the change happened before repeating it",
        )
    if tls:
        return TransportError("TLS certificate verification failed", request=label, hint=TLS_HINT)
    return TransportError(
        f"request failed on the network ({kind}) after {attempt} attempt(s)",
        request=label,
        hint="check the network or the API host, then try again",
    )
