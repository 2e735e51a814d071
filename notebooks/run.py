"""Execute the notebooks end to end in a real kernel and leave executed copies to open.

    python3 notebooks/run.py                 # the quickstart, against the built-in sandbox
    python3 notebooks/run.py --all           # every notebook in this folder
    python3 notebooks/run.py 02-ticket-analysis.ipynb
    python3 notebooks/run.py path/to/other.ipynb --out /tmp/executed

Executed notebooks and HTML exports go to ``notebooks/_executed/`` (git-ignored). With no
``AUTOTASK_*`` credentials in the environment the notebooks log into the sandbox, so this needs no account.
A failing cell stops the run with the cell's number and its error line, and the exit status is non-zero.
At the end it prints how to look at the result.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "_executed"

# The HTML export shows the status panel's static snapshot (text/html) rather than its widget view: the
# widget needs JavaScript from a CDN and is blank offline. Outputs without text/html keep their widget view.
HTML_PRIORITY = [
    "text/html",
    "application/vnd.jupyter.widget-view+json",
    "application/javascript",
    "text/markdown",
    "image/svg+xml",
    "text/latex",
    "image/png",
    "image/jpeg",
    "text/plain",
]
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run(path: Path, *, out: Path = OUT, timeout: int = 600) -> Path:
    """Execute one notebook with nbclient; write the executed .ipynb and an .html beside it in ``out``."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    out.mkdir(parents=True, exist_ok=True)
    target = out / path.name
    try:
        client.execute()
    finally:
        nbformat.write(nb, target)
        export_html(nb, target.with_suffix(".html"))
    return target


def export_html(nb: Any, target: Path) -> None:
    """Write ``nb`` as a standalone HTML page (needs nbconvert, part of the demo extra)."""
    try:
        from nbconvert import HTMLExporter
        from traitlets.config import Config
    except ImportError:  # nbconvert is optional; the executed .ipynb is the main artefact
        return
    config = Config({"NbConvertBase": {"display_data_priority": HTML_PRIORITY}})
    html, _ = HTMLExporter(config=config).from_notebook_node(nb)
    target.write_text(html, encoding="utf-8")


def failed_cell(nb: Any) -> tuple[int, Any] | None:
    """(1-based cell number as the notebook shows it, the error output) of the first cell that failed."""
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return number, output
    return None


def failure_lines(name: str, exc: BaseException, nb: Any | None) -> list[str]:
    """What to print for a failed run: the cell number, its error line and where the cell failed."""
    found = failed_cell(nb) if nb is not None else None
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = str(getattr(exc, "evalue", None) or exc).strip()
    where = ""
    context: list[str] = []
    if found is not None:
        number, output = found
        ename, evalue = output.get("ename", ename), str(output.get("evalue", evalue)).strip()
        where = f" at cell {number}"
        traceback = [_ANSI.sub("", line) for line in output.get("traceback", [])]
        text = "\n".join(traceback).splitlines()
        if len(text) <= 4:  # autotask_magic's one-line errors: the line itself, then the pointer under it
            context = [line for line in text[1:] if line.strip()]
        else:  # a Python traceback: IPython marks the failing line of the cell with an arrow
            context = [line.rstrip() for line in text if line.lstrip().startswith("---->")][:1]
    first = evalue.splitlines()[0] if evalue else ""
    lines = [f"FAILED {name}{where}: {ename}" + (f": {first}" if first else "")]
    lines += [f"    {line}" for line in context]
    return lines


def next_step(targets: list[Path], sources: list[Path]) -> str:
    """How to look at the result: the exact commands, with this interpreter's environment."""
    jupyter = Path(sys.executable).parent / "jupyter"
    lines = ["", "next: look at the result"]
    for target in targets:
        lines.append(f"    {_shown(target.with_suffix('.html'))}   (open it in a browser; no server needed)")
    lines.append("  or run the notebook yourself in JupyterLab, with the live status panel:")
    if importlib.util.find_spec("jupyterlab") is None:
        lines.append(f"    {_shown(Path(sys.executable))} -m pip install jupyterlab")
    lines.append(f"    {_shown(jupyter)} lab {_shown(sources[0])}")
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (what the user types), else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook files (names in notebooks/, or paths)")
    parser.add_argument("--all", action="store_true", help="run every notebook in notebooks/")
    parser.add_argument("--out", type=Path, default=OUT, help="where executed copies go (default notebooks/_executed)")
    args = parser.parse_args(argv)

    if args.all:
        paths = sorted(HERE.glob("[0-9]*.ipynb"))
    elif args.notebooks:
        paths = [Path(name) if Path(name).is_file() else HERE / name for name in args.notebooks]
    else:
        paths = [HERE / "01-quickstart.ipynb"]

    targets: list[Path] = []
    for path in paths:
        if not path.is_file():
            print(f"error: no notebook {path.name} in {HERE} — list them with: ls notebooks/", file=sys.stderr)
            return 2
        started = time.perf_counter()
        try:
            target = run(path, out=args.out)
        except Exception as exc:
            partial = args.out / path.name
            nb = _read(partial)
            for line in failure_lines(path.name, exc, nb):
                print(line, file=sys.stderr)
            print(f"the partly executed notebook is in {_shown(partial)}", file=sys.stderr)
            return 1
        targets.append(target)
        print(f"ok  {path.name}  {time.perf_counter() - started:5.1f} s  ->  {_shown(target)} (+ .html)")
    print(next_step(targets, paths))
    return 0


def _read(path: Path) -> Any | None:
    try:
        import nbformat

        return nbformat.read(path, as_version=4)
    except Exception:  # nothing was written (the kernel did not start): report the exception alone
        return None


if __name__ == "__main__":
    raise SystemExit(main())
