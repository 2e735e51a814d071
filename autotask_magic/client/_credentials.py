"""Credential value objects. Secrets live in :class:`Secret`, which never shows its value."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from .. import _redact
from .._exceptions import ConfigurationError

__all__ = [
    "SECRET_ENV",
    "ApiUserCredentials",
    "Credentials",
    "OAuthCredentials",
    "Secret",
    "check_no_control",
    "has_control",
    "read_env",
]

#: The ``AUTOTASK_*`` variables that hold secrets: wrapped in :class:`Secret` the moment they are read.
SECRET_ENV = ("AUTOTASK_CLIENT_SECRET", "AUTOTASK_INTEGRATION_CODE", "AUTOTASK_SECRET")


class Secret:
    """A string that never reveals itself in ``repr``, ``str``, f-strings or tracebacks.

    Call :meth:`reveal` only at the moment the value must go on the wire.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret expects a str")
        self._value = value
        _redact.register(value)

    def reveal(self) -> str:
        """Return the raw value (use inline when building a header or form body)."""
        return self._value

    def forget(self) -> None:
        """Drop the value from the redaction registry and from this object."""
        _redact.forget(self._value)
        self._value = ""

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "<secret>"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the secret to disk or a pipe; refuse loudly.
        raise TypeError("Secret values cannot be pickled")


# Control characters would end up in a header (CR/LF injection) or a form body; h11 refuses them on
# the wire, but its error quotes the value. Refused here, naming the field, never the value.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control(text: str) -> bool:
    """True if ``text`` holds a control character (CR/LF, tab, NUL, DEL): it must not go into a header."""
    return _CONTROL.search(text) is not None


def check_no_control(value: str, name: str) -> None:
    """Raise ConfigurationError (without echoing ``value``) if it holds a control character."""
    if has_control(value):
        raise ConfigurationError(
            f"{name} contains a control character (a line break, tab or NUL?); it was not used",
            hint=f"copy {name} again without line breaks or spaces around it",
        )


def _text(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    check_no_control(value.strip(), name)
    return value.strip()


def _secret(value: str | Secret, name: str) -> Secret:
    # Stripped like the other fields: a pasted secret's trailing line break would reach a header. No
    # local holds it in plain text (a Verbose traceback of the error below prints locals).
    secret = Secret(Secret(value).reveal().strip())
    check_no_control(secret.reveal(), name)
    return secret


class OAuthCredentials:
    """OAuth 2.0 client credentials (the spec's mode): a client id and a client secret."""

    __slots__ = ("client_id", "client_secret")

    def __init__(self, client_id: str, client_secret: str | Secret) -> None:
        self.client_id: str = _text(client_id, "client_id")
        self.client_secret: Secret = _secret(client_secret, "client_secret")

    mode = "oauth"

    @property
    def identity(self) -> str:
        """The masked client id (safe to display)."""
        return _redact.mask(self.client_id)

    def forget(self) -> None:
        """Forget the secret (used by logout)."""
        self.client_secret.forget()

    def __repr__(self) -> str:
        return f"OAuthCredentials(client_id={self.identity!r}, client_secret=<secret>)"


class ApiUserCredentials:
    """Autotask API-user credentials (real tenants today): username, integration code and secret."""

    __slots__ = ("impersonation_resource_id", "integration_code", "secret", "username")

    def __init__(
        self,
        username: str,
        integration_code: str | Secret,
        secret: str | Secret,
        impersonation_resource_id: int | str | None = None,
    ) -> None:
        self.username: str = _text(username, "username")
        # The integration code identifies the vendor integration; treat it as a credential too.
        self.integration_code: Secret = _secret(integration_code, "integration_code")
        self.secret: Secret = _secret(secret, "secret")
        rid = impersonation_resource_id
        if rid is not None and str(rid).strip() == "":
            rid = None
        if rid is not None and not re.fullmatch(r"[0-9]+", str(rid).strip()):
            raise ConfigurationError(
                "impersonation_resource_id must be a resource id (digits)",
                hint="set AUTOTASK_IMPERSONATION_RESOURCE_ID to the resource's numeric id, or leave it unset",
            )
        self.impersonation_resource_id: str | None = None if rid is None else str(rid).strip()

    mode = "api_user"

    @property
    def identity(self) -> str:
        """The masked username (safe to display)."""
        return _redact.mask(self.username)

    def forget(self) -> None:
        """Forget the secrets (used by logout)."""
        self.integration_code.forget()
        self.secret.forget()

    def __repr__(self) -> str:
        extra = (
            f", impersonation_resource_id={self.impersonation_resource_id!r}" if self.impersonation_resource_id else ""
        )
        return f"ApiUserCredentials(username={self.identity!r}, integration_code=<secret>, secret=<secret>{extra})"


Credentials = OAuthCredentials | ApiUserCredentials


def read_env(environ: Mapping[str, str | Secret]) -> dict[str, str | Secret]:
    """The non-empty ``AUTOTASK_*`` variables of ``environ``, the secret ones wrapped in :class:`Secret`.

    Every path that reads credentials goes through here first, so no frame (shown with its locals by
    ``%xmode Verbose``) holds a secret as a plain string, nor the whole ``os.environ``.
    """
    out: dict[str, str | Secret] = {}
    for key, value in environ.items():
        if not key.startswith("AUTOTASK_") or not value:
            continue
        if key in SECRET_ENV:
            out[key] = value if isinstance(value, Secret) else Secret(value)
        else:
            out[key] = value.reveal() if isinstance(value, Secret) else value
    return out
