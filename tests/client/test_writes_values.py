"""Units of the write path: how a cell is encoded for the API, compared with the record, and where writes go."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autotask_magic import ConfigurationError
from autotask_magic.client._write_plan import write_target
from autotask_magic.client._write_values import BadValue, encode, is_missing, same, whole_number
from autotask_magic.entities import FieldInfo

STATUS = FieldInfo("status", "integer", is_picklist=True, picklist={1: "New", 5: "Complete"})
DUE = FieldInfo("dueDateTime", "datetime")
DAY = FieldInfo("dateWorked", "datetime", date_only=True)


@pytest.mark.parametrize("value", [None, np.nan, pd.NA, pd.NaT, float("nan")])
def test_missing_cells(value: object) -> None:
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, "", False, [1], "x"])
def test_present_cells(value: object) -> None:
    assert not is_missing(value)


def test_picklists_take_values_and_labels() -> None:
    assert encode("Complete", STATUS) == 5 and encode("complete", STATUS) == 5
    assert encode(5, STATUS) == 5 and encode("5", STATUS) == 5 and encode(np.int64(1), STATUS) == 1
    with pytest.raises(BadValue, match="neither a value nor a label of status"):
        encode("Done", STATUS)


def test_udf_picklists_are_checked_and_sent_as_given() -> None:
    cause = FieldInfo("Root Cause", "string", is_picklist=True, picklist={"1": "Hardware Failure"}, is_udf=True)
    assert encode("Hardware Failure", cause) == "Hardware Failure" and encode("1", cause) == "1"
    with pytest.raises(BadValue):
        encode("Gremlins", cause)


def test_dates_are_utc_text_and_date_only_fields_keep_their_day() -> None:
    assert encode(pd.Timestamp("2026-03-01 10:30", tz="Europe/Berlin"), DUE) == "2026-03-01T09:30:00.000Z"
    assert encode("2026-03-01T10:30:00.25Z", DUE) == "2026-03-01T10:30:00.250Z"
    assert encode(pd.Timestamp("2026-03-01", tz="Pacific/Auckland"), DAY) == "2026-03-01T00:00:00.000Z"
    with pytest.raises(BadValue):
        encode(20260301, DUE)


def test_numbers_booleans_and_text() -> None:
    assert encode(3.0, FieldInfo("n", "integer")) == 3
    with pytest.raises(BadValue):
        encode(3.5, FieldInfo("n", "integer"))
    with pytest.raises(BadValue):
        encode(True, FieldInfo("n", "integer"))
    assert encode(np.bool_(True), FieldInfo("b", "boolean")) is True and encode(0, FieldInfo("b", "boolean")) is False
    assert encode(12, FieldInfo("s", "string")) == "12"
    assert whole_number("7") == 7 and whole_number(np.int32(7)) == 7


def test_same_compares_as_the_api_means_it() -> None:
    assert same(50, 50.0, FieldInfo("d", "decimal")) and same("20.6400", 20.64, None)
    assert same("2026-03-01T09:30:00Z", "2026-03-01T09:30:00.000Z", DUE)
    assert same(1, True, FieldInfo("isActive", "boolean"))  # Contacts' isActive is 1/0
    # A boolean UDF answers "Yes"/"No": unchanged when the frame holds the same truth (no re-send).
    audited = FieldInfo("Audited", "boolean", is_udf=True)
    assert same("Yes", True, audited) and same("No", "false", audited) and not same("Yes", False, audited)
    assert encode("Yes", audited) == encode(True, audited)
    assert not same(None, "", None) and same(None, None, None) and not same("a", "b", None)


def test_write_targets() -> None:
    assert write_target("tickets", "update").path("update") == "Tickets"
    notes = write_target("TicketNotes", "create")
    assert (notes.parent, notes.parent_field, notes.path("create", 7)) == ("Tickets", "ticketID", "Tickets/7/Notes")
    contacts = write_target("Contacts", "delete")
    assert contacts.path("delete", 3, 9) == "Companies/3/Contacts/9"
    with pytest.raises(ConfigurationError, match="TicketNotes records cannot be deleted through the API"):
        write_target("TicketNotes", "delete")
    with pytest.raises(ConfigurationError, match="no such entity"):
        write_target("Tickes", "update")
