"""The pure view: ManagerStatus + a controllable clock -> texts and colours, through every state."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

from autotask_magic.client._manager import TokenState
from autotask_magic.notebook._widget import render_text, render_view
from tests._support.clock import T0, FakeClock
from tests._support.fake_manager import CLIENT_ID, FakeManager

UTC = T0.tzinfo


def view(manager: FakeManager, clock: FakeClock, tz=UTC):  # type: ignore[no-untyped-def]
    return render_view(manager.status(), clock.now(), tz=tz)


def test_view_follows_an_oauth_token_through_its_life() -> None:
    clock = FakeClock()
    manager = FakeManager(clock, ttl=300)

    v = view(manager, clock)
    assert (v.state_key, v.state_text, v.color) == ("VALID", "valid", "#2e7d32")
    assert v.mode_text == "OAuth · sandbox"
    assert v.host_text == "127.0.0.1:5555"
    assert v.expires_text == "2025-03-01 12:05:00 UTC"
    assert v.countdown_text == "in 5m 00s"
    assert v.refresh_text == "0 refreshes"
    assert v.budget_text == "0 / 600 requests in the last minute"
    assert v.error_text == "none"
    assert v.can_refresh and v.can_logout

    clock.advance(61)  # the countdown moves with the clock alone
    assert view(manager, clock).countdown_text == "in 3m 59s"

    clock.advance(180)  # 59 s left, inside the 60 s refresh margin
    v = view(manager, clock)
    assert (v.state_key, v.state_text) == ("EXPIRING", "expiring soon")
    assert v.color == "#f9a825"

    manager.set(state=TokenState.REFRESHING)
    v = view(manager, clock)
    assert (v.state_key, v.state_text, v.color) == ("REFRESHING", "refreshing", "#1565c0")

    manager.set(state=TokenState.VALID)
    clock.advance(64)  # nobody refreshed: the view notices expiry without an event
    v = view(manager, clock)
    assert (v.state_key, v.state_text, v.color) == ("EXPIRED", "expired", "#c62828")
    assert v.countdown_text == "expired 5s ago"

    manager.refresh()
    clock.advance(12)
    v = view(manager, clock)
    assert v.state_key == "VALID"
    assert v.refresh_text == "1 refresh, last at 12:05:05 (12s ago)"
    assert v.countdown_text == "in 4m 48s"

    manager.set(requests_last_minute=540)
    v = view(manager, clock)
    assert v.budget_text == "540 / 600 requests in the last minute"
    assert v.budget_fraction == 0.9

    manager.set(state=TokenState.ERROR, last_error="token endpoint said:\n  invalid_client  — check the id")
    v = view(manager, clock)
    assert (v.state_key, v.state_text, v.color) == ("ERROR", "error", "#b71c1c")
    assert v.error_text == "token endpoint said: invalid_client — check the id"

    manager.logout()
    v = view(manager, clock)
    assert (v.state_key, v.state_text, v.color) == ("LOGGED_OUT", "logged out", "#757575")
    assert (v.expires_text, v.countdown_text) == ("—", "—")
    assert not v.can_refresh and not v.can_logout


def test_api_user_mode_shows_zone_and_hourly_threshold() -> None:
    clock = FakeClock()
    manager = FakeManager(clock, mode="api_user")
    manager.set(hourly_requests=2500, hourly_threshold=10000, label=None)
    v = view(manager, clock)
    assert v.mode_text == "API user"
    assert (v.host_text, v.zone_text) == ("127.0.0.1:5555", "Sandbox Zone")  # not nested in one text
    assert v.expires_text == "no token expiry" and v.countdown_text == "—"
    assert v.budget_text == "2,500 / 10,000 requests this hour (25%)"
    assert v.budget_fraction == 0.25
    manager.set(hourly_requests=None)
    assert view(manager, clock).budget_text == "? / 10,000 requests this hour"
    manager.set(hourly_threshold=None, requests_last_minute=3)
    assert view(manager, clock).budget_text == "3 / 600 requests in the last minute (hourly threshold unknown)"


def test_expiry_is_shown_in_local_time() -> None:
    clock = FakeClock()
    manager = FakeManager(clock, ttl=3600)
    assert view(manager, clock, tz=ZoneInfo("Europe/Berlin")).expires_text == "2025-03-01 14:00:00 CET"
    assert view(manager, clock, tz=ZoneInfo("America/New_York")).expires_text == "2025-03-01 08:00:00 EST"


def test_api_host_before_discovery_and_long_errors_stay_one_short_line() -> None:
    clock = FakeClock()
    manager = FakeManager(clock)
    manager.set(api_host="", last_error="x" * 1000)
    v = view(manager, clock)
    assert v.host_text == "not discovered yet"
    assert len(v.error_text) == 200 and v.error_text.endswith("…")


def test_an_unmasked_identity_is_masked_again() -> None:
    clock = FakeClock()
    manager = FakeManager(clock)
    manager.set(identity=CLIENT_ID)
    assert view(manager, clock).identity == f"{CLIENT_ID[:4]}…{CLIENT_ID[-4:]}"
    manager.set(identity="short12")
    assert view(manager, clock).identity == "sh…2"  # _redact.mask: the one masking rule


def test_plain_text_rendering() -> None:
    clock = FakeClock()
    manager = FakeManager(clock, ttl=90)
    text = render_text(view(manager, clock))
    assert text.splitlines()[0] == (
        "Autotask: valid · OAuth · sandbox · fake…-zz9 · 127.0.0.1:5555 · expires in 1m 30s · 0/600 per min"
    )
    assert "  expires   : 2025-03-01 12:01:30 UTC" in text and "  countdown : in 1m 30s" in text
    assert "  requests  : 0 / 600 requests in the last minute" in text
    assert CLIENT_ID not in text


def test_view_is_pure() -> None:
    clock = FakeClock()
    status = FakeManager(clock).status()
    assert render_view(status, T0, tz=UTC) == render_view(status, T0, tz=UTC)
    later = dataclasses.replace(status, refresh_count=2)
    assert render_view(later, T0 + timedelta(seconds=1), tz=UTC).refresh_text == "2 refreshes"


def test_a_logged_out_view_has_no_relative_times_that_would_freeze() -> None:
    clock = FakeClock()
    manager = FakeManager(clock)
    manager.refresh()
    clock.advance(12)
    manager.logout()
    v = view(manager, clock)
    assert not v.live and "ago" not in render_text(v) and v.refresh_text.startswith("1 refresh, last at ")
    assert render_text(v).startswith(f"Autotask: as of {v.as_of}, logged out · OAuth")
