"""``python -m autotask_magic.sandbox`` starts, prints how to connect, and answers."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests._support.sandbox_http import cli_banner


def test_cli_starts_prints_and_answers() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "autotask_magic.sandbox", "--tickets", "300", "--seed", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = cli_banner(proc)
        out = "".join(lines)
        exports = dict(x.strip()[len("export ") :].split("=", 1) for x in lines if x.startswith("export "))
        assert {
            "AUTOTASK_CLIENT_ID",
            "AUTOTASK_CLIENT_SECRET",
            "AUTOTASK_TOKEN_URL",
            "AUTOTASK_BASE_URL",
            "AUTOTASK_USERNAME",
            "AUTOTASK_INTEGRATION_CODE",
            "AUTOTASK_SECRET",
            "AUTOTASK_ZONE_URL",
        } <= set(exports)
        assert "http://127.0.0.1:" in out
        tok = httpx.post(
            exports["AUTOTASK_TOKEN_URL"],
            data={
                "grant_type": "client_credentials",
                "client_id": exports["AUTOTASK_CLIENT_ID"],
                "client_secret": exports["AUTOTASK_CLIENT_SECRET"],
            },
            timeout=10,
        ).json()["access_token"]
        r = httpx.post(
            exports["AUTOTASK_BASE_URL"] + "Tickets/query/count",
            timeout=10,
            json={"filter": [{"op": "gte", "field": "id", "value": 0}]},
            headers={"Authorization": f"Bearer {tok}"},
        )
        assert r.json() == {"queryCount": 300}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0
