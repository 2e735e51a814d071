"""Reliability and security suite: the session-wide tally and tallied sandboxes.

Every test records what it did into ``tally`` (faults injected, requests made, records verified, leaks
found); the root conftest prints the totals so a CI log shows what the suite actually proved.
The builders these tests share live in ``tests._support`` (clients, tally, servers, threads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from autotask_magic.sandbox import Sandbox
from tests._support.tally import TALLY, Tally


@pytest.fixture(scope="session")
def tally() -> Tally:
    """The session-wide collector."""
    return TALLY


@pytest.fixture
def sbx(tally: Tally, sandbox_factory: Any) -> Iterator[Callable[..., Sandbox]]:
    """``sbx(**Sandbox kwargs)`` -> a started sandbox, tallied at teardown (then stopped by ``sandbox_factory``)."""
    yield sandbox_factory
    for sb in sandbox_factory.made:
        tally.absorb(sb)
