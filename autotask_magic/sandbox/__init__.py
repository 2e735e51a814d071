"""A faithful local emulator of the Autotask REST API, for tests, notebooks, Binder and benchmarks.

    >>> from autotask_magic.sandbox import Sandbox
    >>> with Sandbox(tickets=2000) as sb:
    ...     print(sb.base_url)

Or standalone: ``python -m autotask_magic.sandbox --port 8080``.
"""

from __future__ import annotations

from ._sandbox import Sandbox
from ._state import Faults, Stats

__all__ = ["Faults", "Sandbox", "Stats"]
