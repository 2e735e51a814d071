"""Shared fixtures: a real sandbox server on 127.0.0.1 per test, and a factory for custom ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from autotask_magic.sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh demo-size sandbox (2,000 tickets, seed 1), stopped after the test."""
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """``sandbox_factory(**Sandbox kwargs)`` -> a started sandbox; every one is stopped at teardown."""
    made: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        sb = Sandbox(**kwargs).start()
        made.append(sb)
        return sb

    yield make
    for sb in made:
        sb.stop()
