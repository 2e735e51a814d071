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


def test_cli_durations_read_like_the_magic() -> None:
    # One meaning for every duration option: units, and a bare number is seconds.
    import pytest

    from autotask_magic._durations import parse_duration, parse_latency_ms
    from autotask_magic.sandbox.__main__ import main

    assert parse_duration("500ms") == 0.5 and parse_duration("2") == 2.0 and parse_duration("0.5s") == 0.5
    assert parse_latency_ms("200ms") == 200 and parse_latency_ms("0.2") == 200
    with pytest.raises(ValueError, match="write 200ms for milliseconds"):
        parse_latency_ms("200")  # 200 seconds per answer is a typo for milliseconds
    with pytest.raises(SystemExit):
        main(["--latency", "200"])  # refused by argparse before anything starts
    with pytest.raises(SystemExit):
        main(["--token-ttl", "soon"])
