"""Row 7: writes from a DataFrame (issue 17): 1,000 updates at 200 ms latency, within the API's limits.

The bound: three writes in flight take 1,000 x 0.2 s / 3 = 67 s; 600 requests a minute allow 1,000
writes in 100 s at best; the larger of the two is the ideal, and the wall time must stay within 1.15x
of it. Correctness (also under ``--check``): exactly one PATCH per row plus ceil(rows / 500) diff reads,
never more than 3 in flight, every record as the frame says (the sandbox's ground truth), and a
second run of the same frame sends no PATCH at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from ._server import SandboxProcess

__all__ = ["rows_writes"]

_READ_BATCH = 500


def _counts(stats: dict[str, Any]) -> tuple[int, int]:
    by = stats.get("requests_by_endpoint") or {}
    patches = sum(v for k, v in by.items() if k.startswith("PATCH "))
    reads = sum(v for k, v in by.items() if k.startswith("POST ") and k.endswith("/Tickets/query"))
    return patches, reads


def rows_writes(cfg: Any, Result: Callable[..., Any], _check: Callable[[bool, str], None]) -> list[Any]:
    """Row 7. ``cfg``, ``Result`` and ``_check`` are the runner's (``python -m benchmarks`` runs it as ``__main__``,
    so importing them from here would make a second copy whose CheckFailed the runner does not catch)."""
    import pandas as pd

    from autotask_magic import AutotaskClient

    n = 150 if cfg.quick else 1000
    latency_ms = 20 if cfg.check else cfg.latency_ms
    with SandboxProcess(tickets=max(n, 2000)) as sp:
        client = AutotaskClient.from_env(sp.env("api_user"))
        with client:
            ids = sp.ground_truth("Tickets", [{"op": "gte", "field": "id", "value": 0}])["ids"][:n]
            frame = pd.DataFrame({"id": ids, "title": [f"bench write {i}" for i in ids]})
            client.fields("Tickets")  # metadata is cached per client; a notebook session pays it once
            sp.set_faults(latency_ms=latency_ms)
            sp.reset_stats()
            t0 = time.perf_counter()
            outcome = client.update("Tickets", frame)
            wall = time.perf_counter() - t0
            stats = sp.stats()
            patches, reads = _counts(stats)
            worst = max(
                (v for k, v in (stats.get("max_concurrency") or {}).items() if k.startswith("PATCH")), default=0
            )
            _check(set(outcome["status"]) == {"ok"}, f"writes: outcome {outcome['status'].value_counts().to_dict()}")
            _check(patches == n, f"writes: {patches} PATCH requests for {n} rows")
            _check(reads == math.ceil(n / _READ_BATCH), f"writes: {reads} diff reads for {n} rows")
            _check(worst <= 3, f"writes: {worst} PATCHes in flight at once")
            flt = [{"op": "beginsWith", "field": "title", "value": "bench write "}]
            _check(sp.ground_truth("Tickets", flt)["ids"] == sorted(ids), "writes: records differ from the frame")
            sp.set_faults(latency_ms=0)
            sp.reset_stats()
            client.update("Tickets", frame)
            _check(_counts(sp.stats())[0] == 0, "writes: a second run of the same frame sent PATCHes")
    if cfg.check:
        return []
    lat = latency_ms / 1000
    ideal = max(n * lat / 3, n / 600 * 60)
    return [
        Result(
            "7 writes",
            f"update wall / max(rows x latency / 3, rows at 600/min), {n} rows x {latency_ms} ms",
            wall / ideal,
            "<= 1.15",
            wall / ideal <= 1.15,
            f"{wall:.1f} s vs {ideal:.1f} s; {patches} PATCH + {reads} diff reads; max in flight {worst} (limit 3)",
        )
    ]
