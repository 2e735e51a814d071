"""The magic's analyst options against the sandbox: --expand (and %config AutotaskMagic.expand), relative
dates and labels in --dry-run, --refresh NAME [--no-fallback], --resume after Ctrl-C."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.query import _relative
from tests._support.shell import interrupt_on_page, run


@pytest.fixture
def sandbox_ip(ip: InteractiveShell, magic: Any) -> InteractiveShell:
    assert run(ip, "%autotask_login --sandbox --tickets 1500").success
    return ip


def _client(magic: Any) -> Any:
    return magic.session.client


def test_expand_option_and_config_default(sandbox_ip: InteractiveShell, magic: Any) -> None:
    ip = sandbox_ip
    assert run(ip, "%autotask query Tickets --expand companyID,assignedResourceID -o t where status != 5").success
    t = ip.user_ns["t"]
    companies = {r["id"]: r["companyName"] for r in magic.session.sandbox.ground_truth("Companies")}
    assert (t["companyID_name"] == t["companyID"].map(companies)).all()
    assert "assignedResourceID_name" in t.columns
    run(ip, "%config AutotaskMagic.expand = 'companyID'")
    assert run(ip, "%autotask query Tickets --limit 3 -o u").success
    assert list(ip.user_ns["u"].columns).count("companyID_name") == 1
    assert run(ip, "%autotask query Resources --limit 3 -o r").success  # no companyID: the default skips it
    assert "companyID_name" not in ip.user_ns["r"].columns
    result = run(ip, "%autotask query Tickets --count --expand companyID")
    assert not result.success and "--expand adds columns" in str(result.error_in_exec)


def test_dry_run_shows_relative_dates_and_labels_resolved(
    sandbox_ip: InteractiveShell, magic: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_relative, "clock", lambda: _dt.datetime(2026, 3, 10, 15, 30, tzinfo=_dt.UTC))
    said: list[str] = []
    monkeypatch.setattr(magic.runner, "say", said.append)
    assert run(
        sandbox_ip,
        "%autotask query Tickets --dry-run --tz Asia/Tokyo where createDate >= today - 30d and status = 'complete'",
    ).success
    text = "\n".join(said)
    assert '"value": "2026-02-08T15:00:00Z"' in text and '"value": 5' in text
    assert "resolved now, in Asia/Tokyo: today - 30d = 2026-02-08T15:00:00Z; status 'complete' = 5" in text


def test_refresh_a_frame_after_changes(
    sandbox_ip: InteractiveShell, magic: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip = sandbox_ip
    assert run(
        ip, "%autotask query Tickets --expand companyID -o tickets where status != 5 and createDate >= today - 3000d"
    ).success
    before = ip.user_ns["tickets"]
    client = _client(magic)
    first = int(before["id"].iloc[0])
    client.request("PATCH", "Tickets", json={"id": first, "title": "changed by a colleague"})
    said: list[str] = []
    monkeypatch.setattr(magic.runner, "say", said.append)
    assert run(ip, "%autotask query Tickets --refresh tickets").success
    after = ip.user_ns["tickets"]
    assert after.loc[after["id"] == first, "title"].item() == "changed by a colleague"
    assert (
        "1 updated, 0 added, 0 dropped" in said[-1] and "relative dates keep the values of the first pull" in said[-1]
    )
    info = after.attrs["autotask"]
    fresh = client.query("Tickets", filter=info["filter"], expand=["companyID"])
    pd.testing.assert_frame_equal(after, fresh)
    for line, message in [
        ("%autotask query Companies --refresh tickets", "that frame holds Tickets, not Companies"),
        ("%autotask query Tickets --refresh tickets where id > 0", "the condition differs"),
        ("%autotask query Tickets --refresh nothing_here", "no frame from %autotask query"),
        ("%autotask query Tickets --refresh tickets --limit 5", "--refresh and --limit do not go together"),
        ("%autotask query Tickets --no-fallback", "--no-fallback belongs to --refresh NAME"),
    ]:
        result = run(ip, line)
        assert not result.success and message in str(result.error_in_exec), line
    assert run(ip, "%autotask query Resources -o people").success
    result = run(ip, "%autotask query Resources --refresh people")
    assert "Resources has no last-modified field" in str(result.error_in_exec)


def test_resume_after_ctrl_c(sandbox_ip: InteractiveShell, magic: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ip = sandbox_ip
    run(ip, "%config AutotaskMagic.page_size = 100")
    interrupt_on_page(monkeypatch, 5)
    result = run(ip, "%autotask query Tickets -o t where createDate >= today - 3000d")
    assert not result.success and "--resume to continue" in str(result.error_in_exec)
    monkeypatch.undo()
    result = run(ip, "%autotask query Tickets --resume -o t where createDate >= today - 2000d")
    assert not result.success and "no stopped pull of this query" in str(result.error_in_exec)
    assert run(ip, "%autotask query Tickets --resume -o t where createDate >= today - 3000d").success
    t = ip.user_ns["t"]
    pd.testing.assert_frame_equal(t, _client(magic).query("Tickets", filter=t.attrs["autotask"]["filter"]))
