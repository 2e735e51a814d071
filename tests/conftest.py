"""Shared fixtures: a real sandbox server on 127.0.0.1 per test, and a factory for custom ones.

Helpers (clocks, waits, client builders, fakes) live in the ``tests._support`` package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from autotask_magic.sandbox import Sandbox
from tests._support.tally import TALLY


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh demo-size sandbox (2,000 tickets, seed 1), stopped after the test."""
    with Sandbox() as sb:
        yield sb


class SandboxFactory:
    """``factory(**Sandbox kwargs)`` -> a started sandbox, remembered in ``made`` so teardown can stop it."""

    def __init__(self) -> None:
        self.made: list[Sandbox] = []

    def __call__(self, **kwargs: Any) -> Sandbox:
        sb = Sandbox(**kwargs).start()
        self.made.append(sb)
        return sb


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """``sandbox_factory(**Sandbox kwargs)`` -> a started sandbox; every one is stopped at teardown."""
    factory = SandboxFactory()
    yield factory
    for sb in factory.made:
        sb.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the reliability figures (faults, requests, records verified, leaks) when any test counted some."""
    TALLY.summary(terminalreporter)
