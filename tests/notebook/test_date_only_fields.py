"""Issue 14 point 2: date-only fields keep their calendar day under ``--tz``; date literals mean that day
for date-only fields and a wall-clock time in ``--tz`` for date-time fields."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from autotask_magic.entities import DATE_ONLY_FIELDS, EntityFields, FieldInfo, is_date_only
from autotask_magic.query._dates import localize_dates
from autotask_magic.sandbox import Sandbox
from tests._support.shell import Shown, run

NY = "America/New_York"


def login(ip: Any, magic: Any, sb: Sandbox) -> None:
    magic._environ = sb.env("oauth")
    assert run(ip, "%autotask_login").success


@pytest.mark.parametrize(
    ("entity", "field"),
    [("TimeEntries", "dateWorked"), ("Contracts", "startDate"), ("Contracts", "endDate"), ("Resources", "hireDate"),
     ("Holidays", "holidayDate"), ("BillingItems", "itemDate"), ("Projects", "startDateTime")],
)  # fmt: skip
def test_the_list_knows_the_calendar_days(entity: str, field: str) -> None:
    assert (entity, field) in DATE_ONLY_FIELDS and is_date_only(entity.lower(), field.upper())


def test_a_date_time_field_is_not_date_only() -> None:
    assert not is_date_only("Tickets", "createDate") and not is_date_only("TimeEntries", "startDateTime")
    fields = EntityFields("TimeEntries", [FieldInfo("dateWorked", "datetime"), FieldInfo("createDateTime", "datetime")])
    assert fields.get("dateWorked").kind == "date" and fields.get("createDateTime").kind == "datetime"
    assert fields.get("dateWorked").data_type == "datetime"  # %autotask fields still shows the API's type


def test_literals_are_read_per_field_kind() -> None:
    fields = EntityFields("TimeEntries", [FieldInfo("dateWorked", "datetime"), FieldInfo("createDateTime", "datetime")])
    flt = [
        {"op": "gte", "field": "dateWorked", "value": "2026-01-05"},
        {"op": "or", "items": [{"op": "lt", "field": "createDateTime", "value": "2026-01-05"}]},
        {"op": "gt", "field": "createDateTime", "value": "2026-07-01T08:30"},
        {"op": "gt", "field": "createDateTime", "value": "2026-07-01T08:30:00Z"},
    ]
    assert localize_dates(flt, fields, NY) == [
        {"op": "gte", "field": "dateWorked", "value": "2026-01-05T00:00:00Z"},
        {"op": "or", "items": [{"op": "lt", "field": "createDateTime", "value": "2026-01-05T05:00:00Z"}]},
        {"op": "gt", "field": "createDateTime", "value": "2026-07-01T12:30:00Z"},  # summer time: -4 h
        {"op": "gt", "field": "createDateTime", "value": "2026-07-01T08:30:00Z"},  # explicit zone: as written
    ]
    assert localize_dates(flt, fields, "UTC") == flt  # naive is UTC at the server already


def test_date_worked_keeps_its_day_under_tz(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    day = sandbox.ground_truth("TimeEntries")[0]["dateWorked"][:10]
    utc = run(ip, f"%autotask query TimeEntries where dateWorked = '{day}'").result
    ny = run(ip, f"%autotask query TimeEntries --tz {NY} where dateWorked = '{day}'").result
    assert len(utc) > 0 and sorted(ny["id"]) == sorted(utc["id"])  # the same records: that calendar day
    assert (ny["dateWorked"].dt.strftime("%Y-%m-%d") == day).all()
    assert (ny["dateWorked"] == pd.Timestamp(day, tz=NY)).all()  # midnight of the day in the zone
    assert str(ny["dateWorked"].dt.tz) == NY


def test_dry_run_shows_the_literals_as_sent(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    assert run(ip, f"%autotask query TimeEntries --tz {NY} --dry-run where dateWorked >= '2026-01-05'").success
    assert '"value": "2026-01-05T00:00:00Z"' in shown.text()
    assert run(ip, f"%autotask query Tickets --tz {NY} --dry-run where createDate >= '2026-01-05'").success
    assert '"value": "2026-01-05T05:00:00Z"' in shown.text()
