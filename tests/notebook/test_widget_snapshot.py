"""The status panel's static HTML snapshot (issue 14, point 24).

The panel's output carries ``text/html`` beside the widget view, so nbconvert's offline HTML, GitHub and
any viewer without widget JavaScript show the panel instead of a blank. The snapshot is built from the
masked view only: no secret, token or full client id, and every text HTML-escaped.
"""

from __future__ import annotations

import json
from typing import Any

from autotask_magic.client._manager import TokenState
from autotask_magic.notebook._widget import render_html, render_view
from tests._support.fake_manager import CLIENT_ID, CLIENT_SECRET, TOKEN, FakeManager
from tests._support.shell import Shown, run

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_bundle_has_the_widget_view_and_a_snapshot(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=0.02)
    bundle = panel._repr_mimebundle_()
    assert WIDGET_VIEW in bundle  # the live panel where widgets work
    snapshot = bundle["text/html"]
    assert 'class="autotask-status-snapshot"' in snapshot and 'data-state="VALID"' in snapshot
    view = panel.view
    for text in (view.state_text, view.mode_text, view.identity, view.host_text, view.countdown_text):
        assert text in snapshot
    assert "Refreshes" in snapshot and "Requests" in snapshot
    assert "<table" not in snapshot  # a notebook's tables are its DataFrames


def test_snapshot_follows_the_state(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=0.02)
    manager.set(state=TokenState.ERROR, last_error="token request refused")
    html = panel._repr_mimebundle_()["text/html"]
    assert 'data-state="ERROR"' in html and "token request refused" in html
    manager.logout()
    assert 'data-state="LOGGED_OUT"' in panel._repr_mimebundle_()["text/html"]


def test_snapshot_escapes_every_text(manager: FakeManager, clock: Any) -> None:
    manager.set(state=TokenState.ERROR, last_error='<script>alert("x")</script> & <b>')
    html = render_html(render_view(manager.status(), clock.now()))
    assert "<script>" not in html and "<b>" not in html.replace("<b>Autotask</b>", "").replace(
        '<b style="display:inline-block;width:7.5em">', ""
    )
    assert "&lt;script&gt;" in html


def test_no_secret_token_or_client_id_in_the_snapshot(manager: FakeManager, panel_factory: Any) -> None:
    panel = panel_factory(manager, tick_seconds=0.02)
    manager.refresh()
    manager.set(identity=CLIENT_ID)  # a manager that forgot to mask: the view masks again
    html = json.dumps(panel._repr_mimebundle_())
    for secret in (CLIENT_ID, CLIENT_SECRET, TOKEN, manager.token):
        assert secret not in html


def test_the_kernel_sends_the_snapshot_after_a_sandbox_login(ip: Any, magic: Any) -> None:
    """Through IPython's display formatter, as the kernel publishes it, with the real manager."""
    from autotask_magic.notebook import _widget

    shown = Shown()
    magic._display = shown.append
    magic._widget_factory = _widget.status_panel  # what a kernel uses; a bare shell shows a text line
    assert run(ip, "%autotask_login --sandbox --tickets 30").success
    assert run(ip, "%autotask query Tickets --count").success
    panels = [x for x in shown if type(x).__name__ == "StatusPanel"]
    assert panels, "the login showed no status panel"
    data, _ = ip.display_formatter.format(panels[-1])
    assert WIDGET_VIEW in data and "text/html" in data
    html = data["text/html"]
    assert 'data-state="VALID"' in html and "OAuth · sandbox" in html
    sb = magic.sandbox
    assert sb.issued_tokens, "the shell logged in"
    everything = json.dumps(data)
    for secret in [sb.client_id, sb.client_secret, sb.secret, sb.integration_code, *sb.issued_tokens]:
        assert secret not in everything


def test_snapshot_shows_the_same_compact_line_as_the_live_panel(manager: FakeManager, panel_factory: Any) -> None:
    from autotask_magic.notebook._panel_view import compact_html

    panel = panel_factory(manager, tick_seconds=0.02)
    panel.update()
    line = compact_html(panel.view)
    assert panel._state.value == line  # the live widget's one line
    assert f"<summary>{line}</summary>" in render_html(panel.view)  # the snapshot's, details on a click
