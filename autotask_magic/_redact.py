"""Redaction helpers: masking identities and scrubbing known secrets from text and log records.

Secrets are kept in :class:`~autotask_magic._credentials.Secret` objects, which register their value
here so that any text that still manages to contain one (a log line, a server error echo) can be
scrubbed as a second line of defence.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = [
    "LIBRARY_LOGGERS",
    "REDACTED",
    "RedactingFilter",
    "detach",
    "forget",
    "get_logger",
    "mask",
    "redact",
    "register",
]

REDACTED = "<redacted>"

_lock = threading.Lock()
_known: set[str] = set()
# Patterns that look like credentials even when we never registered the value.
_PATTERNS = [
    # Credential headers echoed back by a gateway's error page ("Secret: ...", "Authorization: Basic ...").
    (
        re.compile(
            r"(?im)\b((?:secret|apiintegrationcode|api-integration-code|authorization|proxy-authorization|username|"
            r"user-name|impersonationresourceid|x-api-key|api-key|cookie|set-cookie)\s*:\s*)"
            r"(?:(?:bearer|basic|digest)\s+)?[^\s<>\"',;&]+"
        ),
        r"\1" + REDACTED,
    ),
    # The same headers as httpcore logs them: (b'Secret', b'...').
    (
        re.compile(
            r"(?i)(\(b'(?:secret|apiintegrationcode|authorization|username|impersonationresourceid|cookie|"
            r"set-cookie|x-api-key)',\s*b')[^']*"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), r"\1" + REDACTED),
    (
        re.compile(r"(?i)((?:client_secret|secret|access_token|password|token)=)[^&\s\"']+"),
        r"\1" + REDACTED,
    ),
    (
        re.compile(r"(?i)((?:\"|')(?:client_secret|secret|access_token|password)(?:\"|')\s*:\s*(?:\"|'))[^\"']*"),
        r"\1" + REDACTED,
    ),
]


def register(value: str) -> None:
    """Remember ``value`` as a secret so :func:`redact` removes it from any text."""
    # Very short values would redact ordinary words; they are too weak to matter anyway.
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def forget(value: str) -> None:
    """Stop tracking ``value`` (after logout the process should not keep credentials around)."""
    with _lock:
        _known.discard(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and credential-looking fragment replaced."""
    if not text:
        return text
    # Patterns first: a registered value replaced first could break a pattern's anchor (a secret
    # registered as "secret" would turn "client_secret=V" into "client_<redacted>=V").
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def mask(identity: str | None) -> str:
    """Mask an identity for display: first 4 + "…" + last 4, or a shorter mask for short values."""
    if not identity:
        return ""
    n = len(identity)
    if n >= 12:
        return f"{identity[:4]}…{identity[-4:]}"
    if n >= 6:
        return f"{identity[:2]}…{identity[-1:]}"
    return "…"


def detach(exc: BaseException) -> None:
    """Cut an httpx exception off from the request that failed, before our own error replaces it.

    ``raise OurError(...) from None`` hides the httpx exception from tracebacks but keeps it as
    ``__context__``; that exception holds the request (Authorization / Secret headers, the token form
    body with the client secret) and, through its traceback, frames whose locals hold it too. Anything
    that walks the chain (error reporters, ``err.__context__.request.headers``) would find them.
    """
    exc.__traceback__ = None
    exc.__context__ = None
    exc.__cause__ = None
    if hasattr(exc, "_request"):
        exc._request = None


class RedactingFilter(logging.Filter):
    """A logging filter that renders the message and scrubs secrets from it (defence in depth)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not crash logging
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with the redacting filter installed (filters do not inherit)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


#: The loggers of the HTTP stack: httpcore logs response headers (and h11's refusals, which quote the
#: refused header value) at DEBUG. A logger's filter does not apply to its children, so each is named.
LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

for _name in LIBRARY_LOGGERS:
    get_logger(_name)
