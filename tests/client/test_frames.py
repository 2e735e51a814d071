"""to_frame: column order, UDF flattening, dtypes, time zones, labels, empty frames, ragged records."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from autotask_magic._exceptions import ConfigurationError
from autotask_magic.client._frames import to_frame
from autotask_magic.entities._metadata import EntityFields

#: META's columns as to_frame lays them out: API order, then the UDFs.
COLUMNS = [
    "id",
    "title",
    "status",
    "contactID",
    "createDate",
    "dueDate",
    "estimatedHours",
    "isVisible",
    "udf.Customer Tier",
    "udf.Seats",
    "udf.Renewal",
]

META = EntityFields.from_api(
    "Tickets",
    {
        "fields": [
            {"name": "id", "dataType": "long"},
            {"name": "title", "dataType": "string"},
            {
                "name": "status",
                "dataType": "integer",
                "isPickList": True,
                "picklistValues": [
                    {"value": "1", "label": "New", "isActive": True},
                    {"value": "5", "label": "Complete", "isActive": True},
                    {"value": "7", "label": "Waiting", "isActive": False},
                ],
            },
            {"name": "contactID", "dataType": "integer", "isReference": True, "referenceEntityType": "Contact"},
            {"name": "createDate", "dataType": "dateTime"},
            {"name": "dueDate", "dataType": "date"},
            {"name": "estimatedHours", "dataType": "decimal"},
            {"name": "isVisible", "dataType": "boolean"},
        ]
    },
    {
        "fields": [
            {
                "name": "Customer Tier",
                "dataType": "string",
                "isPickList": True,
                "picklistValues": [{"value": "G", "label": "Gold"}, {"value": "S", "label": "Silver"}],
            },
            {"name": "Seats", "dataType": "integer"},
            {"name": "Renewal", "dataType": "dateTime"},
        ]
    },
)


def rec(i: int, **over: object) -> dict:
    r = {
        "isVisible": True,
        "id": i,
        "title": f"t{i}",
        "status": 5,
        "contactID": 100 + i,
        "createDate": "2026-03-01T12:00:00.500Z",
        "dueDate": "2026-03-05T00:00:00",
        "estimatedHours": 1.5,
        "userDefinedFields": [
            {"name": "Customer Tier", "value": "G"},
            {"name": "Seats", "value": "10"},
            {"name": "Renewal", "value": "2027-01-01T00:00:00Z"},
        ],
    }
    r.update(over)
    return r


class TestWithMetadata:
    def test_columns_in_api_order_with_udfs_last(self) -> None:
        df = to_frame([rec(1), rec(2)], fields=META)
        assert list(df.columns) == COLUMNS
        assert len(df) == 2 and list(df["id"]) == [1, 2]

    def test_dtypes(self) -> None:
        df = to_frame([rec(1), rec(2)], fields=META)
        assert df["id"].dtype == np.int64
        assert df["status"].dtype == "Int64"  # not required in META: nullable, with or without gaps
        assert df["estimatedHours"].dtype == np.float64
        assert df["isVisible"].dtype == "boolean"  # always nullable: a page with a gap must not differ
        assert str(df["createDate"].dtype) == "datetime64[s, UTC]"
        # Whole seconds (issue 16): Autotask's milliseconds are dropped, in the data, not only on screen.
        assert df["createDate"][0] == pd.Timestamp("2026-03-01T12:00:00Z")
        assert df["udf.Seats"].dtype == "Int64" and df["udf.Seats"][0] == 10  # typed from UDF metadata
        assert str(df["udf.Renewal"].dtype) == "datetime64[s, UTC]"
        assert pd.api.types.is_string_dtype(df["title"]) and pd.api.types.is_string_dtype(df["udf.Customer Tier"])

    def test_nullable_ints_and_booleans_when_missing(self) -> None:
        df = to_frame([rec(1), rec(2, contactID=None, isVisible=None)], fields=META)
        assert df["contactID"].dtype == "Int64"
        assert df["contactID"].tolist() == [101, pd.NA]
        assert df["isVisible"].dtype == "boolean"
        assert df["isVisible"].tolist() == [True, pd.NA]

    def test_big_ids_stay_exact(self) -> None:
        big = 2**62 + 1
        df = to_frame([rec(1, contactID=big), rec(2, contactID=None)], fields=META)
        assert df["contactID"][0] == big and df["contactID"].dtype == "Int64"

    def test_date_times_are_whole_seconds_so_tables_do_not_wrap(self) -> None:
        df = to_frame([rec(1, createDate="2016-02-22T03:35:46.691Z"), rec(2)], fields=META, tz="Europe/Berlin")
        assert str(df["createDate"].dtype) == "datetime64[s, Europe/Berlin]"
        assert str(df["createDate"][0]) == "2016-02-22 04:35:46+01:00"  # no .691000 on screen or in df
        assert "04:35:46+01:00" in df.to_html() and ".691" not in df.to_html()

    def test_time_zone_conversion(self) -> None:
        df = to_frame([rec(1)], fields=META, tz="America/New_York")
        assert str(df["createDate"].dt.tz) == "America/New_York"
        assert df["createDate"][0] == pd.Timestamp("2026-03-01T12:00:00Z")  # same instant (whole seconds)
        assert df["createDate"][0].hour == 7
        # A date-only field keeps its calendar date in the target zone.
        assert df["dueDate"][0].date() == dt.date(2026, 3, 5) and str(df["dueDate"].dt.tz) == "America/New_York"

    def test_unknown_time_zone(self) -> None:
        with pytest.raises(ConfigurationError, match="unknown time zone 'Mars/Base'"):
            to_frame([rec(1)], fields=META, tz="Mars/Base")

    def test_mixed_date_precisions_and_missing_zone(self) -> None:
        df = to_frame(
            [
                rec(1, createDate="2026-03-01T12:00:00"),
                rec(2, createDate="2026-03-01T12:00:00.123456Z"),
                rec(3, createDate=None),
            ],
            fields=META,
        )
        assert df["createDate"].tolist()[:2] == [
            pd.Timestamp("2026-03-01T12:00:00Z"),
            pd.Timestamp("2026-03-01T12:00:00Z"),  # floored to the second, never rounded up
        ]
        assert pd.isna(df["createDate"][2])

    def test_labels(self) -> None:
        df = to_frame(
            [
                rec(1),
                rec(2, status=1, userDefinedFields=[{"name": "Customer Tier", "value": "S"}]),
                rec(3, status=None, userDefinedFields=None),
                rec(4, status=99),
            ],
            fields=META,
            labels=True,
        )
        cols = list(df.columns)
        # Labels after all the fields (issue 16: side by side they doubled the table's width).
        assert cols[-2:] == ["status_label", "udf.Customer Tier_label"]
        assert cols[cols.index("status") + 1] == "contactID"
        assert "contactID_label" not in cols
        # The ids stay ids: comparing with a picklist value matches, never silently nothing.
        assert df["status"].tolist()[:2] == [5, 1] and (df.status == 5).sum() == 1
        assert df["status_label"].dtype == "category"
        assert list(df["status_label"].cat.categories) == ["New", "Complete", "Waiting"]
        assert df["status_label"].tolist()[:2] == ["Complete", "New"]
        assert pd.isna(df["status_label"][2]) and pd.isna(df["status_label"][3])  # missing / unknown value
        assert df["udf.Customer Tier_label"].tolist()[:2] == ["Gold", "Silver"]

    def test_empty_input_gives_the_entitys_columns(self) -> None:
        df = to_frame([], fields=META, labels=True, tz="Europe/Berlin")
        assert len(df) == 0
        assert list(df.columns) == [*COLUMNS, "status_label", "udf.Customer Tier_label"]
        assert str(df["createDate"].dtype) == "datetime64[s, Europe/Berlin]"

    def test_include_fields_restricts_and_keeps_api_order(self) -> None:
        records = [{"status": 5, "id": 1}, {"status": 1, "id": 2}]
        df = to_frame(records, fields=META, include_fields=["STATUS", "id"])
        assert list(df.columns) == ["id", "status"]
        assert list(to_frame([], fields=META, include_fields=["title", "id"]).columns) == ["id", "title"]

    def test_records_missing_fields(self) -> None:
        records = [{"id": 1, "title": "a"}, {"id": 2, "status": 5}, {"id": 3, "extra": "x"}]
        df = to_frame(records, fields=META)
        cols = list(df.columns)
        assert cols[:3] == ["id", "title", "status"] and cols[cols.index("isVisible") + 1] == "extra"
        assert df["status"].tolist() == [pd.NA, 5, pd.NA]
        assert df["title"].isna().tolist() == [False, True, True]
        assert df["createDate"].isna().all()

    def test_udfs_in_any_order_and_partially_present(self) -> None:
        records = [
            rec(1, userDefinedFields=[{"name": "Seats", "value": 3}, {"name": "Customer Tier", "value": "G"}]),
            rec(2, userDefinedFields=[]),
            rec(3, userDefinedFields=[{"name": "Customer Tier", "value": None}, {"name": "New One", "value": "n"}]),
            {k: v for k, v in rec(4).items() if k != "userDefinedFields"},
        ]
        df = to_frame(records, fields=META)
        assert df["udf.Seats"].tolist() == [3, pd.NA, pd.NA, pd.NA]
        assert df["udf.Customer Tier"].isna().tolist() == [False, True, True, True]
        assert df["udf.New One"].tolist()[2] == "n"  # a UDF the metadata does not know yet


class TestWithoutMetadata:
    def test_first_seen_order_and_inferred_types(self) -> None:
        records = [
            {
                "id": 1,
                "createDate": "2026-01-01T00:00:00Z",
                "lastActivityDate": None,
                "n": 1.5,
                "flag": True,
                "title": "a",
                "dueDateTime": "2026-01-02T03:04:05.678Z",
                "note": "2026-01-01 is not a date column",
                "userDefinedFields": [{"name": "Tier", "value": "G"}],
            },
            {
                "id": 2,
                "createDate": "2026-01-02T00:00:00Z",
                "lastActivityDate": "2026-01-05T00:00:00Z",
                "n": 2,
                "flag": None,
                "title": None,
                "dueDateTime": None,
                "note": None,
                "later": 7,
            },
        ]
        df = to_frame(records)
        assert list(df.columns) == [
            "id",
            "createDate",
            "lastActivityDate",
            "n",
            "flag",
            "title",
            "dueDateTime",
            "note",
            "later",
            "udf.Tier",
        ]
        assert df["id"].dtype == np.int64
        assert str(df["createDate"].dtype) == "datetime64[s, UTC]"
        assert str(df["lastActivityDate"].dtype) == "datetime64[s, UTC]"
        assert str(df["dueDateTime"].dtype) == "datetime64[s, UTC]"
        assert pd.api.types.is_string_dtype(df["note"])
        assert df["n"].dtype == np.float64
        assert df["flag"].dtype == "boolean"
        assert df["later"].dtype == "Int64"
        assert df["udf.Tier"].tolist()[0] == "G" and pd.isna(df["udf.Tier"][1])

    def test_custom_prefix_and_single_item(self) -> None:
        df = to_frame({"id": 9, "userDefinedFields": [{"name": "X", "value": 1}]}, udf_prefix="udf_")
        assert list(df.columns) == ["id", "udf_X"] and len(df) == 1

    def test_generators_and_empty(self) -> None:
        assert to_frame(iter([{"id": 1}, {"id": 2}]))["id"].tolist() == [1, 2]
        empty = to_frame([])
        assert empty.empty and list(empty.columns) == []

    def test_mixed_and_nested_values_kept_as_objects(self) -> None:
        df = to_frame([{"a": 1, "b": {"x": 1}}, {"a": "two", "b": [1]}])
        assert df["a"].tolist() == [1, "two"] and df["b"].tolist() == [{"x": 1}, [1]]

    def test_bad_dates_in_a_date_named_column_do_not_fail(self) -> None:
        df = to_frame([{"createDate": "2026-01-01T00:00:00Z"}, {"createDate": "2026-13-45T99:00:00Z"}])
        assert len(df) == 1 + 1

    def test_uniform_records_take_the_fast_path_with_same_result(self) -> None:
        uniform = [rec(i) for i in range(50)]
        ragged = uniform + [{"id": 50}]
        a = to_frame(uniform, fields=META)
        b = to_frame(ragged, fields=META).iloc[:50]
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
