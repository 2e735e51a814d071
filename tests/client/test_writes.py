"""Writes from a DataFrame (issue 17) against the sandbox, with injected faults.

The sandbox is the ground truth: its records say what was applied and ``stats.write_count`` how often,
so every outcome row is checked against what really happened, and no write may ever be counted twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from autotask_magic import AutotaskClient, ConfigurationError
from autotask_magic.sandbox import Sandbox
from tests._support.clients import oauth_client


@pytest.fixture
def sb(sandbox_factory: Any) -> Sandbox:
    return sandbox_factory(tickets=300)


@pytest.fixture
def client(sb: Sandbox) -> Iterator[AutotaskClient]:
    with oauth_client(sb, max_retry_sleep=0.05) as c:
        yield c


def _ids(sb: Sandbox, n: int, entity: str = "Tickets") -> list[int]:
    return list(sb.store[entity].ids[:n])


def _patches(sb: Sandbox) -> int:
    return sum(n for k, n in sb.stats.requests_by_endpoint.items() if k.startswith("PATCH "))


def _check_truth(sb: Sandbox, out: pd.DataFrame, want: dict[int, str]) -> None:
    """Every ok/unknown row was applied exactly once, every failed one never."""
    for rid, status in out.set_index("id")["status"].items():
        rec = sb.store["Tickets"][rid]
        applied = sb.stats.write_count("Tickets", rid)
        if status == "failed":
            assert applied == 0 and rec["title"] != want[rid], (rid, status)
        else:
            assert rec["title"] == want[rid] and applied == 1, (rid, status, applied)


def test_outcome_is_exact_under_500s_drops_and_429s_and_retry_converges(sb: Sandbox, client: AutotaskClient) -> None:
    ids = _ids(sb, 12)
    want = {rid: f"cleaned {rid}" for rid in ids}
    df = pd.DataFrame({"id": ids, "title": [want[i] for i in ids]})
    failing, dropped = set(ids[1:3]), {ids[4], ids[7]}
    sb.faults.write_errors = set(failing)
    sb.faults.write_drops = set(dropped)
    sb.faults.burst_429(4)  # the diff read pays some; the writes the rest

    out = client.update("Tickets", df)

    assert list(out.index) == list(df.index) and list(out.columns) == ["id", "status", "message"]
    expected = {rid: "failed" if rid in failing else "unknown" if rid in dropped else "ok" for rid in ids}
    assert dict(zip(out["id"], out["status"], strict=True)) == expected
    assert all("injected" in m for m in out.loc[out["status"] == "failed", "message"])
    _check_truth(sb, out, want)
    assert max(sb.stats.max_concurrency.get("PATCH /Tickets", 0), 0) <= 3

    sb.faults.write_errors = set()
    sb.faults.write_drops = set()
    again = client.update("Tickets", df, retry=out)
    assert set(again["status"]) == {"ok"}
    # Unknown rows were re-read, found applied, and not sent again; failed ones were sent once.
    assert all("re-read" in m for m in again.loc[again["id"].isin(dropped), "message"])
    assert all(sb.stats.write_count("Tickets", rid) == 1 for rid in ids)

    before = _patches(sb)
    third = client.update("Tickets", df)
    assert _patches(sb) == before and set(third["message"]) == {"unchanged; not sent"}


def test_dry_run_diff_leaves_out_unchanged_cells_and_flags_missing_ids(sb: Sandbox, client: AutotaskClient) -> None:
    ids = _ids(sb, 3)
    recs = [sb.store["Tickets"][i] for i in ids]
    df = pd.DataFrame(
        {
            "id": [*ids, 99],
            "title": [recs[0]["title"], "new title", None, "x"],
            "priority": [recs[0]["priority"], recs[1]["priority"], "Critical", np.nan],
        }
    )
    diff = client.update("Tickets", df, dry_run=True)
    assert sb.stats.writes == []
    rows = {(r.id, r.field): (r.current, r.new) for r in diff.itertuples()}
    assert rows.get((ids[1], "title")) == (recs[1]["title"], "new title")
    assert (ids[0], "title") not in rows and (ids[0], "priority") not in rows
    if recs[2]["priority"] != 4:
        assert rows[(ids[2], "priority")] == (recs[2]["priority"], 4)  # the label became its value
        # The note names both labels: a picklist id says little on its own.
        labels = client.fields("Tickets").picklist("priority")
        note = diff.loc[(diff["id"] == ids[2]) & (diff["field"] == "priority"), "note"].item()
        assert note == f"{labels[recs[2]['priority']]} → Critical", note
    assert diff.loc[(diff["id"] == ids[1]) & (diff["field"] == "title"), "note"].item() == ""  # not a picklist
    assert diff.loc[diff["id"] == 99, "note"].tolist() == ["id does not exist"]
    reads = sum(n for k, n in sb.stats.requests_by_endpoint.items() if k == "POST /Tickets/query")
    assert reads == 1


def test_bad_frame_is_refused_whole_in_one_line(sb: Sandbox, client: AutotaskClient) -> None:
    ids = _ids(sb, 2)
    bad = pd.DataFrame({"id": [ids[0], 99], "titel": ["a", "b"], "createDate": ["2026-01-01", None]})
    with pytest.raises(ConfigurationError) as info:
        client.update("Tickets", bad)
    text = str(info.value)
    assert "\n" not in text and "titel (did you mean title?)" in text and "read-only columns: createDate" in text
    with pytest.raises(ConfigurationError, match=r"ids that do not exist in Tickets: row 1: 99"):
        client.update("Tickets", pd.DataFrame({"id": [ids[0], 99], "title": ["a", "b"]}))
    with pytest.raises(ConfigurationError, match=r"row 1 column priority: 'Hgh' is neither a value nor a label"):
        client.update("Tickets", pd.DataFrame({"id": ids, "priority": ["High", "Hgh"]}))
    with pytest.raises(ConfigurationError, match=r"ids given twice"):
        client.update("Tickets", pd.DataFrame({"id": [ids[0], ids[0]], "title": ["a", "b"]}))
    with pytest.raises(ConfigurationError, match=r"companyID values with no Companies record: row 0: 987654"):
        client.update("Tickets", pd.DataFrame({"id": [ids[0]], "companyID": [987654]}))
    assert sb.stats.writes == []


def test_nulls_leave_unchanged_unless_cleared_and_udfs_and_dates_are_encoded(
    sb: Sandbox, client: AutotaskClient
) -> None:
    rid = _ids(sb, 1)[0]
    df = pd.DataFrame(
        {
            "id": [rid],
            "title": [None],
            "dueDateTime": [pd.Timestamp("2026-03-01 10:30", tz="Europe/Berlin")],
            "udf.Customer Satisfaction": ["4"],
        }
    )
    assert client.update("Tickets", df)["status"].tolist() == ["ok"]
    body = sb.stats.writes[-1]["body"]
    assert body == {
        "id": rid,
        "dueDateTime": "2026-03-01T09:30:00.000Z",
        "userDefinedFields": [{"name": "Customer Satisfaction", "value": "4"}],
    }
    udfs = {u["name"]: u["value"] for u in sb.store["Tickets"][rid]["userDefinedFields"]}
    assert str(udfs["Customer Satisfaction"]) == "4"
    assert client.update("Tickets", df)["message"].tolist() == ["unchanged; not sent"]
    cleared = pd.DataFrame({"id": [rid], "udf.Customer Satisfaction": [pd.NA]})
    client.update("Tickets", cleared, nulls="clear")
    assert sb.stats.writes[-1]["body"]["userDefinedFields"] == [{"name": "Customer Satisfaction", "value": None}]


def test_child_entities_go_through_the_parents_path(sb: Sandbox, client: AutotaskClient) -> None:
    tid = _ids(sb, 1)[0]
    notes = pd.DataFrame({"ticketID": [tid, tid], "title": ["n1", "n2"], "description": ["first", "second"]})
    out = client.create("TicketNotes", notes)
    assert list(out["status"]) == ["ok", "ok"]
    created = [w for w in sb.stats.writes if w["method"] == "POST"]
    assert [w["entity"] for w in created] == ["TicketNotes", "TicketNotes"]
    assert "POST /Tickets/{id}/Notes" in sb.stats.requests_by_endpoint
    for new_id, title in zip(out["itemId"], ["n1", "n2"], strict=True):
        assert sb.store["TicketNotes"][int(new_id)]["title"] == title

    # Contacts are updated under Companies/{companyID}/Contacts: the diff read fetches companyID.
    cid = _ids(sb, 1, "Contacts")[0]
    out = client.update("Contacts", pd.DataFrame({"id": [cid], "title": ["Chief Cleaner"]}))
    assert out["status"].tolist() == ["ok"] and sb.store["Contacts"][cid]["title"] == "Chief Cleaner"
    assert "PATCH /Companies/{id}/Contacts" in sb.stats.requests_by_endpoint


def test_creates_check_required_fields_and_unknown_creates_are_never_resent(
    sb: Sandbox, client: AutotaskClient
) -> None:
    base = {"companyID": 0, "status": 1, "priority": "Low", "dueDateTime": "2026-07-01T09:00:00Z"}
    with pytest.raises(ConfigurationError, match=r"required title missing in rows: 1"):
        client.create("Tickets", pd.DataFrame([{**base, "title": "ok"}, {**base, "title": None}]))
    rows = pd.DataFrame([{**base, "title": t} for t in ("one", "lost", "refused")])
    sb.faults.write_drops = {"lost"}
    sb.faults.write_errors = {"refused"}
    out = client.create("Tickets", rows)
    assert out["status"].tolist() == ["ok", "unknown", "failed"]
    sb.faults.write_drops = set()
    sb.faults.write_errors = set()
    again = client.create("Tickets", rows, retry=out)
    assert again["status"].tolist() == ["ok", "unknown", "ok"]
    titles = [r["title"] for r in sb.store["Tickets"].values()]
    assert titles.count("lost") == 1 and titles.count("refused") == 1 and titles.count("one") == 1
    # With match columns the unknown create is looked up: found, so it is not sent again.
    matched = client.create("Tickets", rows, retry=again, match=["title"])
    assert matched["status"].tolist() == ["ok", "ok", "ok"] and titles.count("lost") == 1
    assert [r["title"] for r in sb.store["Tickets"].values()].count("lost") == 1


def test_a_udf_match_column_is_refused_in_one_line(sb: Sandbox, client: AutotaskClient) -> None:
    rows = pd.DataFrame({"title": ["a"], "udf.Root Cause": ["x"]})
    with pytest.raises(ConfigurationError) as info:
        client.create("Tickets", rows, match=["udf.Root Cause"])
    assert "--match columns that are UDFs" in str(info.value) and "\n" not in str(info.value)
    assert sb.stats.writes == []


def test_deletes_and_an_unknown_delete_is_re_read(sb: Sandbox, client: AutotaskClient) -> None:
    ids = _ids(sb, 3, "TimeEntries")
    sb.faults.write_drops = {ids[1]}
    out = client.delete("TimeEntries", ids)
    assert out["status"].tolist() == ["ok", "unknown", "ok"]
    assert all(i not in sb.store["TimeEntries"] for i in ids)
    sb.faults.write_drops = set()
    again = client.delete("TimeEntries", ids, retry=out)
    assert again["status"].tolist() == ["ok", "ok", "ok"]
    assert "re-read" in again["message"].iloc[1]
    assert all(sb.stats.write_count("TimeEntries", i) == 1 for i in ids)
    with pytest.raises(ConfigurationError, match="Tickets records cannot be deleted through the API"):
        client.delete("Tickets", [1])


def test_ctrl_c_stops_after_the_writes_in_flight(sb: Sandbox, client: AutotaskClient) -> None:
    sb.faults.latency_ms = 30
    ids = _ids(sb, 30)
    df = pd.DataFrame({"id": ids, "title": [f"t{i}" for i in ids]})

    def progress(ok: int, failed: int, unknown: int, total: int) -> None:
        if ok >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        client.update("Tickets", df, on_progress=progress)
    outcome = info.value.outcome  # type: ignore[attr-defined]
    assert len(outcome) == 30 and set(outcome["status"]) <= {"ok", "not sent"}
    for rid, status in zip(outcome["id"], outcome["status"], strict=True):
        assert sb.stats.write_count("Tickets", rid) == (1 if status == "ok" else 0)
    assert (outcome["status"] == "not sent").sum() > 0
    rest = client.update("Tickets", df, retry=outcome)
    assert set(rest["status"]) == {"ok"} and all(sb.stats.write_count("Tickets", i) == 1 for i in ids)


def test_writes_refused_with_429_are_sent_again_once_and_never_duplicated(sb: Sandbox, client: AutotaskClient) -> None:
    ids = _ids(sb, 6)
    df = pd.DataFrame({"id": ids, "title": [f"after 429 {i}" for i in ids]})
    # The burst starts after the diff read, just before the first write (confirm runs there).
    out = client.update("Tickets", df, confirm=lambda n: sb.faults.burst_429(4) is None and n == 6)
    assert set(out["status"]) == {"ok"}
    assert sb.stats.faults_injected.get("burst_429") == 4
    assert _patches(sb) == 6 + 4 and all(sb.stats.write_count("Tickets", i) == 1 for i in ids)
    assert all(sb.store["Tickets"][i]["title"] == f"after 429 {i}" for i in ids)


def test_confirm_false_sends_nothing(sb: Sandbox, client: AutotaskClient) -> None:
    df = pd.DataFrame({"id": _ids(sb, 2), "title": ["a", "b"]})
    with pytest.raises(ConfigurationError, match="cancelled, nothing was sent"):
        client.update("Tickets", df, confirm=lambda n: False)
    assert sb.stats.writes == []


def test_writes_that_would_pass_the_hourly_threshold_are_refused_before_the_first(sb: Sandbox) -> None:
    from autotask_magic import RateLimitError
    from tests._support.clients import api_user_client

    with api_user_client(sb) as c:
        c.manager.hourly_threshold = 8
        df = pd.DataFrame({"id": _ids(sb, 10), "title": [f"t{i}" for i in range(10)]})
        with pytest.raises(RateLimitError, match=r"10 writes would pass the hourly threshold"):
            c.update("Tickets", df)
    assert sb.stats.writes == []
