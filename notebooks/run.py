"""Execute the notebooks end to end in a real kernel and leave executed copies to open.

    python notebooks/run.py                 # the quickstart, against the built-in sandbox
    python notebooks/run.py --all           # every notebook in this folder
    python notebooks/run.py 02-ticket-analysis.ipynb

Executed notebooks and HTML exports go to ``notebooks/_executed/`` (git-ignored). With no
``AUTOTASK_*`` credentials in the environment the notebooks log into the sandbox, so this needs no account.
A failing cell stops the run and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "_executed"


def run(path: Path, *, timeout: int = 600) -> Path:
    """Execute one notebook with nbclient; write the executed .ipynb and an .html beside it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE)}},
    )
    OUT.mkdir(exist_ok=True)
    target = OUT / path.name
    try:
        client.execute()
    finally:
        nbformat.write(nb, target)
    try:
        from nbconvert import HTMLExporter

        html, _ = HTMLExporter().from_notebook_node(nb)
        target.with_suffix(".html").write_text(html, encoding="utf-8")
    except ImportError:  # nbconvert is optional; the executed .ipynb is the main artefact
        pass
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook file names in notebooks/")
    parser.add_argument("--all", action="store_true", help="run every notebook in notebooks/")
    args = parser.parse_args(argv)

    if args.all:
        paths = sorted(HERE.glob("[0-9]*.ipynb"))
    elif args.notebooks:
        paths = [HERE / name for name in args.notebooks]
    else:
        paths = [HERE / "01-quickstart.ipynb"]

    for path in paths:
        if not path.is_file():
            print(f"error: no notebook {path.name} in {HERE} — list them with: ls notebooks/", file=sys.stderr)
            return 2
        started = time.perf_counter()
        try:
            target = run(path)
        except Exception as exc:  # the cell error is already one line; keep it that way
            print(f"FAILED {path.name}: {type(exc).__name__}: {str(exc).strip().splitlines()[-1:]}", file=sys.stderr)
            print(f"the partly executed notebook is in {OUT / path.name}", file=sys.stderr)
            return 1
        print(
            f"ok  {path.name}  {time.perf_counter() - started:5.1f} s  ->  {target.relative_to(HERE.parent)} (+ .html)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
