"""Time-zone names: the one check shared by ``to_frame``, ``%autotask --tz`` and ``AutotaskMagic.timezone``.

No pandas here: the magic validates ``%config AutotaskMagic.timezone`` at load time, which must stay cheap.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._exceptions import ConfigurationError

__all__ = ["check_timezone"]


def check_timezone(tz: str) -> str:
    """Return ``tz`` if it is an IANA time-zone name (``UTC``, ``Europe/Berlin``); else ConfigurationError."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigurationError(
            f"unknown time zone {tz!r}", hint="use an IANA name such as 'UTC' or 'Europe/Berlin'"
        ) from None
    return tz
