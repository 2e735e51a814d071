"""The sandbox in its own process, driven over stdin/stdout with one JSON line per command.

A real Autotask server does not share the client's interpreter, so the benchmarks do not let it either:
an in-process sandbox would compete with the client for the GIL and make every pull look slower than it
is (and would inflate the memory figure with the sandbox's own store).

Run as ``python -m benchmarks._server --tickets N``; it prints ``{"ready": ...}`` and then answers
commands: ``stats``, ``reset_stats``, ``faults`` (set attributes), ``ground_truth`` (ids and a digest),
``touch`` (edit records as a colleague would, for the refresh row).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SandboxProcess", "records_digest"]

_STAT_FIELDS = (
    "token_requests",
    "api_requests",
    "requests_by_endpoint",
    "max_concurrency",
    "max_concurrency_overall",
    "rejected_429",
    "faults_injected",
)


def records_digest(records: list[dict[str, Any]]) -> str:
    """A digest of records as they travel in JSON (key order and number formatting do not matter)."""
    h = hashlib.sha256()
    for rec in records:
        h.update(json.dumps(rec, sort_keys=True, default=str, separators=(",", ":")).encode())
        h.update(b"\n")
    return h.hexdigest()


def _stats_dict(sb: Any) -> dict[str, Any]:
    stats = sb.stats
    out: dict[str, Any] = {}
    for name in _STAT_FIELDS:
        value = getattr(stats, name, None)
        if isinstance(value, Mapping):
            value = dict(value)
        out[name] = value
    return out


def _serve(tickets: int, seed: int, latency_ms: int) -> None:
    from autotask_magic.sandbox import Sandbox

    with Sandbox(tickets=tickets, latency_ms=latency_ms, seed=seed) as sb:
        # Repeated 100,000-row pulls would reach the per-database hourly threshold of one real tenant;
        # the benchmark measures speed, not the threshold (the client's own limiter still applies).
        sb.faults.hourly_threshold = 10**9
        ready = {
            "ready": True,
            "root_url": sb.root_url,
            "base_url": sb.base_url,
            "env_api_user": sb.env(mode="api_user"),
            "env_oauth": sb.env(mode="oauth"),
            "headers": {
                "ApiIntegrationCode": sb.integration_code,
                "UserName": sb.username,
                "Secret": sb.secret,
            },
        }
        print(json.dumps(ready), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            try:
                reply = _handle(sb, cmd)
            except Exception as exc:  # the driver decides; keep serving
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply, default=str), flush=True)
            if cmd.get("cmd") == "stop":
                break


def _handle(sb: Any, cmd: dict[str, Any]) -> dict[str, Any]:
    name = cmd["cmd"]
    if name == "stats":
        return _stats_dict(sb)
    if name == "reset_stats":
        sb.reset_stats()
        return {"ok": True}
    if name == "faults":
        for key, value in cmd["set"].items():
            setattr(sb.faults, key, value)
        return {"ok": True}
    if name == "ground_truth":
        recs = sb.ground_truth(cmd.get("entity", "Tickets"), cmd.get("filter"))
        # Round-trip through JSON so the digest matches what a client parses off the wire.
        recs = json.loads(json.dumps(recs, default=str))
        return {"ids": [r["id"] for r in recs], "digest": records_digest(recs)}
    if name == "touch":
        return {"touched": _touch(sb, cmd.get("entity", "Tickets"), cmd["ids"])}
    if name == "stop":
        return {"ok": True}
    raise ValueError(f"unknown command {name!r}")


def _touch(sb: Any, entity: str, ids: list[int]) -> int:
    """Change ``ids`` as a colleague's edits would (title and last-activity time), without 1,000 PATCHes."""
    import datetime as _dt

    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    table = sb.store[entity]
    n = 0
    for rid in ids:
        old = table.get(rid)
        if old is not None:
            # Replace, never mutate: a concurrent reader may be serialising the old record.
            table[rid] = {**old, "title": f"{old.get('title', '')} (edited)", "lastActivityDate": now}
            n += 1
    return n


@dataclass
class SandboxProcess:
    """A sandbox running in a child process; use as a context manager."""

    tickets: int
    seed: int = 1
    latency_ms: int = 0

    def __enter__(self) -> SandboxProcess:
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks._server",
                "--tickets",
                str(self.tickets),
                "--seed",
                str(self.seed),
                "--latency",
                str(self.latency_ms),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        line = self._proc.stdout.readline() if self._proc.stdout else ""
        if not line:
            self._proc.wait(timeout=10)
            raise RuntimeError("the sandbox process exited before it was ready")
        self.info: dict[str, Any] = json.loads(line)
        self.base_url: str = self.info["base_url"]
        self.headers: dict[str, str] = self.info["headers"]
        return self

    def _call(self, payload: dict[str, Any]) -> Any:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(json.dumps(payload) + "\n")
        self._proc.stdin.flush()
        reply = json.loads(self._proc.stdout.readline())
        if isinstance(reply, dict) and "error" in reply:
            raise RuntimeError(f"sandbox process: {reply['error']}")
        return reply

    def stats(self) -> dict[str, Any]:
        """The sandbox's counters (``sb.stats``) as a dict."""
        return self._call({"cmd": "stats"})

    def reset_stats(self) -> None:
        """Zero the sandbox's counters."""
        self._call({"cmd": "reset_stats"})

    def set_faults(self, **values: Any) -> None:
        """Set ``sb.faults`` attributes, e.g. ``latency_ms=200``."""
        self._call({"cmd": "faults", "set": values})

    def ground_truth(self, entity: str = "Tickets", filter: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """``{"ids": [...], "digest": "..."}`` of the records matching ``filter``, in id order."""
        return self._call({"cmd": "ground_truth", "entity": entity, "filter": filter})

    def touch(self, ids: list[int], entity: str = "Tickets") -> int:
        """Edit these records on the server (title and last activity), as a colleague would."""
        return int(self._call({"cmd": "touch", "entity": entity, "ids": ids})["touched"])

    def env(self, mode: str = "api_user") -> dict[str, str]:
        """The ``AUTOTASK_*`` variables for one auth mode."""
        return dict(self.info["env_api_user" if mode == "api_user" else "env_oauth"])

    def __exit__(self, *exc: object) -> None:
        try:
            if self._proc.poll() is None:
                self._call({"cmd": "stop"})
                self._proc.wait(timeout=10)
        except Exception:
            pass
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency", type=int, default=0)
    args = parser.parse_args()
    _serve(args.tickets, args.seed, args.latency)


if __name__ == "__main__":
    main()
