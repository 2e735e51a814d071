"""``notebooks/run.py`` as a newcomer meets it (issue 14, points 23, 24 and 25).

Each test runs the script in a subprocess on notebooks written to a temp dir, with a real kernel on this
interpreter and the sandbox: a failing notebook names the cell and its error line; a green run prints the
next step (a command that works) and leaves an HTML page that shows the status panel without widget JS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from tests._support.kernels import write_python3_kernelspec

ROOT = Path(__file__).resolve().parents[3]
RUN_PY = ROOT / "notebooks" / "run.py"

pytestmark = pytest.mark.notebook


def _env(spec_root: Path) -> dict[str, str]:
    """No credentials (the sandbox path), and a ``python3`` kernelspec that runs this interpreter."""
    write_python3_kernelspec(spec_root / "kernels")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTASK_")}
    env["JUPYTER_PATH"] = str(spec_root)  # searched before the environment's own kernelspecs
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["CI"] = "1"
    return env


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# a notebook for run.py")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _run_py(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUN_PY), *args, "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=_env(tmp_path / "jupyter"),
        capture_output=True,
        text=True,
        timeout=240,
    )


LOGIN = "%load_ext autotask_magic\n%autotask_login --sandbox --tickets 20"


def test_a_failing_magic_prints_the_cell_number_and_its_error_line(tmp_path: Path) -> None:
    nb = _notebook(
        tmp_path / "99-fail.ipynb",
        LOGIN,
        "x = 1",
        "%%autotask query Tickets\nstatus != 5 and priorty in (1, 2)",
        "never = 'reached'",
    )
    done = _run_py(tmp_path, str(nb))
    assert done.returncode == 1, done.stdout + done.stderr
    err = done.stderr
    assert (
        "FAILED 99-fail.ipynb at cell 4: QuerySyntaxError: unknown field 'priorty' for Tickets at column 17" in err
    ), err
    assert "status != 5 and priorty in (1, 2)" in err and "^" in err  # the pointer under the error
    assert "CellExecutionError" not in err and "['" not in err
    assert "the partly executed notebook is in out/99-fail.ipynb" in err
    assert (tmp_path / "out" / "99-fail.ipynb").is_file()


def test_a_python_error_names_the_cell_and_the_failing_line(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "98-pyfail.ipynb", "a = 1", "def f():\n    return 1 / 0\n\nf()")
    done = _run_py(tmp_path, str(nb))
    assert done.returncode == 1
    assert "FAILED 98-pyfail.ipynb at cell 3: ZeroDivisionError: division by zero" in done.stderr, done.stderr
    assert "----> 4 f()" in done.stderr


def test_a_green_run_prints_the_next_step_and_the_html_shows_the_panel(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "01-small.ipynb", LOGIN, "%autotask query Tickets --limit 3")
    done = _run_py(tmp_path, str(nb))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "ok  01-small.ipynb" in out and "next: look at the result" in out
    assert "out/01-small.html   (open it in a browser; no server needed)" in out
    # The JupyterLab line is the exact command: this environment's jupyter, and it runs.
    lab = next(line.split() for line in out.splitlines() if " lab " in line)
    jupyter = Path(lab[0]) if Path(lab[0]).is_absolute() else tmp_path / lab[0]
    assert jupyter == Path(sys.executable).parent / "jupyter" and lab[1] == "lab"
    assert (tmp_path / lab[2]).resolve() == nb.resolve()
    version = subprocess.run([str(jupyter), "lab", "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0, version.stderr

    # The HTML page shows the panel's static snapshot (no CDN needed) and holds no credential.
    html = (tmp_path / "out" / "01-small.html").read_text(encoding="utf-8")
    assert 'class="autotask-status-snapshot" data-state="VALID"' in html
    from autotask_magic.sandbox import Sandbox

    sb = Sandbox(tickets=0)  # the default seed's credentials, computed without starting it
    for secret in (sb.client_secret, sb.secret, sb.integration_code, sb.client_id):
        assert secret not in html


def test_the_demo_extra_brings_jupyterlab() -> None:
    """The next step run.py prints needs JupyterLab in the environment the README's main job makes."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(req.replace(" ", "").startswith("jupyterlab") for req in extras["demo"])
