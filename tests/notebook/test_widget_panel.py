"""The ipywidgets wiring: events and ticks update the panel, buttons call the manager, timers stop."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import ipywidgets as widgets
import pytest

from autotask_magic import AuthenticationError
from autotask_magic.client._manager import TokenState
from autotask_magic.notebook import _widget
from autotask_magic.notebook._widget import StatusPanel, close_all, status_panel
from tests._support.clock import FakeClock
from tests._support.fake_manager import CLIENT_ID, CLIENT_SECRET, TOKEN, FakeManager
from tests._support.threads import wait_for

FAST = 0.02  # tick period for these tests; they wait for conditions, never for durations


def all_widgets(root: widgets.Widget) -> list[widgets.Widget]:
    """Every widget model reachable from ``root`` through trait values (children, layouts, styles)."""
    seen: dict[int, widgets.Widget] = {}
    stack = [root]
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen[id(widget)] = widget
        for name in widget.keys:
            value = getattr(widget, name)
            values = value if isinstance(value, (list, tuple)) else [value]
            stack.extend(v for v in values if isinstance(v, widgets.Widget))
    return list(seen.values())


def saved_state(panel: StatusPanel) -> str:
    return json.dumps([w.get_state() for w in all_widgets(panel)], default=str)


def panel_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "autotask-status-panel" and t.is_alive()]


def test_panel_shows_the_status(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    state = saved_state(panel)
    assert "valid" in panel._state.value and "#2e7d32" in panel._state.value
    assert panel._mode.value == "OAuth · sandbox"
    assert "fake…-zz9" in panel._identity.value
    assert panel._host.value == "127.0.0.1:5555"
    assert panel._countdown.value.startswith("in ")
    assert "0 / 600 requests" in state and "Refresh now" in state and "Log out" in state
    assert panel.ticking


def test_panel_follows_the_manager_through_every_state(
    manager: FakeManager, clock: FakeClock, panel_factory: Any
) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    seen: list[str] = []

    def step(expected: str, **changes: Any) -> None:
        if changes:
            manager.set(**changes)
        wait_for(lambda: panel.view.state_key == expected, expected)
        seen.append(panel.view.state_key)

    step("VALID")
    clock.advance(3600 - 30)  # no event: the ticker notices the margin
    step("EXPIRING")
    step("REFRESHING", state=TokenState.REFRESHING)
    clock.advance(31)  # the refresh hangs past the expiry
    step("EXPIRED", state=TokenState.VALID)
    step("ERROR", state=TokenState.ERROR, last_error="token endpoint: 500 — try again later")
    wait_for(lambda: "try again later" in panel._error.value, "error text")
    manager.refresh()
    step("VALID")
    wait_for(lambda: panel._refreshes.value.startswith("1 refresh, last at"), "refresh count")
    manager.logout()
    step("LOGGED_OUT")
    assert seen == ["VALID", "EXPIRING", "REFRESHING", "EXPIRED", "ERROR", "VALID", "LOGGED_OUT"]
    assert "logged out" in panel._state.value


def test_countdown_ticks_without_events(manager: FakeManager, clock: FakeClock, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    assert panel._countdown.value == "in 1h 00m 00s"
    clock.advance(5)
    wait_for(lambda: panel._countdown.value == "in 59m 55s", "countdown moved")


def test_events_from_other_threads_update_the_panel(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    workers = [threading.Thread(target=manager.set, kwargs={"requests_last_minute": n}) for n in range(1, 21)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    manager.set(requests_last_minute=42)
    wait_for(lambda: panel._budget.value == "42 / 600 requests in the last minute", "budget")
    assert "42/600 per min" in panel._state.value  # the compact line says it once (no bar repeating it)


def test_no_secret_token_or_client_id_reaches_widget_state(
    manager: FakeManager, clock: FakeClock, panel_factory: Any
) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    manager.refresh()
    manager.set(state=TokenState.ERROR, last_error="refused (redacted by the manager)")
    # Even a manager that forgot to mask the identity does not leak the full client id.
    manager.set(identity=CLIENT_ID)
    panel.update()
    blobs = [saved_state(panel), repr(panel), panel.text(), json.dumps(panel._repr_mimebundle_())]
    for blob in blobs:
        for secret in (CLIENT_ID, CLIENT_SECRET, TOKEN, manager.token):
            assert secret not in blob


def test_refresh_button_calls_the_manager(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    panel.refresh_button.click()
    assert manager.calls == ["refresh"]
    assert panel._refreshes.value.startswith("1 refresh, last at")


def test_a_failing_refresh_shows_the_error_and_does_not_raise(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    manager.fail_refresh = AuthenticationError("token request refused", hint="check AUTOTASK_CLIENT_ID")
    panel.refresh_button.click()
    assert manager.calls == ["refresh"]
    assert panel.view.state_key == "ERROR"
    assert "refresh failed (AuthenticationError)" in panel._state.value
    assert "token request refused" in panel._error.value


def test_logout_button_logs_out_and_stops_the_ticker(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    thread = panel._thread
    assert panel.ticking and thread is not None
    panel.logout_button.click()
    assert manager.calls == ["logout"]
    assert panel.view.state_key == "LOGGED_OUT"
    thread.join(timeout=5)
    assert not thread.is_alive() and not panel.ticking
    assert panel.refresh_button.disabled and panel.logout_button.disabled
    # Logging in again on the same manager brings the countdown back.
    manager.set(state=TokenState.VALID, expires_at=manager.clock.now())
    wait_for(lambda: panel.ticking, "ticker restarted")


def test_close_stops_the_ticker_and_unsubscribes(manager: FakeManager) -> None:
    panel = StatusPanel(manager, tick_seconds=FAST)
    thread = panel._thread
    assert manager.subscriber_count == 1 and thread is not None
    panel.close()
    assert not thread.is_alive()
    assert manager.subscriber_count == 0 and panel.closed and not panel.ticking
    assert panel.comm is None and all(w.comm is None for w in all_widgets(panel))
    redraws = panel.redraws
    manager.set(requests_last_minute=7)
    assert panel.redraws == redraws
    assert repr(panel).startswith("Autotask: valid")  # the plain text still works


def test_status_panel_is_one_live_panel_per_kernel_and_close_all_stops_it(clock: FakeClock) -> None:
    first, second = FakeManager(clock), FakeManager(clock)
    try:
        panel = status_panel(first)
        assert status_panel(first) is panel
        assert status_panel(second) is panel  # a re-login: the same panel, following the new manager
        assert len(panel_threads()) == 1
    finally:
        close_all()
    assert panel.closed
    assert panel_threads() == []
    assert _widget._panel is None
    fresh = status_panel(first)  # after %unload_ext / %load_ext a new panel is made
    try:
        assert fresh is not panel and fresh.ticking
    finally:
        close_all()


def test_relogin_points_the_panel_at_the_new_manager(clock: FakeClock) -> None:
    first = FakeManager(clock)
    second = FakeManager(clock, mode="api_user")
    try:
        panel = status_panel(first)
        first.logout()
        wait_for(lambda: panel.view.state_key == "LOGGED_OUT" and not panel.ticking, "old session logged out")
        assert first.subscriber_count == 1

        assert status_panel(second) is panel
        assert panel.manager is second
        assert first.subscriber_count == 0 and second.subscriber_count == 1  # nothing left on the old one
        assert panel.view.state_key == "VALID" and panel.ticking  # live again, no stale logged-out view
        assert panel._mode.value.startswith("API user")

        redraws = panel.redraws
        first.set(refresh_count=9)  # the old manager no longer reaches the panel
        second.set(last_error="event 42")  # an API user has no refresh row: the error row shows the event
        wait_for(lambda: "42" in panel._error.value, "the new manager's event drawn")
        assert panel._error.value == "event 42" and panel.redraws > redraws
        assert panel._rows["refreshes"].layout.display == "none" and panel.refresh_button.layout.display == "none"
    finally:
        close_all()
    assert second.subscriber_count == 0 and panel_threads() == []


def test_plain_text_fallbacks(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    text = bundle["text/plain"]
    assert len(text) > 110 and "…" not in text[-5:]  # not truncated like ipywidgets' default
    assert text == repr(panel)
    assert text.splitlines()[0].startswith(
        "Autotask: valid · OAuth · sandbox · fake…-zz9 · 127.0.0.1:5555 · expires in "
    )

    from IPython.lib.pretty import pretty

    assert pretty(panel) == text


def test_a_status_that_fails_to_read_does_not_break_the_repr(
    manager: FakeManager, panel_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)

    def broken() -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(manager, "status", broken)
    assert repr(panel).startswith("Autotask:")


# ------------------------------------------------------------------------------ compact panel (issue 16)


def test_compact_line_expands_to_details_and_buttons(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    assert not panel.expanded and panel.details.layout.display == "none"  # one line until clicked
    assert "expires in " in panel._state.value and "0/600 per min" in panel._state.value
    panel.toggle.value = True  # what a click on "details" does
    assert panel.expanded and panel.details.layout.display == ""
    shown = [css for css, box in panel._rows.items() if box.layout.display != "none"]
    assert shown == ["mode", "identity", "host", "expires", "countdown", "refreshes", "budget", "asof"]
    panel.toggle.value = False
    assert panel.details.layout.display == "none"


def test_api_user_panel_shows_only_what_applies(clock: FakeClock, panel_factory: Any) -> None:
    manager = FakeManager(clock, mode="api_user")
    panel = panel_factory(manager, tick_seconds=FAST)
    shown = [css for css, box in panel._rows.items() if box.layout.display != "none"]
    assert "expires" not in shown and "countdown" not in shown and "refreshes" not in shown
    assert panel.refresh_button.layout.display == "none"  # no token to refresh
    assert "expires" not in panel.view.compact and "API user" in panel.view.compact


def test_a_logged_out_panel_says_as_of_when(manager: FakeManager, clock: FakeClock, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    manager.logout()
    wait_for(lambda: panel.view.state_key == "LOGGED_OUT", "logged out")
    stamp = panel.view.as_of
    assert re.fullmatch(r"\d\d:\d\d:\d\d", stamp)
    assert f"as of {stamp}, logged out" in panel._state.value  # what a saved notebook keeps
    assert panel._asof.value == f"{stamp} (no longer live)"


def test_showing_the_panel_again_turns_the_earlier_display_into_one_line(
    manager: FakeManager, panel_factory: Any
) -> None:
    panel = panel_factory(manager, tick_seconds=FAST)
    handles: list[Any] = []

    class Handle:
        def __init__(self) -> None:
            self.updates: list[Any] = []

        def update(self, obj: Any) -> None:
            self.updates.append(obj)

    def display(obj: Any, display_id: bool = False) -> Any:
        assert obj is panel and display_id
        handles.append(Handle())
        return handles[-1]

    panel.show(display)
    panel.show(display)
    assert len(handles) == 2 and handles[1].updates == []
    (moved,) = handles[0].updates
    text = moved._repr_mimebundle_()["text/plain"]
    assert text.startswith("Autotask status as of ") and text.endswith("(the live panel is in a later cell)")
