"""A ``python3`` kernelspec that runs this interpreter, so a stray user-level kernelspec cannot swap in another
Python for the notebooks the tests execute."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["kernel_manager", "write_python3_kernelspec"]


def write_python3_kernelspec(kernels_dir: Path, display_name: str = "Python 3 (test)") -> Path:
    """Write ``kernels_dir/python3/kernel.json`` running ``sys.executable``; returns that folder."""
    kernel = kernels_dir / "python3"
    kernel.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (kernel / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": display_name, "language": "python"}))
    return kernel


def kernel_manager(kernels_dir: Path) -> Any:
    """An async kernel manager whose ``python3`` kernelspec (written into ``kernels_dir``) runs ``sys.executable``."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    write_python3_kernelspec(kernels_dir)
    ksm = KernelSpecManager(kernel_dirs=[str(kernels_dir)])
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=ksm)
