"""REAL BROWSER: the status panel lives in JupyterLab (Chromium via Playwright) and updates itself.

The kernel logs in with ``%autotask_login --sandbox --token-ttl 4`` (the built-in sandbox, started in the
kernel; tokens live 4 s), then runs a long blocking pull (8 pages of 500 with
latency). Without re-running any cell, the browser must see the refresh count and the request count
rise and the countdown move, during the pull and after it; then Log out is clicked and the state changes.
Observations and panel screenshots go to artifacts/; the README screenshot (committed) to
notebooks/images/jupyterlab-status-panel.png, written when missing or with AUTOTASK_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
README_SHOT = Path(__file__).resolve().parents[3] / "notebooks" / "images" / "jupyterlab-status-panel.png"


def _int(text: str) -> int:
    match = re.match(r"\s*(\d+)", text)
    return int(match.group(1)) if match else -1


class Panel:
    """Reads the panel's texts in the visible notebook."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.notebook = page.locator(NOTEBOOK_PANEL)
        self.root = self.notebook.locator(".autotask-status-panel").first

    def text(self, part: str) -> str:
        return str(self.root.locator(f".autotask-status-{part}").first.inner_text()).strip()

    def state(self) -> str:
        return str(self.root.locator(".autotask-status-state-text").first.get_attribute("data-state"))

    def kernel(self) -> str:
        return str(self.notebook.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute("data-status"))

    def sample(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel(),
            "state": self.state(),
            "countdown": self.text("countdown"),
            "refreshes": _int(self.text("refreshes")),
            "requests": _int(self.text("budget")),
        }


def _run_all(page: Any) -> None:
    # Imported here: without playwright the browser_available fixture skips/fails with a reason,
    # instead of a collection error.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.locator(NOTEBOOK_PANEL).locator(".jp-Notebook-ExecutionIndicator").first.wait_for(timeout=60_000)
    dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
    try:  # fallback for the dialog; the settings override normally prevents it
        dialog.wait_for(state="visible", timeout=3_000)
        dialog.locator(".jp-mod-accept").first.click()
    except PlaywrightTimeout:
        pass
    page.locator(NOTEBOOK_PANEL).locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def _readme_screenshot(page: Any) -> None:
    """The README image: only the cells a user writes. The test's own last cell (reading the sandbox's
    token count in the kernel) is hidden for the shot and shown again right after."""
    internal = page.locator(NOTEBOOK_PANEL).locator(".jp-Cell").filter(has_text="sb.stats.token_requests")
    assert internal.count() == 1  # the notebook changed: keep the README image free of test internals
    internal.evaluate_all("cells => cells.forEach(c => { c.style.display = 'none'; })")
    try:
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SHOT))
    finally:
        internal.evaluate_all("cells => cells.forEach(c => { c.style.display = ''; })")


def test_status_panel_updates_itself_in_jupyterlab(
    lab_page: Any, lab_server: Any, put_notebook: Any, artifacts: Path
) -> None:
    page = lab_page
    name = put_notebook("status_panel_live.ipynb")
    page.goto(lab_server.lab_url(name))
    try:
        _run_all(page)
        panel = Panel(page)
        panel.root.wait_for(state="visible", timeout=60_000)
        page.locator(NOTEBOOK_PANEL).locator("table.dataframe").first.wait_for(state="visible", timeout=60_000)
        assert panel.text("mode") == "OAuth · sandbox"  # the label of %autotask_login --sandbox
        assert re.fullmatch(r"127\.0\.0\.1:\d+", panel.text("host")), panel.text("host")
        identity = panel.text("identity")
        assert "…" in identity and len(identity) <= 12  # masked; the sandbox's client id is longer

        # The long pull blocks the kernel; watch the panel change on its own while it runs.
        busy: list[dict[str, Any]] = []
        shot_taken = False  # the README image is committed: (re)written only when missing or asked for
        for _ in range(600):  # bounded: at most ~2 min of sampling, normally ~8 s
            sample = panel.sample()
            if sample["kernel"] != "busy" and "PULLED" in page.locator(NOTEBOOK_PANEL).inner_text():
                break
            if sample["kernel"] == "busy":
                busy.append(sample)
                if (
                    sample["state"] == "VALID"
                    and not shot_taken
                    and (not README_SHOT.exists() or os.environ.get("AUTOTASK_UPDATE_SCREENSHOTS") == "1")
                ):
                    shot_taken = True
                    _readme_screenshot(page)
            time.sleep(0.2)
        else:
            pytest.fail("the long pull did not finish")
        pulled = re.search(r"PULLED (\d+) TOKENS (\d+) TTL ([\d.]+)", page.locator(NOTEBOOK_PANEL).inner_text())
        assert pulled is not None and pulled.group(1) == "4000" and float(pulled.group(3)) == 4.0
        kernel_tokens = int(pulled.group(2))  # counted in the kernel, where the sandbox runs

        # Idle again: the countdown still moves with no cell running and no request made.
        idle: list[dict[str, Any]] = []
        for _ in range(40):  # bounded; stops as soon as the countdown has moved twice
            idle.append(panel.sample())
            if len({s["countdown"] for s in idle}) >= 3:
                break
            time.sleep(0.25)
        panel.root.screenshot(path=str(artifacts / "status-panel.png"))

        page.locator(NOTEBOOK_PANEL).locator("button.autotask-status-logout").first.click()
        page.wait_for_function(
            "sel => document.querySelector(sel)?.getAttribute('data-state') === 'LOGGED_OUT'",
            arg=f"{NOTEBOOK_PANEL} .autotask-status-panel .autotask-status-state-text",
            timeout=30_000,
        )
        logged_out = panel.sample()
        panel.root.screenshot(path=str(artifacts / "status-panel-logged-out.png"))
    except Exception:
        page.screenshot(path=str(artifacts / "status-panel-failure.png"))
        raise

    observations = {
        "busy_samples": len(busy),
        "busy_countdowns": sorted({s["countdown"] for s in busy}),
        "busy_refreshes": sorted({s["refreshes"] for s in busy}),
        "busy_requests": sorted({s["requests"] for s in busy}),
        "busy_states": sorted({s["state"] for s in busy}),
        "idle_countdowns": [s["countdown"] for s in idle],
        "after_logout": logged_out,
        "sandbox_token_requests_after_pull": kernel_tokens,
    }
    (artifacts / "status-panel-observations.json").write_text(json.dumps(observations, indent=2))

    # While the cell blocked the kernel the browser saw the panel change without any cell re-run.
    assert len(observations["busy_countdowns"]) >= 2, observations
    assert max(observations["busy_refreshes"]) > min(observations["busy_refreshes"]), observations
    assert max(observations["busy_requests"]) > min(observations["busy_requests"]), observations
    assert len(set(observations["idle_countdowns"])) >= 2, observations
    assert logged_out["state"] == "LOGGED_OUT" and logged_out["countdown"] == "—", observations
    assert page.locator(NOTEBOOK_PANEL).locator("button.autotask-status-logout").first.is_disabled()
    assert kernel_tokens >= 2, observations  # the first token and at least one refresh during the pull
