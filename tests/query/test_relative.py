"""Relative dates (``today - 30d``…): parsed, rendered, resolved against a fixed clock in three zones,
and sent to the sandbox with the rows its ground truth gives for the resolved value."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pytest

from autotask_magic._exceptions import QuerySyntaxError
from autotask_magic.entities import EntityFields, FieldInfo
from autotask_magic.query import _relative, parse_where, render_where, validate_filter
from autotask_magic.query._relative import RelativeDate, resolve_dates, resolve_relative, resolved_text
from autotask_magic.sandbox import Sandbox
from tests._support.clients import oauth_client

# Tuesday 2026-03-10 15:30 UTC: New York is on summer time since 2026-03-08 (the 30 days back cross it),
# Tokyo is already on Wednesday.
NOW = _dt.datetime(2026, 3, 10, 15, 30, tzinfo=_dt.UTC)

EXPECTED = {
    "UTC": {
        "today": "2026-03-10T00:00:00Z",
        "today - 30d": "2026-02-08T00:00:00Z",
        "now - 6h": "2026-03-10T09:30:00Z",
        "startofweek + 7d": "2026-03-16T00:00:00Z",
        "startofmonth": "2026-03-01T00:00:00Z",
        "startofyear": "2026-01-01T00:00:00Z",
        "today + 90m": "2026-03-10T01:30:00Z",
        "startofweek - 1w": "2026-03-02T00:00:00Z",
    },
    "America/New_York": {
        "today": "2026-03-10T04:00:00Z",
        "today - 30d": "2026-02-08T05:00:00Z",  # midnight EST: calendar days keep midnight across DST
        "now - 6h": "2026-03-10T09:30:00Z",
        "startofweek + 7d": "2026-03-16T04:00:00Z",
        "startofmonth": "2026-03-01T05:00:00Z",
        "startofyear": "2026-01-01T05:00:00Z",
        "today + 90m": "2026-03-10T05:30:00Z",
        "startofweek - 1w": "2026-03-02T05:00:00Z",
    },
    "Asia/Tokyo": {
        "today": "2026-03-10T15:00:00Z",
        "today - 30d": "2026-02-08T15:00:00Z",
        "now - 6h": "2026-03-10T09:30:00Z",
        "startofweek + 7d": "2026-03-15T15:00:00Z",
        "startofmonth": "2026-02-28T15:00:00Z",
        "startofyear": "2025-12-31T15:00:00Z",
        "today + 90m": "2026-03-10T16:30:00Z",
        "startofweek - 1w": "2026-03-01T15:00:00Z",
    },
}

META = EntityFields(
    "TimeEntries",
    [FieldInfo("id", "long"), FieldInfo("createDate", "dateTime"), FieldInfo("dateWorked", "dateTime")],
)


@pytest.mark.parametrize("tz", list(EXPECTED))
@pytest.mark.parametrize("expr", list(EXPECTED["UTC"]))
def test_resolved_against_a_fixed_clock(tz: str, expr: str) -> None:
    flt = validate_filter(parse_where(f"createDate >= {expr}"), META)
    assert resolve_relative(flt, META, tz, NOW)[0]["value"] == EXPECTED[tz][expr]


@pytest.mark.parametrize(
    ("tz", "day"), [("UTC", "2026-03-10"), ("America/New_York", "2026-03-10"), ("Asia/Tokyo", "2026-03-11")]
)
def test_a_date_only_field_gets_the_zones_calendar_day(tz: str, day: str) -> None:
    flt = validate_filter(parse_where("dateWorked >= today"), META)
    assert resolve_relative(flt, META, tz, NOW)[0]["value"] == f"{day}T00:00:00Z"


def test_parsed_spellings_and_rendering() -> None:
    flt = parse_where("createDate >= Today-30D and (createDate < now + 2h or createDate in (startofmonth, today))")
    assert flt[0]["value"] == "today - 30d" and isinstance(flt[0]["value"], RelativeDate)
    assert render_where(flt) == (
        "createDate >= today - 30d and (createDate < now + 2h or createDate in (startofmonth, today))"
    )
    assert parse_where(render_where(flt)) == flt
    assert parse_where("title = 'today'")[0]["value"] == "today"
    assert not isinstance(parse_where("title = 'today'")[0]["value"], RelativeDate)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("createDate >= today - 30", "incomplete relative date"),
        ("createDate >= today - 30y", "incomplete relative date"),
        ("createDate >= today + ", "incomplete relative date"),
        ("createDate >= yesterday", "unquoted value 'yesterday'"),
    ],
)
def test_broken_relative_dates_point_at_the_anchor(text: str, what: str) -> None:
    with pytest.raises(QuerySyntaxError, match=what) as info:
        parse_where(text)
    assert info.value.position == 14


def test_a_relative_date_on_a_number_field_is_refused() -> None:
    meta = EntityFields("Tickets", [FieldInfo("id", "long"), FieldInfo("status", "integer")])
    with pytest.raises(QuerySyntaxError, match="status is not a date field"):
        validate_filter(parse_where("status = today"), meta)


def test_literals_without_a_zone_read_in_it_and_notes_say_what_was_sent() -> None:
    typed = validate_filter(parse_where("createDate >= today - 1d and createDate < '2026-03-10 12:00'"), META)
    sent = resolve_dates(typed, META, "America/New_York", NOW)
    assert sent[0]["value"] == "2026-03-09T04:00:00Z"
    assert sent[1]["value"] == "2026-03-10T16:00:00Z"
    assert resolved_text(typed, sent) == ["today - 1d = 2026-03-09T04:00:00Z"]


def _ids(records: list[dict[str, Any]]) -> list[int]:
    return sorted(int(r["id"]) for r in records)


@pytest.mark.parametrize("tz", list(EXPECTED))
def test_sandbox_rows_match_ground_truth_of_the_resolved_value(
    tz: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sandbox's tickets end mid-2026: a clock then makes "startofmonth - 8w" select a real slice.
    clock = _dt.datetime(2026, 6, 20, 1, 0, tzinfo=_dt.UTC)
    monkeypatch.setattr(_relative, "clock", lambda: clock)
    expected = resolve_relative(parse_where("createDate >= startofmonth - 8w"), None, tz, clock)[0]["value"]
    with oauth_client(sandbox) as client:
        df = client.query("Tickets", "createDate >= startofmonth - 8w", tz=tz, fields=["id", "createDate"])
    truth = sandbox.ground_truth("Tickets", [{"op": "gte", "field": "createDate", "value": expected}])
    assert 0 < len(truth) < sandbox.tickets
    assert sorted(df["id"].tolist()) == _ids(truth)
    info = df.attrs["autotask"]
    assert info["where"] == "createDate >= startofmonth - 8w"
    assert info["filter"] == [{"op": "gte", "field": "createDate", "value": expected}]
    assert info["tz"] == tz
