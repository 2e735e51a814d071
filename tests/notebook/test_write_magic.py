"""``%autotask update|create|delete ENTITY -i NAME`` (issue 17) in a real IPython shell against the sandbox."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from autotask_magic.notebook import _magics
from autotask_magic.notebook._write_commands import check_mixed
from tests._support.shell import Shown, run


def _login(ip: Any, magic: Any) -> Any:
    assert run(ip, "%autotask_login --sandbox --tickets 80").success
    return magic.sandbox


def _patches(sb: Any) -> int:
    return sum(n for k, n in sb.stats.requests_by_endpoint.items() if k.startswith("PATCH "))


def test_preview_then_update_then_rerun_sends_nothing(ip: Any, magic: Any, shown: Shown) -> None:
    sb = _login(ip, magic)
    ids = sb.store["Tickets"].ids[:4]
    ip.user_ns["fix"] = pd.DataFrame({"id": ids, "priority": ["Critical"] * 4})
    diff = run(ip, "%autotask update Tickets -i fix --dry-run").result
    assert _patches(sb) == 0
    assert list(diff.columns) == ["id", "field", "current", "new", "note"] and set(diff["new"]) <= {4}
    assert set(diff["note"]) <= {f"{label} → Critical" for label in ("Low", "Medium", "High")}  # picklist labels
    # The summary counts the records with a change, whatever their note says.
    assert f"{len(diff)} changes in {diff['id'].nunique()} records" in shown.text()

    assert run(ip, "%autotask update Tickets -i fix -o out").success
    out = ip.user_ns["out"]
    assert set(out["status"]) == {"ok"} and all(sb.store["Tickets"][i]["priority"] == 4 for i in ids)
    assert _patches(sb) == len(diff["id"].unique())
    assert "Tickets update: 4 rows" in shown.text()

    again = run(ip, "%autotask update Tickets -i fix").result
    assert _patches(sb) == len(diff["id"].unique()) and set(again["message"]) == {"unchanged; not sent"}


def test_failed_rows_are_retried_from_the_outcome(ip: Any, magic: Any) -> None:
    sb = _login(ip, magic)
    ids = sb.store["Tickets"].ids[:5]
    ip.user_ns["fix"] = pd.DataFrame({"id": ids, "title": [f"clean {i}" for i in ids]})
    sb.faults.write_errors = {ids[2]}
    sb.faults.write_drops = {ids[3]}
    out = run(ip, "%autotask update Tickets -i fix -o out --yes") and ip.user_ns["out"]
    assert out["status"].tolist() == ["ok", "ok", "failed", "unknown", "ok"]
    sb.faults.write_errors = set()
    sb.faults.write_drops = set()
    again = run(ip, "%autotask update Tickets -i fix --retry-failed out").result
    assert set(again["status"]) == {"ok"}
    assert all(sb.stats.write_count("Tickets", i) == 1 for i in ids)


def test_big_writes_ask_once_and_refuse_without_anyone_to_ask(ip: Any, magic: Any) -> None:
    sb = _login(ip, magic)
    magic.confirm_above = 2
    ids = sb.store["Tickets"].ids[:3]
    ip.user_ns["fix"] = pd.DataFrame({"id": ids, "title": ["a", "b", "c"]})
    asked: list[str] = []
    magic._can_prompt = lambda: True
    magic._input = lambda text: asked.append(text) or "n"
    result = run(ip, "%autotask update Tickets -i fix")
    assert asked == ["update 3 Tickets records? [y/N] "] and "cancelled" in str(result.error_in_exec)
    assert _patches(sb) == 0
    magic._can_prompt = lambda: False
    result = run(ip, "%autotask update Tickets -i fix")
    assert "no one can confirm here; nothing was sent" in str(result.error_in_exec) and _patches(sb) == 0
    assert run(ip, "%autotask update Tickets -i fix --yes").success and _patches(sb) == 3


def test_create_child_notes_and_delete_by_ids(ip: Any, magic: Any) -> None:
    sb = _login(ip, magic)
    tid = sb.store["Tickets"].ids[0]
    ip.user_ns["notes"] = pd.DataFrame({"ticketID": [tid], "title": ["called back"], "description": ["ok"]})
    out = run(ip, "%autotask create TicketNotes -i notes").result
    assert out["status"].tolist() == ["ok"] and sb.store["TicketNotes"][int(out["itemId"][0])]["ticketID"] == tid
    ip.user_ns["gone"] = list(sb.store["TimeEntries"].ids[:2])
    out = run(ip, "%autotask delete TimeEntries -i gone").result
    assert out["status"].tolist() == ["ok", "ok"]


def test_ctrl_c_keeps_the_outcome_so_far(ip: Any, magic: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from autotask_magic.notebook import _write_commands

    sb = _login(ip, magic)
    sb.faults.latency_ms = 40
    ids = sb.store["Tickets"].ids[:60]
    ip.user_ns["fix"] = pd.DataFrame({"id": ids, "title": [f"x{i}" for i in ids]})
    original = _write_commands._WriteProgress.update

    def update(self: Any, ok: int, failed: int, unknown: int, total: int) -> None:
        original(self, ok, failed, unknown, total)
        if ok >= 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(_write_commands._WriteProgress, "update", update)
    result = run(ip, "%autotask update Tickets -i fix --yes")
    assert "interrupted (Ctrl-C)" in str(result.error_in_exec)
    partial = ip.user_ns[_magics.PARTIAL_NAME]
    assert (partial["status"] == "not sent").any()
    for rid, status in zip(partial["id"], partial["status"], strict=True):
        assert sb.stats.write_count("Tickets", rid) == (1 if status == "ok" else 0)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("DELETE Tickets -i x", "takes no -i"),
        ("PATCH /Tickets -i x", "takes no -i"),
        ("delete /Tickets/1", "for a raw request write DELETE /Tickets/1"),
        ("UPDATE Tickets -i x", "frame commands are lower-case"),
    ],
)
def test_mixed_forms_are_refused(ip: Any, magic: Any, line: str, words: str) -> None:
    result = run(ip, f"%autotask {line}")
    assert isinstance(result.error_in_exec, UsageError) and words in str(result.error_in_exec)
    head, _, rest = line.partition(" ")
    with pytest.raises(UsageError):
        check_mixed(head, rest)


def test_bad_lines_are_one_line_usage_errors(ip: Any, magic: Any) -> None:
    ip.user_ns["rows"] = {"id": 1}
    for line, words in (
        ("update Tickets", "needs -i NAME"),
        ("update Tickets -i nothing", "-i nothing: no such variable"),
        ("update Tickets -i rows", "expected a DataFrame, got dict"),
        ("create Tickets -i rows --nulls clear", "unrecognized arguments"),
    ):
        result = run(ip, f"%autotask {line}")
        assert words in str(result.error_in_exec), (line, result.error_in_exec)


def test_ctrl_c_while_the_frame_is_read_sends_nothing(ip: Any, magic: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from autotask_magic.client import _write_plan

    sb = _login(ip, magic)
    ip.user_ns["fix"] = pd.DataFrame({"id": sb.store["Tickets"].ids[:3], "title": ["a", "b", "c"]})

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(_write_plan, "read_current", interrupted)
    result = run(ip, "%autotask update Tickets -i fix")
    assert "interrupted (Ctrl-C) while the frame was checked; no write was sent" in str(result.error_in_exec)
    assert _patches(sb) == 0 and _magics.PARTIAL_NAME not in ip.user_ns


def test_progress_counts_ok_failed_and_unknown(
    ip: Any, magic: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from autotask_magic.notebook import _write_commands

    monkeypatch.setattr(_write_commands._WriteProgress, "SHOW_AFTER", 0.0)
    sb = _login(ip, magic)
    ids = sb.store["Tickets"].ids[:6]
    sb.faults.write_errors = {ids[0]}
    sb.faults.write_drops = {ids[1]}
    ip.user_ns["fix"] = pd.DataFrame({"id": ids, "title": [f"p{i}" for i in ids]})
    assert run(ip, "%autotask update Tickets -i fix").success
    assert "Tickets update [####################] 6/6 rows (4 ok, 1 failed, 1 unknown)" in capsys.readouterr().out
