"""Zones found by discovery, kept for the life of the process (one kernel): a new client of the same API
user asks ``zoneInformation`` no more, so a cold pull starts one round trip sooner.

Only managers on the real network share it (a test's mock transport answers for itself). A zone is
public routing information, never a credential; it is keyed by the zone URL and the user name.
"""

from __future__ import annotations

import threading

__all__ = ["known_zone", "remember_zone"]

_ZONES: dict[tuple[str, str], tuple[str, str | None]] = {}
_LOCK = threading.Lock()


def known_zone(zone_url: str, username: str) -> tuple[str, str | None] | None:
    """``(api_root, zone_name)`` found earlier in this process for this user, or None."""
    with _LOCK:
        return _ZONES.get((zone_url, username.casefold()))


def remember_zone(zone_url: str, username: str, api_root: str, name: str | None) -> None:
    with _LOCK:
        _ZONES[(zone_url, username.casefold())] = (api_root, name)
