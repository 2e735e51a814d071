"""Settings from ``AUTOTASK_*`` environment variables and the URL safety rules.

* HTTPS only; plain HTTP only to loopback hosts (127.0.0.0/8, ::1, ``localhost``).
* Credentials go only to the configured token / zone / API origins (scheme, host, port).
* Certificate verification is always on; ``AUTOTASK_CA_BUNDLE`` adds a private CA.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from .._exceptions import ConfigurationError
from ._credentials import SECRET_ENV, ApiUserCredentials, Credentials, OAuthCredentials, Secret, read_env
from ._mode import API_USER_ENV, MODE_ENV, OAUTH_ENV, infer_mode

__all__ = [
    "API_USER_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "DEFAULT_ZONE_URL",
    "MAX_URL_LENGTH",
    "MODE_ENV",
    "OAUTH_ENV",
    "Settings",
    "api_root",
    "check_under_root",
    "check_url",
    "infer_mode",
    "is_loopback",
    "make_ssl_context",
    "origin",
    "same_origin",
]

DEFAULT_TOKEN_URL = "https://webservices.autotask.net/ATServicesRest/oauth/token"
DEFAULT_BASE_URL = "https://webservices.autotask.net/ATServicesRest/V1.0/"
DEFAULT_ZONE_URL = "https://webservices.autotask.net/atservicesrest/V1.0/zoneInformation"

Origin = tuple[str, str, int]

#: The longest URL sent (httpx refuses longer ones with a raw InvalidURL).
MAX_URL_LENGTH = 65_536


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str | httpx.URL, *, what: str = "URL") -> httpx.URL:
    """Parse ``url`` and enforce HTTPS (plain HTTP only to loopback); raise ConfigurationError."""
    try:
        parsed = httpx.URL(str(url))
    except Exception as exc:
        raise ConfigurationError(f"{what} is not a valid URL: {exc}", hint="give an https:// URL") from None
    if parsed.scheme == "https" and parsed.host:
        return parsed
    if parsed.scheme == "http" and parsed.host and is_loopback(parsed.host):
        return parsed
    if parsed.scheme == "http":
        raise ConfigurationError(
            f"{what} uses plain http:// to a non-loopback host ({parsed.host})",
            hint="use https:// (plain http is allowed only for 127.0.0.1, ::1 and localhost)",
        )
    raise ConfigurationError(
        f"{what} must be an absolute https:// URL (got scheme {parsed.scheme or 'none'!r})",
        hint="use https://host/...",
    )


def origin(url: str | httpx.URL) -> Origin:
    """(scheme, host, port) of ``url`` with the scheme's default port filled in."""
    u = httpx.URL(str(url))
    port = u.port or (443 if u.scheme == "https" else 80)
    return (u.scheme.lower(), u.host.lower().rstrip("."), port)


def same_origin(a: str | httpx.URL, b: str | httpx.URL) -> bool:
    """True when ``a`` and ``b`` share scheme, host and port."""
    return origin(a) == origin(b)


def api_root(url: str) -> str:
    """Normalise an API root so it ends with ``/V1.0/`` (a zone URL without it gets ``V1.0/``)."""
    url = url.strip()
    if not url.endswith("/"):
        url += "/"
    if not url.lower().endswith("/v1.0/"):
        url += "V1.0/"
    return url


# Characters that never belong in an API path: control characters (CR/LF header injection), a
# backslash (some servers read it as "/"), and the percent-encoded forms of those plus ".", "/", "#"
# and "?" that a server would decode into traversal after our own checks have run.
_BAD_PATH = re.compile(r"[\x00-\x20\x7f\\]|%(?:[01][0-9a-f]|7f|2e|2f|5c|23|3f)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]|%(?:0[ad]|00)", re.IGNORECASE)


def check_under_root(url: str | httpx.URL, root: str, *, what: str = "request URL") -> None:
    """Refuse ``url`` unless it lies under the API root ``root`` (same origin, path below it).

    Checked on the text as given, before httpx normalises it: ``..`` segments, encoded dots or
    slashes, backslashes, control characters and fragments are refused, so credentials can never be
    sent to another path (e.g. the token endpoint) on the API host, let alone to another host.
    """
    from urllib.parse import urlsplit

    text = str(url)
    if len(text) > MAX_URL_LENGTH:
        raise ConfigurationError(
            f"{what} is too long ({len(text):,} characters; at most {MAX_URL_LENGTH:,}); nothing was sent",
            hint="ask for fewer ids per request, or query with a filter in the body",
        )
    fix = "give a path under the API root, e.g. Companies/0 (no '..', backslashes or control characters)"
    if _CONTROL.search(text):
        raise ConfigurationError(f"{what} contains a control character (CR/LF?); nothing was sent", hint=fix)
    parts = urlsplit(text)
    if parts.fragment or "#" in text:
        raise ConfigurationError(f"{what} contains a '#' fragment; nothing was sent", hint=fix)
    if not parts.scheme or not parts.netloc:
        raise ConfigurationError(f"{what} is not an absolute URL; nothing was sent", hint=fix)
    if origin(text) != origin(root):
        o = origin(text)
        raise ConfigurationError(
            f"refusing to send credentials to {o[0]}://{o[1]}:{o[2]}: not the configured API host",
            hint="only the configured token, zone and API hosts receive credentials",
        )
    if "@" in parts.netloc:
        raise ConfigurationError(f"{what} carries user info ('@' in the host part); nothing was sent", hint=fix)
    path = parts.path
    root_path = urlsplit(root).path
    if not root_path.endswith("/"):
        root_path += "/"
    if not path.lower().startswith(root_path.lower()) or _BAD_PATH.search(path):
        raise ConfigurationError(f"{what} leaves the API root {root_path}; nothing was sent", hint=fix)
    if any(seg in (".", "..") for seg in path[len(root_path) :].split("/")):
        raise ConfigurationError(f"{what} contains '.' or '..' segments; nothing was sent", hint=fix)


def make_ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """A verifying SSL context; with ``ca_bundle`` the given CA file (PEM) is trusted as well."""
    ctx = httpx.create_ssl_context() if hasattr(httpx, "create_ssl_context") else ssl.create_default_context()
    if ca_bundle:
        if not os.path.isfile(ca_bundle):
            raise ConfigurationError(
                f"AUTOTASK_CA_BUNDLE file not found: {ca_bundle}", hint="point it at a PEM file of CA certificates"
            )
        try:
            ctx.load_verify_locations(cafile=ca_bundle)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(f"cannot load CA bundle {ca_bundle}: {exc}", hint="use a PEM file") from None
    # Never relax: verification on, hostname checked.
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = True
    return ctx


@dataclass(frozen=True)
class Settings:
    """Everything needed to build a client: credentials and endpoints."""

    credentials: Credentials
    base_url: str | None = None
    token_url: str | None = None
    zone_url: str | None = None
    ca_bundle: str | None = None
    #: ``AUTOTASK_ALLOWED_HOSTS``: hosts besides ``*.autotask.net`` a zone answer may name.
    allowed_hosts: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        """``"oauth"`` or ``"api_user"``."""
        return self.credentials.mode

    @classmethod
    def from_env(cls, env: Mapping[str, str | Secret] | None = None, *, mode: str | None = None) -> Settings:
        """Read ``AUTOTASK_*`` variables; raise ConfigurationError naming what is missing or contradictory.

        ``mode`` (or ``AUTOTASK_MODE``) picks the credential set when both are present; see :func:`infer_mode`.
        """
        # Rebinding ``env`` leaves no plain secret (nor os.environ) among this frame's locals.
        env = read_env(os.environ if env is None else env)

        def get(name: str) -> str | None:
            value = env.get(name)
            if isinstance(value, Secret):
                raise TypeError(f"{name} holds a secret")  # read with get_secret
            return value.strip() if value and value.strip() else None

        def get_secret(name: str) -> Secret | None:
            value = env.get(name)  # read_env wrapped it; the credentials strip it
            return value if isinstance(value, Secret) and value.reveal().strip() else None

        mode = infer_mode(env, mode)
        wanted = OAUTH_ENV if mode == "oauth" else API_USER_ENV
        missing = [v for v in wanted if not (get_secret(v) if v in SECRET_ENV else get(v))]
        if mode is None or missing:
            label = {"oauth": "OAuth", "api_user": "API-user"}.get(mode or "")
            what = (
                f"{label} settings are incomplete: missing " + ", ".join(missing)
                if label
                else "no Autotask credentials in the environment"
            )
            raise ConfigurationError(
                what,
                hint="set " + " and ".join(OAUTH_ENV) + " (OAuth), or " + ", ".join(API_USER_ENV) + " (API user)",
            )

        creds: Credentials
        if mode == "oauth":
            creds = OAuthCredentials(get("AUTOTASK_CLIENT_ID") or "", get_secret("AUTOTASK_CLIENT_SECRET") or "")
        else:
            creds = ApiUserCredentials(
                get("AUTOTASK_USERNAME") or "",
                get_secret("AUTOTASK_INTEGRATION_CODE") or "",
                get_secret("AUTOTASK_SECRET") or "",
                get("AUTOTASK_IMPERSONATION_RESOURCE_ID"),
            )
        settings = cls(
            credentials=creds,
            base_url=get("AUTOTASK_BASE_URL"),
            token_url=get("AUTOTASK_TOKEN_URL"),
            zone_url=get("AUTOTASK_ZONE_URL"),
            ca_bundle=get("AUTOTASK_CA_BUNDLE"),
            allowed_hosts=tuple(h.strip() for h in (get("AUTOTASK_ALLOWED_HOSTS") or "").split(",") if h.strip()),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check every configured URL against the safety rules."""
        for name, value in (
            ("AUTOTASK_BASE_URL", self.base_url),
            ("AUTOTASK_TOKEN_URL", self.token_url),
            ("AUTOTASK_ZONE_URL", self.zone_url),
        ):
            if value:
                check_url(value, what=name)
