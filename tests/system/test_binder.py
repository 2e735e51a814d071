"""The Binder configuration is what repo2docker reads, and asks for a Python that can install pandas 3."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _repo2docker() -> str:
    exe = Path(sys.executable).with_name("repo2docker")
    if exe.exists():
        return str(exe)
    found = shutil.which("repo2docker")
    if found is None:
        pytest.fail("repo2docker is not installed: pip install -e '.[test]' brings jupyter-repo2docker")
    return found


def test_repo2docker_reads_binder_folder() -> None:
    out = subprocess.run(
        [_repo2docker(), "--no-build", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    dockerfile = out.stdout + out.stderr
    assert "python=3.11" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "./binder/postBuild" in dockerfile
    # the whole repository is copied before the requirements are installed, so "." can install the package
    assert dockerfile.index("COPY --chown=0:0 src/ ") < dockerfile.index('-r "binder/requirements.txt"')


def test_binder_requirements_install_the_package_itself() -> None:
    lines = [line.split("#")[0].strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert "." in lines or "-e ." in lines
    assert any(line.startswith("jupyterlab") for line in lines)
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    major, minor = runtime.removeprefix("python-").split(".")[:2]
    assert (int(major), int(minor)) >= (3, 11)
