"""A small notebook executed in a real kernel with nbclient: a failing ``%%autotask`` cell stops Run All
and shows one line, not a traceback."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).parent / "notebooks" / "failing_cell.ipynb"


@pytest.mark.notebook
def test_failing_cell_stops_execution_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    for name in ("AUTOTASK_CLIENT_ID", "AUTOTASK_CLIENT_SECRET", "AUTOTASK_USERNAME", "AUTOTASK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False)
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "QuerySyntaxError"

    login, query, check, failing, after = nb.cells[1:6]
    assert all(o.get("output_type") != "error" for c in (login, query, check) for o in c.outputs)
    login_text = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in login.outputs)
    assert "Autotask" in login_text or any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in login.outputs
    )
    errors = [o for o in failing.outputs if o["output_type"] == "error"]
    assert len(errors) == 1
    tb = errors[0]["traceback"]
    # One error line (plus the source line and a caret), no Python traceback.
    assert len(tb) <= 3
    assert "QuerySyntaxError: unknown operator '=='" in tb[0]
    assert not any("Traceback" in line or "File " in line for line in tb)
    # Run All stopped: the cell after the failure never ran.
    assert after.get("execution_count") is None and after.outputs == []
