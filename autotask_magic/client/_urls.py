"""Request URLs under the API root: resolving a path, the path relative to the root, checking ``nextPageUrl``."""

from __future__ import annotations

import re

import httpx

from .._exceptions import ConfigurationError
from ._settings import check_under_root, check_url, origin

__all__ = ["check_next", "relative", "resolve"]


def resolve(path: str, base: str) -> str:
    """The absolute URL for ``path`` (relative to the API root ``base``, or an absolute URL under it).

    Refused before anything is sent (ConfigurationError) when it would leave the API root: another
    scheme, host or port, a scheme-relative ``//host``, ``..`` segments (plain or percent-encoded),
    backslashes, control characters (CR/LF) or a fragment.
    """
    if not isinstance(path, str):
        raise ConfigurationError(f"request path must be a string, not {type(path).__name__}")
    if "://" in path.split("?", 1)[0]:
        url = str(check_url(path, what="request URL"))
        check_under_root(path, base, what="request URL")
        check_under_root(url, base, what="request URL")
        return url
    if path.startswith(("//", "\\", "/\\")) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        raise ConfigurationError(
            "request path looks like a URL on another host (scheme-relative '//' or 'scheme:'); nothing was sent",
            hint="give a path under the API root, e.g. Companies/0",
        )
    url = base + path.lstrip("/")
    check_under_root(url, base, what="request path")
    return url


def relative(url: str, base: str) -> str:
    """``url``'s path relative to the API root ``base`` (no leading slash)."""
    path = httpx.URL(url).path
    base_path = httpx.URL(base).path
    if path.lower().startswith(base_path.lower()):
        path = path[len(base_path) :]
    return path.lstrip("/")


def check_next(url: str, base: str) -> None:
    """Refuse a ``nextPageUrl`` outside the API root before sending anything (it would get our credentials)."""
    try:
        check_url(url, what="nextPageUrl")
    except ConfigurationError as exc:
        raise ConfigurationError(f"refused nextPageUrl: {exc.message}") from None
    if origin(url) != origin(base):
        o = origin(url)
        raise ConfigurationError(
            f"refused nextPageUrl on another host ({o[0]}://{o[1]}:{o[2]}); nothing was sent there",
            hint="the server sent a paging URL outside the API root",
        )
    try:
        check_under_root(url, base, what="nextPageUrl")
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"refused {exc.message}", hint="the server sent a paging URL outside the API root"
        ) from None
