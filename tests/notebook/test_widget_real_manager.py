"""The panel over the real CredentialManager and the sandbox (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json

from autotask_magic import AutotaskClient
from autotask_magic.notebook._widget import StatusPanel
from autotask_magic.sandbox import Sandbox
from tests._support.threads import wait_for


def test_panel_follows_the_real_manager() -> None:
    with Sandbox(tickets=50, token_ttl=1.0, seed=5) as sb, AutotaskClient.from_env(sb.env("oauth")) as client:
        manager = client.manager
        panel = StatusPanel(manager, tick_seconds=0.05)
        try:
            client.count("Tickets")
            wait_for(lambda: panel.view.refresh_text.startswith("1 refresh"), "first token shown")
            wait_for(lambda: panel.view.budget_text.startswith("1 / 600"), "request counted")
            assert panel.view.host_text == sb.root_url.removeprefix("http://")
            # No request, no event: the ticker alone notices the 1 s token running out.
            wait_for(lambda: panel.view.state_key == "EXPIRED", "expiry noticed by the ticker")
            panel.refresh_button.click()
            assert panel.view.state_key in ("VALID", "EXPIRING")
            assert panel.view.refresh_text.startswith("2 refreshes")
            panel.logout_button.click()
            assert panel.view.state_key == "LOGGED_OUT"
            wait_for(lambda: not panel.ticking, "ticker stopped")
            state = json.dumps([w.get_state() for w in [panel, *panel._descendants()]], default=str)
            for secret in [sb.client_id, sb.client_secret, *sb.issued_tokens]:
                assert secret not in state and secret not in repr(panel)
        finally:
            panel.close()
