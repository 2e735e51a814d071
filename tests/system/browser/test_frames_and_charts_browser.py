"""REAL BROWSER: what a person sees of frames and charts in JupyterLab (issue 16).

A frame with dates and labels reads on one line per row (whole-second dates, labels after the fields),
and notebook 02 runs green with its charts drawn. Screenshots go to artifacts/ (ignored):
frame-dates-labels.png and notebook02-chart-<n>.png.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.system.browser.test_status_panel_browser import NOTEBOOK_PANEL, open_and_run

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[3]


def _put_as(lab_server: Any, source: str | Path, name: str) -> str:
    """Copy a notebook (a name in ./notebooks, or a path) into the server's root as ``name``, with its own
    kernel: a notebook path another test already opened would share that test's kernel."""
    path = Path(source) if isinstance(source, Path) else Path(__file__).parent / "notebooks" / source
    shutil.copy(path, lab_server.root / name)
    lab_server.api(
        "POST", "/api/sessions", {"path": name, "name": name, "type": "notebook", "kernel": {"name": "python3"}}
    )
    return name


def _wait_idle_after_run(page: Any, marker: str, timeout_ms: int = 240_000) -> None:
    """Wait until the notebook's text shows ``marker`` (its last cell ran)."""
    page.wait_for_function(
        "([sel, marker]) => (document.querySelector(sel)?.innerText || '').includes(marker)",
        arg=[NOTEBOOK_PANEL, marker],
        timeout=timeout_ms,
    )


def test_frame_with_dates_and_labels_reads_on_one_line(lab_page: Any, lab_server: Any, artifacts: Path) -> None:
    page = lab_page
    try:
        open_and_run(page, lab_server, _put_as(lab_server, "status_panel_live.ipynb", "frame_dates_labels.ipynb"))
        table = page.locator(NOTEBOOK_PANEL).locator("table.dataframe").first
        table.wait_for(state="visible", timeout=60_000)
        headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        table.screenshot(path=str(artifacts / "frame-dates-labels.png"))
        dates = [d.strip() for d in table.locator("tbody tr td:nth-child(7)").all_inner_texts()]
        rows = table.locator("tbody tr")
        heights = [rows.nth(i).bounding_box()["height"] for i in range(rows.count())]
        first_cell = table.locator("tbody td").first.bounding_box()["height"]
    finally:
        page.keyboard.press("Escape")
    # The labels follow the requested fields; the ids stay in their own columns.
    assert headers[1:] == [
        "id",
        "ticketNumber",
        "title",
        "status",
        "priority",
        "createDate",
        "status_label",
        "priority_label",
    ], headers
    assert dates and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00", d) for d in dates), dates
    assert max(heights) < 2 * first_cell + 1, heights  # no row wraps onto a second line


def test_notebook_02_runs_and_draws_its_charts(lab_page: Any, lab_server: Any, artifacts: Path) -> None:
    page = lab_page
    name = _put_as(lab_server, REPO / "notebooks" / "02-ticket-analysis.ipynb", "02-ticket-analysis.ipynb")
    open_and_run(page, lab_server, name)
    _wait_idle_after_run(page, "Autotask: logged out; token and credentials forgotten")
    images = page.locator(NOTEBOOK_PANEL).locator(".jp-OutputArea-output img")
    assert images.count() >= 5, images.count()
    errors = page.locator(NOTEBOOK_PANEL).locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        images.nth(i).screenshot(path=str(artifacts / f"notebook02-chart-{i + 1}.png"))
    text = "\n".join(page.locator(NOTEBOOK_PANEL).locator(".jp-OutputArea").all_inner_texts())  # outputs only
    assert "22.0" not in text and "NaN" not in text and "p90_h" not in text and "within_due_pct" not in text
    assert re.search(r"\d+ %", text)  # shares and within-due as percentages
    assert errors.count() == 0 or "Traceback" not in text
