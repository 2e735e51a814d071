"""Issue 14: login and configuration options mean one thing and reach the live session.

Durations take units (point 17); ``%config AutotaskMagic.timeout`` applies to the client already logged
in and refuses nonsense (point 6).
"""

from __future__ import annotations

from typing import Any

import pytest

from autotask_magic.notebook import _commands
from tests._support.shell import Shown, run


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("0.5s", 0.5), ("2s", 2.0), ("2", 2.0), ("0.5", 0.5), (".25s", 0.25), ("10MS", 0.01)],
)
def test_durations_take_units_and_a_bare_number_is_seconds(text: str, seconds: float) -> None:
    assert _commands.duration(text) == pytest.approx(seconds)


def test_login_durations_reach_the_sandbox(ip: Any, magic: Any, shown: Shown) -> None:
    result = run(ip, "%autotask_login --sandbox --tickets 20 --token-ttl 1500ms --latency 0.002s")
    assert result.success, result.error_in_exec
    assert magic.sandbox.token_ttl == 1.5 and magic.sandbox.faults.latency_ms == 2


def test_timeout_config_applies_to_the_live_client(ip: Any, magic: Any, shown: Shown) -> None:
    assert run(ip, "%autotask_login --sandbox --tickets 20").success
    assert magic.client.timeout == 30.0
    run(ip, "%config AutotaskMagic.timeout = 5")
    assert magic.client.timeout == 5.0
    assert magic.client._http.timeout.read == 5.0  # what httpx really waits
    run(ip, "%config AutotaskMagic.timeout = -1")  # %config logs the refusal; the value stays
    assert magic.timeout == 5.0 and magic.client.timeout == 5.0


def test_a_refresh_not_yet_needed_never_fails_a_pull(ip: Any, magic: Any, shown: Shown) -> None:
    """Point 10: the client-side token-endpoint limit is full, the token is due for its early refresh
    but still valid: the pull goes on with it instead of failing with "token endpoint limit reached"."""
    import time

    assert run(ip, "%autotask_login --sandbox --tickets 1200 --token-ttl 4s").success
    manager = magic.client.manager
    while manager._token_window.wait_time() == 0:  # fill the 8-per-60-s window the way a long pull would
        manager.refresh()
    time.sleep(2.2)  # past the early-refresh point (half of 4 s), well before expiry
    assert manager.status().expires_at is not None
    result = run(ip, "%autotask query Tickets --fields id,title")
    assert result.success, result.error_in_exec
    assert len(result.result) == 1200
