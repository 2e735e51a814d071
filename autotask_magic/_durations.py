"""Durations as people type them: ``500ms``, ``0.5s``, ``2s``, or ``2`` (a bare number is seconds).

One meaning for every duration option — ``%autotask_login --sandbox --token-ttl/--latency`` and
``python -m autotask_magic.sandbox --token-ttl/--latency`` — so ``--latency 0.5`` never means
half a millisecond in one place and half a second in another.
"""

from __future__ import annotations

import re

__all__ = ["MAX_LATENCY_S", "parse_duration", "parse_latency_ms"]

#: A per-answer latency above this is almost certainly milliseconds typed without a unit.
MAX_LATENCY_S = 10.0

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError (one line, with an example) when it is not a duration."""
    m = _DURATION.fullmatch(text.strip())
    if not m:
        raise ValueError(f"expected a duration such as 500ms, 0.5s or 2s, got {text!r}")
    value = float(m.group(1))
    return value / 1000 if (m.group(2) or "s").lower() == "ms" else value


def parse_latency_ms(text: str) -> int:
    """A per-answer latency in whole milliseconds, refusing values over :data:`MAX_LATENCY_S`."""
    seconds = parse_duration(text)
    if seconds > MAX_LATENCY_S:
        raise ValueError(
            f"latency {seconds:g}s is more than {MAX_LATENCY_S:g}s per answer; "
            f"write {seconds:g}ms for milliseconds (a bare number is seconds)"
        )
    return round(seconds * 1000)
