"""Execute every ``notebooks/[0-9]*.ipynb`` in a real kernel against the sandbox, as CI and Binder users do.

The kernel is this interpreter (a kernelspec written for ``sys.executable``, so a stray user-level
``python3`` kernelspec cannot swap in another Python) and gets no ``AUTOTASK_*`` variables, so each notebook
takes its no-credentials path: the built-in sandbox. Any cell error fails the test. The executed outputs
are then scanned for credentials and checked for the outputs a reader relies on (tables, charts).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests._support.kernels import kernel_manager

NOTEBOOK_DIR = Path(__file__).resolve().parents[3] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9]*.ipynb"))

# Checked at the end of each run, in the kernel: the notebook really ran on this interpreter.
_PROBE = "import sys as _sys; print('KERNEL-PYTHON=' + _sys.executable)"


def _kernel_env() -> dict[str, str]:
    """This process's environment without credentials: the notebooks must fall back to the sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTASK_")}
    env["CI"] = "1"  # nobody can answer a prompt; login must fail fast, not wait for input
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


def _execute(path: Path, spec_dir: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    client = NotebookClient(
        nb,
        km=kernel_manager(spec_dir),
        kernel_name="python3",
        timeout=240,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute(env=_kernel_env())
    return nb


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def executed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, nbformat.NotebookNode]]:
    """(path, executed notebook) for each notebook; a cell error fails every test of that notebook."""
    path: Path = request.param
    yield path, _execute(path, tmp_path_factory.mktemp("kernels"))


# ------------------------------------------------------------------------------------------ helpers


def _outputs(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(nb: nbformat.NotebookNode) -> str:
    """Every output (streams, rich data, errors) and the notebook metadata (widget state) as one string."""
    return json.dumps(_outputs(nb), ensure_ascii=False) + json.dumps(nb.metadata, ensure_ascii=False)


def _plain(nb: nbformat.NotebookNode) -> str:
    parts = []
    for o in _outputs(nb):
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        parts.append(str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def _count(nb: nbformat.NotebookNode, mime: str, needle: str = "") -> int:
    return sum(1 for o in _outputs(nb) if needle in str(o.get("data", {}).get(mime, "")) and mime in o.get("data", {}))


def _sandbox_secrets() -> list[str]:
    """The sandbox's credentials are derived from its seed; the notebooks use the default seed."""
    from autotask_magic.sandbox import Sandbox

    sb = Sandbox(tickets=0)  # not started: the credentials are computed in the constructor
    return [sb.client_secret, sb.secret, sb.integration_code]


# ------------------------------------------------------------------------------------------ tests


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_clean(path: Path) -> None:
    """Committed notebooks carry no outputs, execution counts or widget state (nothing that could hold a token)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"
    assert "widgets" not in nb.metadata, f"{path.name}: widget state in the metadata"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.notebook
def test_notebooks_found() -> None:
    assert [p.name for p in NOTEBOOKS][:3] == [
        "01-quickstart.ipynb",
        "02-ticket-analysis.ipynb",
        "03-connect-your-tenant.ipynb",
    ]


@pytest.mark.notebook
def test_runs_green_on_this_interpreter(executed: tuple[Path, nbformat.NotebookNode]) -> None:
    path, nb = executed
    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is None]
    assert not unrun, f"{path.name}: cells {unrun} did not run"
    assert f"KERNEL-PYTHON={sys.executable}" in _plain(nb)


@pytest.mark.notebook
def test_no_secret_in_outputs(executed: tuple[Path, nbformat.NotebookNode]) -> None:
    path, nb = executed
    text = _text(nb)
    for secret in _sandbox_secrets():
        assert secret not in text, f"{path.name}: a sandbox credential appears in the outputs"
    # Tokens issued inside the kernel are not visible here; catch them by their shape instead.
    assert not re.search(r"Bearer\s+(?!<redacted>)[A-Za-z0-9._~+/=-]{8,}", text), f"{path.name}: a bearer token"
    assert "access_token" not in text, f"{path.name}: a token response in the outputs"
    for prefix in ("sbx-secret-", "Sbx!"):  # any seed's sandbox secrets
        assert prefix not in text, f"{path.name}: something shaped like a sandbox secret ({prefix}…)"


@pytest.mark.notebook
def test_key_outputs(executed: tuple[Path, nbformat.NotebookNode]) -> None:
    path, nb = executed
    plain = _plain(nb)
    tables = _count(nb, "text/html", "<table")
    charts = _count(nb, "image/png")
    assert tables >= 1, f"{path.name}: no DataFrame table in the outputs"
    # The login cell's panel, its one-line snapshot once %autotask_status showed it again, or, after the
    # last cell's logout, the panel saying it is no longer live and since when (issue 16).
    status = r"Autotask(?: status as of \d\d:\d\d:\d\d)?: valid|Autotask: as of \d\d:\d\d:\d\d, logged out"
    assert re.search(status, plain), f"{path.name}: no status panel after login"
    # The panel's static snapshot, for exports and viewers without widget JavaScript (issue 14, point 24).
    assert _count(nb, "text/html", 'class="autotask-status-snapshot"') >= 1, f"{path.name}: no panel snapshot"
    if path.name.startswith("01-"):
        assert charts >= 1
        assert re.search(r"urgent: \d+ rows", plain) and re.search(r"recent: \d+ rows", plain)
        assert ": valid · OAuth · sandbox · " in plain
    elif path.name.startswith("02-"):
        assert charts >= 5, f"{path.name}: expected five charts, got {charts}"
        assert tables >= 5
        assert "now = newest ticket's createDate: 2026-06-" in plain
        assert "tickets: 10,000 rows" in plain
        assert "tickets: 10,000 rows, 2 updated, 0 added, 0 dropped" in plain  # issue 15: --refresh
        assert re.search(r"touched: [1-9]\d* rows", plain)  # issue 15: relative dates, --expand
        assert re.search(r"time: [\d,]+ rows", plain)
    elif path.name.startswith("03-"):
        assert "No complete Autotask credentials" in plain and "AUTOTASK_SECRET" in plain
        assert "Without a login, %autotask says" in plain and "not logged in" in plain
        assert " · API user · " in plain and "zone      : Sandbox" in plain
        assert re.search(r"requests used in the current 60-minute window", plain)
        assert re.search(r"\d+ open tickets", plain)
        assert "logged out" in plain
    elif path.name.startswith("04-"):
        assert re.search(r"Tickets \(dry run, nothing sent\): \d+ changes in \d+ records", plain)
        assert re.search(r"Tickets update: (\d+) rows, \1 writes sent", plain)
        assert re.search(r"Tickets update: \d+ rows, 0 writes sent", plain)  # the re-run changes nothing
