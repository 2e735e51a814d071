"""Child process for the memory row: one 100,000-record pull, then report RSS figures as one JSON line.

Run in its own process so the peak belongs to the pull alone (not the sandbox, not earlier rows).
``baseline`` is the resident set after imports and a warm-up request; ``peak`` is ``VmHWM`` (peak RSS).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
from typing import Any


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


def _peak_bytes() -> int:
    # VmHWM: the peak resident set of this process's own address space. (ru_maxrss is not usable here:
    # Linux carries it across exec, so a child started by a benchmark process that holds 100,000 records
    # from rows 1-2 would report that parent's peak: both paths then read about 11x.)
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["magic", "handwritten"], required=True)
    parser.add_argument("--entity", default="Tickets")
    args = parser.parse_args()
    info: dict[str, Any] = json.loads(sys.stdin.readline())

    import pandas as pd  # noqa: F401  (imported before the baseline on both paths)

    if args.mode == "magic":
        from autotask_magic import AutotaskClient

        client = AutotaskClient.from_env(info["env"])
        client.count(args.entity)  # warm-up: auth, zone, connection
        client.fields(args.entity)
        gc.collect()
        baseline = _rss_bytes()
        df = client.query(args.entity)
        client.close()
    else:
        import httpx

        from benchmarks.handwritten import handwritten_pull

        httpx.get(info["base_url"] + "ThresholdInformation", headers=info["headers"])  # warm-up import paths
        gc.collect()
        baseline = _rss_bytes()
        df, _ = handwritten_pull(info["base_url"], info["headers"], args.entity, info["date_columns"])
    peak = _peak_bytes()
    frame = int(df.memory_usage(deep=True).sum())
    print(
        json.dumps({"baseline": baseline, "peak": peak, "frame": frame, "rows": len(df), "after": _rss_bytes()}),
        flush=True,
    )


if __name__ == "__main__":
    main()
