"""Which requests may be retried, and how long to wait between attempts."""

from __future__ import annotations

import email.utils
import random
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

__all__ = [
    "RETRY_STATUSES",
    "RetryPolicy",
    "is_read_only",
    "is_retryable_exception",
    "is_tls_error",
    "is_transient_server_error",
    "may_have_reached_server",
    "parse_retry_after",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})


def is_read_only(method: str, path: str) -> bool:
    """GET, and POST to ``…/query``, ``…/query/count`` or ``…/query/next`` (reads that use POST for the body)."""
    method = method.upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    if method != "POST":
        return False
    p = path.split("?", 1)[0].rstrip("/").lower()
    return p in ("query", "query/count", "query/next") or p.endswith(("/query", "/query/count", "query/next"))


def may_have_reached_server(exc: BaseException) -> bool:
    """False only for failures that happen before any byte of the request leaves (connect phase)."""
    return not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def is_tls_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a certificate / TLS failure: retrying cannot help."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_retryable_exception(exc: BaseException) -> bool:
    """Connect errors, dropped connections and timeouts (never certificate failures)."""
    if is_tls_error(exc):
        return False
    return isinstance(
        exc,
        (
            httpx.ConnectError,
            httpx.TimeoutException,
            httpx.RemoteProtocolError,
            httpx.ReadError,
            httpx.WriteError,
        ),
    )


# Autotask answers validation failures with HTTP 500 too; only these words mark a 500 as transient.
_TRANSIENT_500 = re.compile(r"unexpected error|internal server error|timed? ?out|deadlock|temporar|try again", re.I)


def is_transient_server_error(status: int, server_words: list[str]) -> bool:
    """True for an HTTP 500 that names no problem with the request (empty, or Autotask's generic words)."""
    if status != 500:
        return False
    return not server_words or any(_TRANSIENT_500.search(w) for w in server_words)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date. None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


@dataclass
class RetryPolicy:
    """Bounded jittered exponential back-off: ``attempts`` tries in all, delays capped at ``cap`` seconds.

    Six attempts by default: at a 15 % transient failure rate (far worse than a bad production day) four
    attempts still failed about one request in 2,000, which stops a large parallel pull; six fail about
    one in 90,000. The total back-off stays bounded by :meth:`max_total_wait` (7.75 s by default).
    """

    attempts: int = 6
    base: float = 0.25
    cap: float = 4.0
    # Longest Retry-After we wait out automatically; beyond it the caller gets RateLimitError.
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    rng: Callable[[], float] = field(default=random.random)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based): "equal jitter" within the capped exponential."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return ceiling / 2 + self.rng() * ceiling / 2

    def max_total_wait(self) -> float:
        """The longest a request can spend in back-off in all (Retry-After pauses aside)."""
        return sum(min(self.cap, self.base * (2 ** (n - 1))) for n in range(1, self.attempts))
