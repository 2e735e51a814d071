"""Rows 7-10 (issue 15): reference expansion, refresh, resume and the cold pull, at 200 ms latency.

* Row 8: a full pull, then ``expand_frame`` of ``companyID`` and ``assignedResourceID`` with an empty
  name cache: extra requests = ceil(distinct ids / 500) per reference, extra wall / pull wall <= 10 %.
* Row 9: 1 % of the tickets edited on the server (``SandboxProcess.touch``), then ``client.refresh(df)``:
  requests <= ceil(changed / 500) + 2, wall <= 5 % of the full pull, result equal to a fresh pull.
* Row 10: a pull stopped (Ctrl-C) at half its pages, then ``resume=True``: page requests <= full + 1,
  rows equal to the ground truth.
* Row 11: a new client's ``query("Tickets")`` of 20,000 tickets (metadata, pull, DataFrame; the zone is
  known from an earlier client in this process, as in a kernel) vs the hand-written loop.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ._common import Config, Result, _check, _client, _date_columns
from ._server import SandboxProcess
from .handwritten import ALL_ROWS, handwritten_pull

PAGE = 500


def _pages(stats: dict[str, Any], entity: str = "Tickets") -> int:
    by = stats.get("requests_by_endpoint") or {}
    return sum(v for k, v in by.items() if k.endswith(f"/{entity}/query") or f"/{entity}/query/next" in k)


def _timed(cfg: Config, row: str, measure: str, ratio: float, target: float, detail: str) -> Result:
    """A timed ratio's line (``--check`` runs without latency: no verdict on time)."""
    return Result(row, measure, ratio, f"<= {target:.2f}", None if cfg.check else ratio <= target, detail)


def _all(stats: dict[str, Any]) -> int:
    return sum((stats.get("requests_by_endpoint") or {}).values())


def rows_analyst(cfg: Config) -> list[Result]:
    """Rows 7, 8 and 9 share one sandbox and one full pull."""
    import pandas as pd

    from autotask_magic.client._expand import expand_frame

    n = cfg.full_tickets
    latency = 0 if cfg.check else cfg.latency_ms  # --check: counts and equality only, no timing
    out: list[Result] = []
    with SandboxProcess(tickets=n) as sp, _client(sp, warm="Tickets") as client:
        for entity in ("Companies", "Resources"):
            client.fields(entity)  # metadata is cached per client; a session pays it once
        truth = sp.ground_truth("Tickets", ALL_ROWS)
        sp.set_faults(latency_ms=latency)
        t0 = time.perf_counter()
        df = client.query("Tickets")
        t_pull = time.perf_counter() - t0
        _check(list(df["id"]) == truth["ids"], "full pull: rows differ from ground truth")

        # Row 8: expansion with an empty cache.
        if 8 in cfg.rows:
            exp = df.copy()
            sp.reset_stats()
            t0 = time.perf_counter()
            sent = expand_frame(client, exp, client.fields("Tickets"), ["companyID", "assignedResourceID"])
            t_exp = time.perf_counter() - t0
            ideal = {f: math.ceil(exp[f].nunique() / PAGE) for f in sent}
            _check(sent == ideal, f"expansion sent {sent}, ideal {ideal}")
            _check(_all(sp.stats()) == sum(ideal.values()), f"expansion: {sp.stats()['requests_by_endpoint']}")
            sp.set_faults(latency_ms=0)
            names = {int(r["id"]): r["companyName"] for r in client.records("Companies", fields=["id", "companyName"])}
            _check((exp["companyID_name"] == exp["companyID"].map(names)).all(), "expansion: a wrong company name")
            sp.set_faults(latency_ms=latency)
            measure = f"{n:,} tickets, 2 references: extra wall / pull wall at {latency} ms"
            detail = f"{t_exp:.2f} s vs {t_pull:.2f} s; requests {sent} = ceil(distinct/500) {ideal}"
            out.append(_timed(cfg, "8 expansion", measure, t_exp / t_pull, 0.10, detail))

        # Row 9: refresh after 1 % changed.
        if 9 in cfg.rows:
            step = 100
            changed = sp.touch(truth["ids"][::step])
            sp.reset_stats()
            t0 = time.perf_counter()
            refreshed = client.refresh(df)
            t_ref = time.perf_counter() - t0
            used = _all(sp.stats())
            limit = math.ceil(changed / PAGE) + 2
            _check(used <= limit, f"refresh used {used} requests, at most {limit} allowed")
            sp.set_faults(latency_ms=0)
            fresh = client.query("Tickets", filter=df.attrs["autotask"]["filter"])
            try:
                pd.testing.assert_frame_equal(refreshed, fresh)
            except AssertionError as exc:
                _check(False, f"refresh differs from a fresh pull: {str(exc)[:300]}")
            sp.set_faults(latency_ms=latency)
            measure = f"1 % of {n:,} changed ({changed:,}): refresh wall / full pull wall at {latency} ms"
            detail = f"{t_ref:.2f} s vs {t_pull:.2f} s; requests {used} (<= ceil(changed/500)+2 = {limit}); equal"
            out.append(_timed(cfg, "9 refresh", measure, t_ref / t_pull, 0.05, detail + " to a fresh pull"))

        # Row 10: resume after an interruption at 50 %.
        if 10 in cfg.rows:
            sp.set_faults(latency_ms=0)  # request counts only
            truth = sp.ground_truth("Tickets", ALL_ROWS)
            full = math.ceil(n / PAGE)

            def stop(info: Any) -> None:
                if info.pages == full // 2:
                    raise KeyboardInterrupt

            sp.reset_stats()
            try:
                client.query("Tickets", on_page=stop)
                _check(False, "the pull was not interrupted")
            except KeyboardInterrupt:
                pass
            whole = client.query("Tickets", resume=True)
            pages = _pages(sp.stats())
            _check(list(whole["id"]) == truth["ids"], "resumed pull: rows differ from ground truth")
            _check(pages <= full + 1, f"resume: {pages} page requests, full pull {full}")
            out.append(
                Result(
                    "10 resume",
                    f"interrupted at 50 % of {n:,}, then resume: page requests / full pull",
                    pages / full,
                    "<= (full + 1) / full",
                    pages <= full + 1,
                    f"{pages} vs {full}; rows equal to ground truth",
                )
            )
    return out


def rows_cold_pull(cfg: Config) -> list[Result]:
    """Row 11: a new client's pull of 20,000 tickets at 200 ms vs the hand-written loop."""
    import statistics

    n = 5_000 if cfg.quick else 20_000
    with SandboxProcess(tickets=n) as sp:
        with _client(sp) as first:  # an earlier client in this kernel: the zone is known
            dates = _date_columns(first, "Tickets")
        truth = sp.ground_truth("Tickets", ALL_ROWS)
        latency = 0 if cfg.check else cfg.latency_ms
        sp.set_faults(latency_ms=latency)
        repeats = 1 if cfg.check else max(1, min(cfg.repeats, 3))
        magic_t, hand_t = [], []
        for _ in range(repeats):
            sp.reset_stats()
            t0 = time.perf_counter()
            with _client(sp) as client:
                df = client.query("Tickets")
            magic_t.append(time.perf_counter() - t0)
            stats = sp.stats()
            _check(list(df["id"]) == truth["ids"], "cold pull: rows differ from ground truth")
            del df
            t0 = time.perf_counter()
            hand, _ = handwritten_pull(sp.base_url, sp.headers, "Tickets", dates)
            hand_t.append(time.perf_counter() - t0)
            _check(list(hand["id"]) == truth["ids"], "hand-written pull: rows differ (harness bug)")
            del hand
    by = stats.get("requests_by_endpoint") or {}
    other = {k: v for k, v in by.items() if "/query" not in k}
    magic, handwritten = statistics.median(magic_t), statistics.median(hand_t)
    ratio = magic / handwritten
    return [
        Result(
            "11 cold pull",
            f"new client, {n:,} tickets at {latency} ms: autotask-magic / hand-written",
            ratio,
            "<= 1.03",
            None if cfg.check else ratio <= 1.03,
            f"{magic:.2f} s vs {handwritten:.2f} s; requests besides the pages: {other} "
            "(the two metadata calls together, zone known in this process)",
        )
    ]
