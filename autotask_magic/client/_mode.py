"""The login mode: one decision shared by ``%autotask_login``, the magic's automatic login and
``AutotaskClient.from_env()``.

No httpx here: the notebook layer imports this at ``%load_ext`` time, which must stay cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._exceptions import ConfigurationError

__all__ = ["API_USER_ENV", "MODE_ENV", "OAUTH_ENV", "infer_mode", "normalize_mode"]

# The environment variable names of each login mode's credential set.
OAUTH_ENV = ("AUTOTASK_CLIENT_ID", "AUTOTASK_CLIENT_SECRET")
API_USER_ENV = ("AUTOTASK_USERNAME", "AUTOTASK_INTEGRATION_CODE", "AUTOTASK_SECRET")
MODE_ENV = "AUTOTASK_MODE"
_MODE_NAMES = {"oauth": "oauth", "api_user": "api_user", "api-user": "api_user", "apiuser": "api_user"}


def _is_set(env: Mapping[str, Any], name: str) -> bool:
    value = env.get(name)
    # A Secret (see _credentials.read_env) is set when non-empty; it has no strip().
    return bool(value and (value.strip() if isinstance(value, str) else value))


def normalize_mode(mode: str, *, what: str = "login mode") -> str:
    """``"oauth"`` or ``"api_user"`` for any accepted spelling (``api-user`` too); else ConfigurationError."""
    key = mode.strip().lower()
    if key not in _MODE_NAMES:
        raise ConfigurationError(f"unknown {what} {mode!r}", hint="use oauth or api-user")
    return _MODE_NAMES[key]


def infer_mode(env: Mapping[str, Any], mode: str | None = None) -> str | None:
    """The login mode for ``env``: the one decision shared by ``%autotask_login``, the magic's automatic
    login and ``from_env()``.

    An explicit ``mode`` wins, then ``AUTOTASK_MODE``; else a complete credential set wins over a
    partial one, and a partial set names its mode. Both sets complete (or both partial) is refused:
    guessing would send one mode's secrets when the user meant the other. None: no credentials at all.
    """
    if mode:
        return normalize_mode(mode)
    if _is_set(env, MODE_ENV):
        return normalize_mode(env[MODE_ENV], what=MODE_ENV)
    oauth = [v for v in OAUTH_ENV if _is_set(env, v)]
    api = [v for v in API_USER_ENV if _is_set(env, v)]
    oauth_full, api_full = len(oauth) == len(OAUTH_ENV), len(api) == len(API_USER_ENV)
    if oauth_full != api_full:
        return "oauth" if oauth_full else "api_user"
    if oauth and api:
        state = "complete" if oauth_full else "partial"
        raise ConfigurationError(
            f"both OAuth ({', '.join(OAUTH_ENV)}) and API-user ({', '.join(API_USER_ENV)}) credentials "
            f"are set ({state})",
            hint=f"choose one: %autotask_login --mode oauth|api-user, or set {MODE_ENV}=oauth|api-user",
        )
    if oauth:
        return "oauth"
    if api:
        return "api_user"
    return None
