"""``python -m benchmarks [--quick] [--check] [--rows 1,3] [--repeats N]``: print the benchmark table.

Every figure is a ratio of two things measured side by side in this run (medians of several repeats),
so the table means the same on a fast or a slow machine. ``--check`` verifies correctness only (same
rows as the sandbox's ground truth, concurrency never above 3, request counts ideal) and exits non-zero
on a failure; CI runs ``--check --quick``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ._analyst import rows_analyst, rows_cold_pull
from ._common import CheckFailed, Config, Result, _check, _client, _date_columns
from ._server import SandboxProcess, records_digest
from .handwritten import ALL_ROWS, byte_floor, handwritten_frame, handwritten_pull
from .writes import rows_writes

PAGE = 500


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times = []
    out: Any = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Median wall time of each function, run round-robin so machine noise hits all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    outs: dict[str, Any] = {}
    names = list(fns)
    for i in range(repeats):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            gc.collect()
            t0 = time.perf_counter()
            outs[name] = fns[name]()
            times[name].append(time.perf_counter() - t0)
            outs[name] = None if i < repeats - 1 else outs[name]
    return {k: statistics.median(v) for k, v in times.items()}, outs


def _query_requests(stats: dict[str, Any], entity: str = "Tickets") -> dict[str, int]:
    by = stats.get("requests_by_endpoint") or {}
    pages = sum(v for k, v in by.items() if k.endswith(f"/{entity}/query") or f"/{entity}/query/next" in k)
    counts = sum(v for k, v in by.items() if k.endswith(f"/{entity}/query/count"))
    other = sum(by.values()) - pages - counts
    return {"pages": pages, "count": counts, "other": other}


# ---------------------------------------------------------------------------------------------- rows 1, 2, 6


def rows_full_pull(cfg: Config) -> list[Result]:
    """Rows 1 (full pull), 2 (records -> DataFrame) and 6 (request efficiency) share one big sandbox."""
    from autotask_magic import to_frame

    n = cfg.full_tickets
    results: list[Result] = []
    with SandboxProcess(tickets=n) as sp, _client(sp) as client:
        truth = sp.ground_truth("Tickets", ALL_ROWS)
        _check(len(truth["ids"]) == n, f"sandbox has {len(truth['ids'])} tickets, expected {n}")
        fields = client.fields("Tickets")
        dates = _date_columns(client, "Tickets")
        base, headers = sp.base_url, sp.headers

        # Correctness first (also the warm-up): same records, same rows, ideal requests.
        sp.reset_stats()
        recs = list(client.records("Tickets"))
        req = _query_requests(sp.stats())
        _check([r["id"] for r in recs] == truth["ids"], "records(): ids differ from ground truth")
        _check(records_digest(recs) == truth["digest"], "records(): record contents differ from ground truth")
        _check(req["pages"] == math.ceil(n / PAGE), f"records(): {req['pages']} page requests for {n} rows")
        del recs
        sp.reset_stats()
        df = client.query("Tickets")
        req_query = _query_requests(sp.stats())
        _check(list(df["id"]) == truth["ids"], "query(): DataFrame rows differ from ground truth")
        hw_df, hw_requests = handwritten_pull(base, headers, "Tickets", dates)
        _check(list(hw_df["id"]) == truth["ids"], "hand-written pull: rows differ (harness bug)")
        _check(len(df.columns) >= len(hw_df.columns) - 1, "query(): fewer columns than the hand-written frame")
        del df, hw_df

        if 1 in cfg.rows and not cfg.check:
            med, _ = _interleaved(
                {
                    "magic": lambda: _fresh_query(sp),
                    "hand": lambda: handwritten_pull(base, headers, "Tickets", dates),
                    "floor": lambda: byte_floor(base, headers, "Tickets"),
                },
                cfg.repeats,
            )
            r_hand = med["magic"] / med["hand"]
            r_floor = med["magic"] / med["floor"]
            pages = math.ceil(n / PAGE)
            results.append(
                Result(
                    "1 full pull",
                    f"{n:,} Tickets ({pages} pages) -> DataFrame: autotask-magic / hand-written",
                    r_hand,
                    "<= 1.10",
                    r_hand <= 1.10,
                    f"{med['magic']:.2f} s vs {med['hand']:.2f} s",
                )
            )
            results.append(
                Result(
                    "1 full pull",
                    "autotask-magic / byte floor (same pages, no parsing)",
                    r_floor,
                    "as close to 1 as possible",
                    None,
                    f"{med['magic']:.2f} s vs {med['floor']:.2f} s; hand-written / floor "
                    f"{med['hand'] / med['floor']:.2f}",
                )
            )

        if 2 in cfg.rows:
            records, _ = _records_by_hand(base, headers)
            has_udf = any("userDefinedFields" in r for r in records[:PAGE])
            _check(has_udf, "sandbox tickets carry no userDefinedFields: row 2 would not test UDFs")
            frame = to_frame(records, fields=fields)
            hand = handwritten_frame(records, dates)
            _check(len(frame) == len(hand) == n, "to_frame: row count differs")
            udf_cols = [c for c in hand.columns if c.startswith("udf.")]
            _check(all(c in frame.columns for c in udf_cols), "to_frame: a UDF column is missing")
            for col in dates:
                if col in frame.columns:
                    _check(str(frame[col].dtype).startswith("datetime64"), f"to_frame: {col} is not a datetime")
            del frame, hand
            if not cfg.check:
                med, _ = _interleaved(
                    {
                        "magic": lambda: to_frame(records, fields=fields),
                        "hand": lambda: handwritten_frame(records, dates),
                    },
                    cfg.repeats,
                )
                speedup = med["hand"] / med["magic"]
                results.append(
                    Result(
                        "2 records -> DataFrame",
                        f"{n:,} records with UDFs and dates: hand-written json_normalize / to_frame (speed-up)",
                        speedup,
                        ">= 3.0",
                        speedup >= 3.0,
                        f"{med['magic']:.2f} s vs {med['hand']:.2f} s",
                    )
                )
            del records

        if 6 in cfg.rows:
            results.extend(_request_efficiency(cfg, sp, client, n, req_query, hw_requests))
    return results


def _fresh_query(sp: SandboxProcess) -> Any:
    # A new client per timed pull: each client keeps its own 600 requests/minute window, which repeated
    # 200-page pulls on one client would hit (the wait would be the limiter's, not the pull's).
    with _client(sp) as client:
        return client.query("Tickets")


def _records_by_hand(base: str, headers: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    import httpx

    from .handwritten import handwritten_records

    with httpx.Client(headers=headers, timeout=120.0) as c:
        return handwritten_records(c, base, "Tickets")


def _request_efficiency(
    cfg: Config, sp: SandboxProcess, client: Any, n: int, req_query: dict[str, int], hw_requests: int
) -> list[Result]:
    rows: list[tuple[str, int, dict[str, int]]] = [("query() all rows", n, req_query)]
    for limit in (1, 499, 500, 501, 1200):
        sp.reset_stats()
        got = list(client.records("Tickets", limit=limit))
        _check(len(got) == min(limit, n), f"records(limit={limit}) returned {len(got)} rows")
        rows.append((f"records(limit={limit})", len(got), _query_requests(sp.stats())))
    # A filtered pull whose size is not a multiple of 500.
    flt = [{"op": "lt", "field": "id", "value": _id_at(sp, 1234)}]
    truth = sp.ground_truth("Tickets", flt)
    sp.reset_stats()
    got = list(client.records("Tickets", filter=flt))
    _check([r["id"] for r in got] == truth["ids"], "filtered records(): rows differ from ground truth")
    rows.append(("records(filter) 1,233 rows", len(got), _query_requests(sp.stats())))
    sp.reset_stats()
    got = list(client.records("Tickets", parallel=True))
    _check(len(got) == n, "records(parallel=True): row count differs")
    par = _query_requests(sp.stats())
    rows.append(("records(parallel=True) all rows", n, par))

    worst = 0.0
    detail = []
    ok = True
    for name, count, req in rows:
        ideal_pages = max(1, math.ceil(count / PAGE))
        parallel = "parallel" in name
        # A partitioned pull ends each partition with its own short page: allow one per extra partition.
        allowance = 2 if parallel else 0
        _check(req["count"] <= 1, f"{name}: {req['count']} count calls")
        _check(
            req["pages"] <= ideal_pages + allowance,
            f"{name}: {req['pages']} page requests, ideal {ideal_pages}",
        )
        used = req["pages"] + req["count"]
        ideal = ideal_pages + req["count"]
        worst = max(worst, used / ideal)
        ok = ok and (req["pages"] == ideal_pages or parallel)
        detail.append(f"{name}: {req['pages']}+{req['count']} (ideal {ideal_pages}+{req['count']})")
    seq_worst = max(
        (r["pages"] + r["count"]) / (max(1, math.ceil(c / PAGE)) + r["count"])
        for nm, c, r in rows
        if "parallel" not in nm
    )
    par_ratio = (par["pages"] + par["count"]) / (math.ceil(n / PAGE) + 1)
    return [
        Result(
            "6 request efficiency",
            "requests used / (ceil(N/500) + count calls), worst sequential case",
            seq_worst,
            "1.00",
            ok and seq_worst <= 1.0,
            "; ".join(detail[:-1]) + f"; hand-written loop: {hw_requests} for {n:,}",
        ),
        Result(
            "6 request efficiency",
            "parallel pull: requests used / (ceil(N/500) + 1)",
            par_ratio,
            "<= 1 + 2 short partition tails",
            par["pages"] <= math.ceil(n / PAGE) + 2,
            detail[-1],
        ),
    ]


def _id_at(sp: SandboxProcess, position: int) -> int:
    ids = sp.ground_truth("Tickets", ALL_ROWS)["ids"]
    return ids[min(position, len(ids) - 1)]


# ---------------------------------------------------------------------------------------------- row 3


def rows_latency(cfg: Config) -> list[Result]:
    """Row 3: a latency-bound pull, sequential vs. partitioned, with the concurrency limit checked."""
    n = cfg.latency_pages * PAGE
    lat = cfg.latency_ms / 1000.0
    results: list[Result] = []
    with SandboxProcess(tickets=n) as sp, _client(sp) as client:
        truth = sp.ground_truth("Tickets", ALL_ROWS)
        client.fields("Tickets")  # metadata is cached per client; a notebook session pays it once
        client.count("Tickets")  # warm: auth, zone, connections
        sp.set_faults(latency_ms=cfg.latency_ms)
        repeats = 1 if cfg.check else max(1, min(cfg.repeats, 3))
        seq_t, par_t = [], []
        seq_req = par_req = {}
        max_conc: dict[str, int] = {}
        for _ in range(repeats):
            for mode in ("seq", "par"):
                sp.reset_stats()
                gc.collect()
                t0 = time.perf_counter()
                df = client.query("Tickets", parallel=(mode == "par"))
                dt = time.perf_counter() - t0
                stats = sp.stats()
                req = _query_requests(stats)
                for k, v in (stats.get("max_concurrency") or {}).items():
                    max_conc[k] = max(max_conc.get(k, 0), v)
                _check(list(df["id"]) == truth["ids"], f"latency pull ({mode}): rows differ from ground truth")
                if mode == "seq":
                    seq_t.append(dt)
                    seq_req = req
                else:
                    par_t.append(dt)
                    par_req = req
                del df
        worst = max(max_conc.values(), default=0)
        _check(worst <= 3, f"max concurrency per endpoint was {worst}: {max_conc}")
        _check(seq_req.get("pages") == cfg.latency_pages, f"sequential pull used {seq_req} requests")
        if cfg.check:
            return results
        seq, par = statistics.median(seq_t), statistics.median(par_t)
        ideal = cfg.latency_pages * lat
        seq_requests = seq_req["pages"] + seq_req["count"]
        results.append(
            Result(
                "3 latency-bound",
                f"sequential wall / (pages x latency), {cfg.latency_pages} pages x {cfg.latency_ms} ms",
                seq / ideal,
                "<= 1.05",
                seq / ideal <= 1.05,
                f"{seq:.2f} s vs {ideal:.2f} s; requests {seq_req['pages']} pages + {seq_req['count']} count"
                f" (wall / (requests x latency) {seq / (seq_requests * lat):.3f})",
            )
        )
        results.append(
            Result(
                "3 latency-bound",
                "speed-up of the parallel pull (3 per endpoint) over sequential",
                seq / par,
                ">= 2.5",
                seq / par >= 2.5,
                f"{par:.2f} s; requests {par_req['pages']} pages + {par_req['count']} count; "
                f"max in flight per endpoint {worst} (limit 3): {max_conc}",
            )
        )
    return results


# ---------------------------------------------------------------------------------------------- row 4


def _run_startup(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def rows_startup(cfg: Config) -> list[Result]:
    """Row 4: start-up cost of ``import autotask_magic`` and ``%load_ext autotask_magic``."""
    py = sys.executable
    with tempfile.TemporaryDirectory() as ipydir:
        env = dict(os.environ, IPYTHONDIR=ipydir, PYTHONDONTWRITEBYTECODE="0")
        ipy = [py, "-m", "IPython", "--quick", "--no-banner", "--HistoryManager.enabled=False", "-c"]
        cases = {
            "bare": [py, "-c", "pass"],
            "import": [py, "-c", "import autotask_magic"],
            "ipython": ipy + ["pass"],
            "load_ext": ipy + ["%load_ext autotask_magic"],
        }
        # Correctness: the extension loads and registers its magics, and importing it pulls in no IPython.
        out = subprocess.run(
            ipy + ["%load_ext autotask_magic\nprint(sorted(get_ipython().magics_manager.magics['line']))"],
            env=env,
            capture_output=True,
            text=True,
        )
        _check(out.returncode == 0 and "autotask" in out.stdout, f"%load_ext failed: {out.stderr[-500:]}")
        out = subprocess.run(
            [py, "-c", "import sys, autotask_magic; print('IPython' in sys.modules)"],
            env=env,
            capture_output=True,
            text=True,
        )
        _check(out.stdout.strip() == "False", "import autotask_magic imports IPython")
        if cfg.check:
            return []
        for argv in cases.values():  # warm the file cache and .pyc files
            _run_startup(argv, env)
        times: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(cfg.startup_repeats):
            for name, argv in cases.items():
                times[name].append(_run_startup(argv, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    d_import = (med["import"] - med["bare"]) * 1000
    d_ext = (med["load_ext"] - med["ipython"]) * 1000
    return [
        Result(
            "4 start-up",
            "python -c 'import autotask_magic' / bare python",
            med["import"] / med["bare"],
            "(informational)",
            None,
            f"+{d_import:.0f} ms ({med['import'] * 1000:.0f} vs {med['bare'] * 1000:.0f} ms)",
        ),
        Result(
            "4 start-up",
            "ipython -c '%load_ext autotask_magic' / bare ipython",
            med["load_ext"] / med["ipython"],
            "+<= 100 ms",
            d_ext <= 100,
            f"+{d_ext:.0f} ms ({med['load_ext'] * 1000:.0f} vs {med['ipython'] * 1000:.0f} ms)",
        ),
    ]


# ---------------------------------------------------------------------------------------------- row 5


def rows_memory(cfg: Config) -> list[Result]:
    """Row 5: peak RSS growth of a full pull vs. the final DataFrame's deep memory usage."""
    n = cfg.full_tickets
    out: dict[str, dict[str, Any]] = {}
    with SandboxProcess(tickets=n) as sp, _client(sp) as client:
        dates = _date_columns(client, "Tickets")
        info = {"env": sp.env("api_user"), "base_url": sp.base_url, "headers": sp.headers, "date_columns": dates}
        for mode in ("magic", "handwritten"):
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks._memory_child", "--mode", mode],
                input=json.dumps(info) + "\n",
                capture_output=True,
                text=True,
                cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            )
            _check(proc.returncode == 0, f"memory child ({mode}) failed: {proc.stderr[-800:]}")
            out[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
            _check(out[mode]["rows"] == n, f"memory child ({mode}) got {out[mode]['rows']} rows")
    if cfg.check:
        return []
    m, h = out["magic"], out["handwritten"]
    ratio = (m["peak"] - m["baseline"]) / m["frame"]
    mib = 1024 * 1024
    return [
        Result(
            "5 memory",
            f"peak RSS growth of the {n:,}-record pull / DataFrame deep memory",
            ratio,
            "<= 2.5",
            ratio <= 2.5,
            f"+{(m['peak'] - m['baseline']) / mib:.0f} MiB vs {m['frame'] / mib:.0f} MiB; "
            f"hand-written: {(h['peak'] - h['baseline']) / h['frame']:.2f}x "
            f"(+{(h['peak'] - h['baseline']) / mib:.0f} MiB vs {h['frame'] / mib:.0f} MiB)",
        )
    ]


# ---------------------------------------------------------------------------------------------- CLI


def _machine() -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import httpx
    import pandas

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu or 'unknown CPU'}), "
        f"Python {platform.python_version()}, pandas {pandas.__version__}, httpx {httpx.__version__}"
    )


def render(results: list[Result]) -> str:
    """The table as Markdown (readable in a terminal, pasteable into the README)."""
    lines = [
        "| row | measure | ratio | target | met | detail |",
        "|---|---|---:|---|:-:|---|",
    ]
    for r in results:
        value = "-" if r.value is None else f"{r.value:.2f}"
        met = {True: "yes", False: "**no**", None: "-"}[r.ok]
        lines.append(f"| {r.row} | {r.measure} | {value} | {r.target} | {met} | {r.detail} |")
    return "\n".join(lines)


def rows_write_frame(cfg: Config) -> list[Result]:
    """Row 7: 1,000 updates from a DataFrame at 200 ms latency (``writes.py``)."""
    return rows_writes(cfg, Result, _check)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one or two repeats (a minute or so)")
    parser.add_argument("--check", action="store_true", help="correctness only: no timings, exit 1 on failure")
    parser.add_argument("--rows", default="1,2,3,4,5,6,7,8,9,10,11", help="comma-separated rows to run (default all)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per timing (median is reported)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    quick = args.quick
    cfg = Config(
        quick=quick,
        check=args.check,
        repeats=args.repeats or (2 if quick else 5),
        full_tickets=5_000 if quick else 100_000,
        latency_pages=6 if quick else 30,
        latency_ms=200,
        startup_repeats=3 if quick else 10,
        rows={int(x) for x in args.rows.split(",") if x.strip()},
    )
    print(f"machine: {_machine()}", flush=True)
    results: list[Result] = []
    failures: list[str] = []
    steps: list[tuple[set[int], Callable[[Config], list[Result]]]] = [
        ({1, 2, 6}, rows_full_pull),
        ({3}, rows_latency),
        ({4}, rows_startup),
        ({5}, rows_memory),
        ({7}, rows_write_frame),
        ({8, 9, 10}, rows_analyst),
        ({11}, rows_cold_pull),
    ]
    t_start = time.perf_counter()
    for rows, fn in steps:
        if not rows & cfg.rows:
            continue
        t0 = time.perf_counter()
        try:
            results.extend(fn(cfg))
        except CheckFailed as exc:
            failures.append(f"{fn.__name__}: {exc}")
        print(f"  {fn.__name__} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    results.sort(key=lambda r: int(r.row.split()[0]))
    if results:
        print(render(results))
    print(f"total {time.perf_counter() - t_start:.0f} s", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([r.__dict__ for r in results] + [{"failures": failures}], fh, indent=2)
    if failures:
        for f in failures:
            print(f"CHECK FAILED: {f}", file=sys.stderr)
        return 1
    if args.check:
        print("all correctness checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
