"""autotask-magic: pull Autotask PSA data into pandas from Jupyter, or from plain Python.

    >>> from autotask_magic import AutotaskClient
    >>> with AutotaskClient.from_env() as client:
    ...     df = client.query("Tickets", where="status != 5", limit=1000)

In IPython: ``%load_ext autotask_magic`` then ``%autotask_login`` and ``%%autotask query Tickets``;
``session_client()`` then gives the client those magics use, for the Python API.
The core modules import no IPython; the magics and the widget are loaded only by ``%load_ext``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    AuthenticationError,
    AutotaskError,
    ConfigurationError,
    IncompletePullError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    QuerySyntaxError,
    RateLimitError,
    ServerError,
    TransportError,
    WriteOutcomeUnknownError,
)
from ._lazy import lazy_names

__version__ = "0.1.0"

# Public names that live in heavier modules (httpx, pandas) are resolved on first use so that
# ``%load_ext autotask_magic`` stays fast.
_LAZY = {
    "AutotaskClient": ".client._client",
    "ApiUserCredentials": ".client._credentials",
    "OAuthCredentials": ".client._credentials",
    "CredentialManager": ".client._manager",
    "ManagerConfig": ".client._manager",
    "ManagerStatus": ".client._manager",
    "TokenState": ".client._manager",
    "parse_where": ".query",
    "to_frame": ".client._frames",
}

__all__ = [
    "ApiUserCredentials",
    "AuthenticationError",
    "AutotaskClient",
    "AutotaskError",
    "ConfigurationError",
    "CredentialManager",
    "IncompletePullError",
    "ManagerConfig",
    "ManagerStatus",
    "NotFoundError",
    "OAuthCredentials",
    "PermissionDeniedError",
    "QueryError",
    "QuerySyntaxError",
    "RateLimitError",
    "ServerError",
    "TokenState",
    "TransportError",
    "WriteOutcomeUnknownError",
    "load_ipython_extension",
    "parse_where",
    "session_client",
    "to_frame",
    "unload_ipython_extension",
]

if TYPE_CHECKING:  # pragma: no cover
    from .client._client import AutotaskClient
    from .client._credentials import ApiUserCredentials, OAuthCredentials
    from .client._frames import to_frame
    from .client._manager import CredentialManager, ManagerConfig, ManagerStatus, TokenState
    from .query import parse_where


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals(), __all__)


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%autotask*`` magics (called by ``%load_ext autotask_magic``)."""
    from .notebook._magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Close clients and stop every thread the extension started (``%unload_ext``)."""
    from .notebook._magics import unload_ipython_extension as _unload

    _unload(ipython)


def session_client() -> AutotaskClient:
    """The client ``%autotask_login`` logged in (``--sandbox`` too) in the running IPython session.

    The same client, token and request budget the magics use. Raises a one-line
    :class:`ConfigurationError` outside IPython, before ``%load_ext autotask_magic`` or when nobody is
    logged in (it never logs in by itself: ``%autotask_login`` decides how).
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise ConfigurationError(
            "session_client(): not running in IPython",
            hint="in a plain Python program use AutotaskClient.from_env() or AutotaskClient(credentials, ...)",
        )
    from .notebook._magics import get_magic

    magic = get_magic(shell)
    if magic is None:
        raise ConfigurationError(
            "session_client(): the autotask_magic extension is not loaded",
            hint="run %load_ext autotask_magic, then %autotask_login (or %autotask_login --sandbox)",
        )
    client = magic.session.client
    if client is None:
        raise ConfigurationError(
            "session_client(): not logged in",
            hint="run %autotask_login (or %autotask_login --sandbox) first",
        )
    return client  # type: ignore[return-value]  # the real AutotaskClient unless a test injected a factory
