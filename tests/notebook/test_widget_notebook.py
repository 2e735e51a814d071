"""Headless: a real kernel (nbclient) logs into the sandbox and shows the panel; later cells check it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent / "notebooks" / "status_panel.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A sandbox in this process; its AUTOTASK_* variables reach the kernel through the environment."""
    from autotask_magic.sandbox import Sandbox

    with Sandbox(tickets=200, seed=3) as sb:
        for name, value in sb.env(mode="oauth").items():
            monkeypatch.setenv(name, value)
        yield sb


def outputs(cell: Any) -> list[dict[str, Any]]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") in ("display_data", "execute_result")]


@pytest.mark.notebook
def test_notebook_shows_the_live_panel(sandbox_env: Any, tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}, store_widget_state=True
    ).execute()

    login, status, query, checks, logout = (c for c in nb.cells if c.cell_type == "code")
    # One panel per notebook (issue 16): %autotask_status shows the live panel, and the login cell's
    # display of it became one line saying as of when (not a second, identical panel).
    (moved,) = outputs(login)
    assert WIDGET_VIEW not in moved["data"]
    assert re.match(r"Autotask status as of \d\d:\d\d:\d\d: valid · OAuth", moved["data"]["text/plain"]), moved
    assert "(the live panel is in a later cell)" in moved["data"]["text/plain"]
    panels = [o for o in outputs(status) if WIDGET_VIEW in o["data"]]
    assert len(panels) == 1, outputs(status)
    plain = panels[0]["data"]["text/plain"]
    assert "requests in the last minute" in plain  # the details in the text form
    # Beside the widget view, a static snapshot for viewers without widget JavaScript (issue 14, point 24);
    # the last cell logged out, which rewrote it (below).
    assert 'class="autotask-status-snapshot" data-state="LOGGED_OUT"' in panels[0]["data"]["text/html"]
    model_id = panels[0]["data"][WIDGET_VIEW]["model_id"]
    assert any("text/html" in o["data"] and "dataframe" in o["data"]["text/html"] for o in outputs(query))
    text = "".join(o.get("text", "") for o in checks.outputs if o["output_type"] == "stream")
    assert f"KERNEL-CHECKS-OK {model_id}" in text
    # The logout rewrote the panel's output: a saved notebook's snapshot says it is no longer live, and when.
    (final,) = [o for o in outputs(status) if WIDGET_VIEW in o["data"]]
    assert re.search(r"as of \d\d:\d\d:\d\d, logged out", final["data"]["text/html"]), final["data"]["text/html"]
    assert re.match(r"Autotask: as of \d\d:\d\d:\d\d, logged out", final["data"]["text/plain"])
    assert "LOGOUT-CHECKS-OK" in "".join(o.get("text", "") for o in logout.outputs if o["output_type"] == "stream")

    # The saved notebook (outputs and widget state) holds no secret, token or full client id.
    saved = json.dumps(nb)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    assert model_id in state, "the panel's widget state is saved into the notebook"
    assert sandbox_env.issued_tokens, "the kernel logged in"
    for secret in [sandbox_env.client_secret, sandbox_env.client_id, *sandbox_env.issued_tokens]:
        assert secret not in saved
