"""Fixtures for the widget unit tests (the fake manager lives in widget_fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from widget_fakes import FakeClock, FakeManager


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def manager(clock: FakeClock) -> FakeManager:
    return FakeManager(clock)


@pytest.fixture
def panel_factory() -> Iterator[Callable[..., Any]]:
    """Build panels that are always closed at the end (their ticker threads stop)."""
    from autotask_magic.notebook._widget import StatusPanel

    made: list[StatusPanel] = []

    def make(manager: Any, **kwargs: Any) -> StatusPanel:
        panel = StatusPanel(manager, **kwargs)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()
