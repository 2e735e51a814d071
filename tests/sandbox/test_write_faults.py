"""Write faults for issue 17: HTTP 500 for chosen ids, a connection dropped after the write was applied,
and the per-id write counter that proves no write was duplicated."""

from __future__ import annotations

import httpx
import pytest

from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import api_user_http


def test_write_error_leaves_the_record_unchanged(sandbox: Sandbox) -> None:
    tid = sandbox.store["Tickets"].ids[0]
    before = dict(sandbox.store["Tickets"][tid])
    sandbox.faults.write_errors = {tid}
    with api_user_http(sandbox) as c:
        r = c.patch("Tickets", json={"id": tid, "title": "changed"})
        assert r.status_code == 500 and "injected" in r.json()["errors"][0]
        assert c.delete("Tickets/" + str(tid)).status_code in (404, 405, 500)
    assert sandbox.store["Tickets"][tid] == before
    assert sandbox.stats.write_count("Tickets", tid) == 0
    assert sandbox.stats.faults_injected["write_error"] >= 1


def test_drop_after_write_applies_it_and_sends_no_answer(sandbox: Sandbox) -> None:
    tid = sandbox.store["Tickets"].ids[1]
    sandbox.faults.write_drops = {tid}
    with api_user_http(sandbox) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.patch("Tickets", json={"id": tid, "title": "applied, unanswered"})
    assert sandbox.store["Tickets"][tid]["title"] == "applied, unanswered"
    assert sandbox.stats.write_count("Tickets", tid) == 1
    assert sandbox.stats.faults_injected["drop_after_write"] == 1


def test_create_faults_match_a_body_value_and_count_the_new_id(sandbox: Sandbox) -> None:
    sandbox.faults.write_errors = {"bad title"}
    sandbox.faults.write_drops = {"lost answer"}
    body = {"companyID": 174, "status": 1, "priority": 4, "dueDateTime": "2026-07-01T09:00:00Z"}
    with api_user_http(sandbox) as c:
        assert c.post("Tickets", json={**body, "title": "bad title"}).status_code == 500
        ok = c.post("Tickets", json={**body, "title": "fine"}).json()["itemId"]
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("Tickets", json={**body, "title": "lost answer"})
    made = [r for r in sandbox.store["Tickets"].values() if r["title"] in ("bad title", "fine", "lost answer")]
    assert sorted(r["title"] for r in made) == ["fine", "lost answer"]
    assert sandbox.stats.write_count("Tickets", ok) == 1
    assert sandbox.stats.writes_per_id[("Tickets", ok + 1)] == 1
