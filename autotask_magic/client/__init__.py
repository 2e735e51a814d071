"""The HTTP client: auth flows, limits, retries, paging, parallel pulls and DataFrames.

Imports httpx and pandas, never IPython. Heavy modules load on first use of a name, so that
``%load_ext autotask_magic`` (which reaches ``client._settings`` only) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

_LAZY = {
    "AutotaskClient": "._client",
    "query_body": "._query_body",
    "ApiUserCredentials": "._credentials",
    "OAuthCredentials": "._credentials",
    "Credentials": "._credentials",
    "Secret": "._credentials",
    "CredentialManager": "._manager",
    "ManagerConfig": "._manager",
    "ManagerStatus": "._manager",
    "TokenState": "._manager",
    "Settings": "._settings",
    "FrameBuilder": "._frames",
    "to_frame": "._frames",
    "RetryPolicy": "._retry",
}

__all__ = [
    "ApiUserCredentials",
    "AutotaskClient",
    "CredentialManager",
    "Credentials",
    "FrameBuilder",
    "ManagerConfig",
    "ManagerStatus",
    "OAuthCredentials",
    "RetryPolicy",
    "Secret",
    "Settings",
    "TokenState",
    "query_body",
    "to_frame",
]

if TYPE_CHECKING:  # pragma: no cover
    from ._client import AutotaskClient
    from ._credentials import ApiUserCredentials, Credentials, OAuthCredentials, Secret
    from ._frames import FrameBuilder, to_frame
    from ._manager import CredentialManager, ManagerConfig, ManagerStatus, TokenState
    from ._query_body import query_body
    from ._retry import RetryPolicy
    from ._settings import Settings


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals(), __all__)
