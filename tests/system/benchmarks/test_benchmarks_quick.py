"""CI runs the benchmark's small version for correctness only (no timing assertions), so it cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # the benchmarks package lives at the repository root, not in the wheel
    sys.path.insert(0, str(ROOT))


@pytest.mark.slow
def test_benchmark_check_quick_passes() -> None:
    """``python -m benchmarks --check --quick``: same rows as ground truth, <= 3 in flight, ideal requests."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--check", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "all correctness checks passed" in proc.stdout


def test_handwritten_baseline_matches_ground_truth(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    """The baselines the table divides by must read the same data as autotask-magic."""
    import httpx

    from benchmarks.handwritten import byte_floor, handwritten_frame, handwritten_records

    sb = sandbox_factory(tickets=1200)
    headers = sb.api_user_headers()
    with httpx.Client(headers=headers) as c:
        records, requests = handwritten_records(c, sb.base_url, "Tickets")
    assert records == sb.ground_truth("Tickets")
    assert requests == 3
    size, floor_requests = byte_floor(sb.base_url, headers, "Tickets")
    assert floor_requests == 3 and size > 0
    df = handwritten_frame(records, ["createDate", "udf.Follow Up Date"])
    assert list(df["id"]) == [r["id"] for r in records]
    assert str(df["createDate"].dtype).startswith("datetime64")
    assert any(c.startswith("udf.") for c in df.columns)
