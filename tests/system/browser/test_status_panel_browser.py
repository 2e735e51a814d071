"""REAL BROWSER: the status panel lives in JupyterLab (Chromium via Playwright) and updates itself.

The kernel logs in with ``%autotask_login --sandbox --token-ttl 4`` (the built-in sandbox, started in the
kernel; tokens live 4 s), then runs a long blocking pull (8 pages of 500 with
latency). Without re-running any cell, the browser must see the refresh count and the request count
rise and the countdown move, during the pull and after it; then Log out is clicked and the state changes.
The panel is one compact line that expands to its details on a click (issue 16); the pull's progress bar
has the real total (4,000) mid-pull; after the logout, the saved notebook's panel says "as of …, logged out".
Observations and screenshots go to artifacts/ (ignored); ``.ci/refresh_readme_image.py`` copies
artifacts/readme-status-panel.png to the README's image (a script, not CI).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
README_SHOT_NAME = "readme-status-panel.png"  # in artifacts/; .ci/refresh_readme_image.py copies it


def _int(text: str) -> int:
    match = re.match(r"\s*(\d+)", text)
    return int(match.group(1)) if match else -1


T = TypeVar("T")


def _settled(action: Callable[[], T], tries: int = 10) -> T:
    """``action()``, tried again (bounded) while the element it reads is being replaced in the DOM."""
    for attempt in range(tries):
        try:
            return action()
        except Exception as exc:  # playwright's Error: "Element is not attached to the DOM" and friends
            if attempt == tries - 1 or ("attached" not in str(exc) and "detached" not in str(exc)):
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


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


def _progress(page: Any) -> dict[str, Any] | None:
    """The pull's progress bar as drawn: the label's records and total, and the bar's width in percent."""
    label = page.locator(NOTEBOOK_PANEL).locator(".autotask-progress-label")
    bar = page.locator(NOTEBOOK_PANEL).locator(".autotask-progress-bar .progress-bar")
    try:
        if not label.count() or not bar.count():
            return None
        text = str(label.first.inner_text(timeout=1000))
        style = str(bar.first.get_attribute("style", timeout=1000) or "")
    except Exception:  # the bar was removed between the two reads: the pull ended
        return None
    match = re.search(r"([\d,]+) of ([\d,]+) records", text)
    width = re.search(r"width:\s*([\d.]+)%", style)
    if match is None or width is None:
        return None
    return {
        "text": text,
        "records": int(match.group(1).replace(",", "")),
        "total": int(match.group(2).replace(",", "")),
        "width": float(width.group(1)),
    }


def _saved_outputs(lab_server: Any, name: str, needle: str) -> str:
    """The text/plain outputs of the saved notebook once one holds ``needle`` (bounded wait for the save)."""
    text = ""
    for _ in range(60):
        model = lab_server.api("GET", f"/api/contents/{name}?content=1")
        outputs = [o for c in model["content"]["cells"] for o in c.get("outputs", [])]
        text = "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
        if needle in text:
            return text
        time.sleep(0.25)
    return text


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


def _readme_screenshot(page: Any, artifacts: Path) -> None:
    """The README image: only the cells a user writes. The test's own last cell (reading the sandbox's
    token count in the kernel) is hidden for the shot and shown again right after."""
    internal = page.locator(NOTEBOOK_PANEL).locator(".jp-Cell").filter(has_text="sb.stats.token_requests")
    assert internal.count() == 1  # the notebook changed: keep the README image free of test internals
    internal.evaluate_all("cells => cells.forEach(c => { c.style.display = 'none'; })")
    try:
        page.screenshot(path=str(artifacts / README_SHOT_NAME))
    finally:
        internal.evaluate_all("cells => cells.forEach(c => { c.style.display = ''; })")


def open_and_run(page: Any, lab_server: Any, name: str) -> None:
    """Open the notebook ``name`` (already in the server's root) and run all its cells."""
    page.goto(lab_server.lab_url(name))
    _run_all(page)


def test_status_panel_updates_itself_in_jupyterlab(
    lab_page: Any, lab_server: Any, put_notebook: Any, artifacts: Path
) -> None:
    page = lab_page
    name = put_notebook("status_panel_live.ipynb")
    try:
        open_and_run(page, lab_server, name)
        panel = Panel(page)
        panel.root.wait_for(state="visible", timeout=60_000)
        page.locator(NOTEBOOK_PANEL).locator("table.dataframe").first.wait_for(state="visible", timeout=60_000)
        assert panel.text("mode") == "OAuth · sandbox"  # the label of %autotask_login --sandbox
        assert re.fullmatch(r"127\.0\.0\.1:\d+", panel.text("host")), panel.text("host")
        identity = panel.text("identity")
        assert "…" in identity and len(identity) <= 12  # masked; the sandbox's client id is longer

        # The long pull blocks the kernel; watch the panel change on its own while it runs, and the
        # progress bar: its maximum is the real total (one query/count went out with page 2).
        busy: list[dict[str, Any]] = []
        progress: list[dict[str, Any]] = []
        shot_taken = False
        for _ in range(600):  # bounded: at most ~2 min of sampling, normally ~8 s
            sample = panel.sample()
            if sample["kernel"] != "busy" and "PULLED" in page.locator(NOTEBOOK_PANEL).inner_text():
                break
            if sample["kernel"] == "busy":
                busy.append(sample)
                bar = _progress(page)
                if bar is not None:
                    progress.append(bar)
                    if (
                        0 < bar["records"] < 4000
                        and bar["total"] == 4000
                        and not (artifacts / "progress-mid-pull.png").exists()
                    ):
                        page.locator(NOTEBOOK_PANEL).locator(".autotask-progress-bar").first.locator(
                            "xpath=.."
                        ).screenshot(path=str(artifacts / "progress-mid-pull.png"))
                if sample["state"] == "VALID" and not shot_taken:
                    shot_taken = True
                    _readme_screenshot(page, artifacts)
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
        panel.root.screenshot(path=str(artifacts / "status-panel.png"))  # the compact line

        # One line until clicked; "details" shows the rows and buttons, a second click hides them.
        details = panel.root.locator(".autotask-status-details").first
        compact_height = panel.root.bounding_box()["height"]
        assert not details.is_visible() and compact_height < 60, compact_height
        # The 4 s token may run out while idle (nothing refreshes it then): the line says whichever is
        # true, matching the panel's own state at that moment.
        state_line, state_name = _settled(lambda: (panel.text("state"), panel.state()))
        assert "OAuth · sandbox" in state_line, state_line
        expected = "expired" if state_name == "EXPIRED" else "expires in"
        assert state_name in {"VALID", "EXPIRING", "EXPIRED"} and expected in state_line, (state_name, state_line)
        toggle = panel.root.locator(".autotask-status-toggle").first
        toggle.click()
        details.wait_for(state="visible")
        panel.root.screenshot(path=str(artifacts / "status-panel-expanded.png"))
        expanded_height = panel.root.bounding_box()["height"]
        toggle.click()
        details.wait_for(state="hidden")
        toggle.click()
        details.wait_for(state="visible")

        page.locator(NOTEBOOK_PANEL).locator("button.autotask-status-logout").first.click()
        page.wait_for_function(
            "sel => document.querySelector(sel)?.getAttribute('data-state') === 'LOGGED_OUT'",
            arg=f"{NOTEBOOK_PANEL} .autotask-status-panel .autotask-status-state-text",
            timeout=30_000,
        )
        # The logout also rewrites the panel's output (its saved snapshot): the element may be replaced
        # while it is read, so read and shoot the panel as it is once that has settled.
        logged_out, stale = _settled(lambda: (panel.sample(), panel.text("state")))
        _settled(lambda: panel.root.screenshot(path=str(artifacts / "status-panel-logged-out.png")))
        # Saved, the notebook keeps a panel that says it is no longer live, and since when.
        page.keyboard.press("Control+s")
        saved = _saved_outputs(lab_server, name, "as of ")
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
        "stale_text": stale,
        "saved_panel_text": saved,
        "compact_height": compact_height,
        "expanded_height": expanded_height,
        "progress_samples": progress,
        "sandbox_token_requests_after_pull": kernel_tokens,
    }
    (artifacts / "status-panel-observations.json").write_text(json.dumps(observations, indent=2))

    # While the cell blocked the kernel the browser saw the panel change without any cell re-run.
    assert len(observations["busy_countdowns"]) >= 2, observations
    assert max(observations["busy_refreshes"]) > min(observations["busy_refreshes"]), observations
    assert max(observations["busy_requests"]) > min(observations["busy_requests"]), observations
    assert len(set(observations["idle_countdowns"])) >= 2, observations
    assert logged_out["state"] == "LOGGED_OUT" and logged_out["countdown"] == "", observations
    assert page.locator(NOTEBOOK_PANEL).locator("button.autotask-status-logout").first.is_disabled()
    assert kernel_tokens >= 2, observations  # the first token and at least one refresh during the pull
    # Compact until clicked, taller with the details.
    assert observations["expanded_height"] > 2 * observations["compact_height"], observations
    # The logged-out panel says it is no longer live and as of when, live and in the saved notebook.
    assert re.match(r"Autotask as of \d\d:\d\d:\d\d, logged out", stale), stale
    assert re.search(r"Autotask: as of \d\d:\d\d:\d\d, logged out", saved), saved
    # Mid-pull, the bar's maximum was the real total and its value the records so far (not a full bar).
    mid = [p for p in progress if 0 < p["records"] < 4000 and p["total"] == 4000]
    assert mid, observations
    # The label and the bar are two widgets updated by two messages: a sample may fall between them, so
    # each is within one page (500 of 4,000 = 12.5 %) of its label, and most match it exactly.
    assert all(abs(p["width"] - 100 * p["records"] / 4000) <= 13 for p in mid), mid
    exact = [p for p in mid if abs(p["width"] - 100 * p["records"] / 4000) < 1]
    assert len(exact) * 2 > len(mid), mid
