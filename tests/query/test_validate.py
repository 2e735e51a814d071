"""validate_filter and EntityFields: operators, UDF rule, field names with did-you-mean, normalisation."""

from __future__ import annotations

import pytest

from autotask_magic._exceptions import QuerySyntaxError
from autotask_magic.entities._metadata import EntityFields, FieldInfo
from autotask_magic.query import error_pointer, parse_where, validate_filter

FIELDS_JSON = {
    "fields": [
        {"name": "id", "dataType": "long", "isPickList": False, "isReference": False},
        {"name": "title", "dataType": "string"},
        {
            "name": "status",
            "dataType": "integer",
            "isPickList": True,
            "picklistValues": [
                {"value": "1", "label": "New", "isActive": True},
                {"value": "5", "label": "Complete", "isActive": True},
                {"value": "16", "label": "Old", "isActive": False},
            ],
        },
        {"name": "companyID", "dataType": "integer", "isReference": True, "referenceEntityType": "Company"},
        {"name": "createDate", "dataType": "dateTime"},
        {"name": "dueDate", "dataType": "date"},
        {"name": "estimatedHours", "dataType": "decimal"},
        {"name": "isVisible", "dataType": "boolean"},
    ]
}
UDF_JSON = {
    "fields": [
        {
            "name": "Customer Tier",
            "dataType": "string",
            "isPickList": True,
            "picklistValues": [{"value": "G", "label": "Gold", "isActive": True}],
        },
        {"name": "Renewal", "dataType": "dateTime"},
    ]
}


@pytest.fixture
def fields() -> EntityFields:
    return EntityFields.from_api("Tickets", FIELDS_JSON, UDF_JSON)


class TestEntityFields:
    def test_shape(self, fields: EntityFields) -> None:
        assert fields.names == [
            "id",
            "title",
            "status",
            "companyID",
            "createDate",
            "dueDate",
            "estimatedHours",
            "isVisible",
        ]
        assert fields.udf_names == ["Customer Tier", "Renewal"]
        assert fields.date_fields == ["createDate", "dueDate"]
        assert fields.picklist_fields == ["status"]
        assert "Status" in fields and "nope" not in fields and len(fields) == 8

    def test_picklists_keyed_by_the_field_type(self, fields: EntityFields) -> None:
        assert fields.picklist("status") == {1: "New", 5: "Complete", 16: "Old"}
        assert fields.picklist("Customer Tier") == {"G": "Gold"}
        assert fields.picklist("title") == {}
        assert fields.picklist("missing") == {}

    def test_field_info(self, fields: EntityFields) -> None:
        info = fields.get("COMPANYID")
        assert isinstance(info, FieldInfo)
        assert (info.name, info.data_type, info.is_reference, info.reference_entity, info.is_udf) == (
            "companyID",
            "integer",
            True,
            "Company",
            False,
        )
        assert fields.get("estimatedHours").kind == "float"
        assert fields.get("dueDate").kind == "date"
        assert fields.get("createDate").kind == "datetime"
        assert fields.get("isVisible").kind == "boolean"
        udf = fields.get("customer tier")
        assert udf is not None and udf.is_udf and udf.is_picklist
        assert fields.get("Customer Tier", udf=False) is None
        assert fields.get("nope") is None

    def test_suggest(self, fields: EntityFields) -> None:
        assert fields.suggest("titel") == "title"
        assert fields.suggest("STATSU") == "status"
        assert fields.suggest("companyId") == "companyID"
        assert fields.suggest("zzzzzz") is None
        assert fields.suggest("Customer Teir", udf=True) == "Customer Tier"

    def test_tolerates_odd_payloads(self) -> None:
        f = EntityFields.from_api(
            "X",
            [
                {
                    "name": "a",
                    "dataType": "integer",
                    "isPickList": True,
                    "picklistValues": [{"value": "x1", "label": "weird"}, {"label": "no value"}],
                },
                {"dataType": "string"},
            ],
            None,
        )
        assert f.names == ["a"] and f.udf_names == [] and f.picklist("a") == {"x1": "weird"}
        assert EntityFields.from_api("X", None).names == []


class TestValidate:
    def test_normalises_names_ops_and_null(self, fields: EntityFields) -> None:
        got = validate_filter(
            [
                {"op": "EQ", "field": "STATUS", "value": 5},
                {"op": "eq", "field": "dueDate", "value": None},
                {"op": "noteq", "field": "title", "value": None},
                {
                    "op": "or",
                    "items": [
                        {"op": "contains", "field": "customer tier", "value": "G", "udf": True},
                        {"op": "notin", "field": "id", "value": (1, 2)},
                    ],
                },
            ],
            fields,
            entity="Tickets",
        )
        assert got == [
            {"op": "eq", "field": "status", "value": 5},
            {"op": "notExist", "field": "dueDate"},
            {"op": "exist", "field": "title"},
            {
                "op": "or",
                "items": [
                    {"op": "contains", "field": "Customer Tier", "udf": True, "value": "G"},
                    {"op": "notIn", "field": "id", "value": [1, 2]},
                ],
            },
        ]

    def test_without_metadata_checks_structure_only(self) -> None:
        assert validate_filter([{"op": "eq", "field": "anything", "value": 1}], None, entity="Tickets") == [
            {"op": "eq", "field": "anything", "value": 1}
        ]
        with pytest.raises(QuerySyntaxError, match="unknown operator 'like'"):
            validate_filter([{"op": "like", "field": "a", "value": 1}], None, entity="Tickets")

    def test_unknown_field_did_you_mean_points_at_column(self, fields: EntityFields) -> None:
        text = "status != 5 and titel contains 'x'"
        with pytest.raises(QuerySyntaxError) as info:
            validate_filter(parse_where(text), fields, entity="Tickets")
        err = info.value
        assert str(err) == "unknown field 'titel' for Tickets at column 17 — did you mean 'title'?"
        assert err.position == 16 and err.text == text
        assert error_pointer(err).splitlines()[1] == " " * 16 + "^"

    def test_unknown_udf_did_you_mean(self, fields: EntityFields) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            validate_filter(parse_where('udf."Customer Teir" = 1'), fields, entity="Tickets")
        assert str(info.value) == (
            "unknown user-defined field 'Customer Teir' for Tickets at column 1 — did you mean udf.\"Customer Tier\"?"
        )

    def test_udf_written_as_standard_field(self, fields: EntityFields) -> None:
        with pytest.raises(QuerySyntaxError, match=r'did you mean udf."Renewal"\? \(a user-defined field\)'):
            validate_filter(parse_where("renewal exists"), fields, entity="Tickets")

    def test_no_suggestion_lists_known_fields(self, fields: EntityFields) -> None:
        with pytest.raises(QuerySyntaxError, match="known fields: id, title, status"):
            validate_filter([{"op": "eq", "field": "qqqqqqq", "value": 1}], fields, entity="Tickets")

    def test_raw_json_unknown_field_names_the_item(self, fields: EntityFields) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            validate_filter(
                parse_where(
                    '[{"op":"or","items":[{"op":"eq","field":"id","value":1},{"op":"eq","field":"stauts","value":1}]}]'
                ),
                fields,
                entity="Tickets",
            )
        assert "unknown field 'stauts' for Tickets (filter [0].items[1]) — did you mean 'status'?" == str(info.value)

    @pytest.mark.parametrize(
        ("flt", "message"),
        [
            ([{"op": "like", "field": "id", "value": 1}], "unknown operator 'like'"),
            ([{"op": None, "field": "id", "value": 1}], 'has no "op"'),
            ([{"op": "eq", "field": "id", "value": 1, "udf": "yes"}], '"udf" must be true or false'),
            (
                [
                    {"op": "eq", "field": "Renewal", "value": "2026-01-01", "udf": True},
                    {"op": "exist", "field": "Customer Tier", "udf": True},
                ],
                "second user-defined field condition",
            ),
            ([{"op": "in", "field": "id", "value": []}], "in needs a non-empty list"),
            ([{"op": "in", "field": "id", "value": "1,2"}], "in needs a non-empty list"),
            ([{"op": "in", "field": "id", "value": [1, None]}], "values must be numbers, text or booleans"),
            ([{"op": "notExist", "field": "id", "value": 3}], "notExist takes no value"),
            ([{"op": "gt", "field": "id", "value": None}], "gt needs a value, not null"),
            ([{"op": "and", "items": "x"}], 'needs a non-empty "items" list'),
            (["id = 1"], "filter items must be objects"),
        ],
    )
    def test_errors(self, fields: EntityFields, flt: list, message: str) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            validate_filter(flt, fields, entity="Tickets")
        assert message in str(info.value)
        assert "\n" not in str(info.value)

    def test_exist_with_null_value_is_fine(self, fields: EntityFields) -> None:
        assert validate_filter([{"op": "exist", "field": "id", "value": None}], fields, entity="Tickets") == [
            {"op": "exist", "field": "id"}
        ]

    def test_deep_json_nesting_is_refused(self) -> None:
        node: dict = {"op": "eq", "field": "a", "value": 1}
        for _ in range(200):
            node = {"op": "and", "items": [node]}
        with pytest.raises(QuerySyntaxError, match="nested too deeply"):
            validate_filter([node], None, entity="Tickets")

    def test_parsed_filter_is_a_plain_list_to_callers(self) -> None:
        f = parse_where("a = 1")
        assert f == [{"op": "eq", "field": "a", "value": 1}] and isinstance(f, list)
        import json

        assert json.loads(json.dumps(f)) == f


class TestValueTypes:
    def test_picklist_labels_become_values(self, fields: EntityFields) -> None:
        got = validate_filter(
            parse_where("status = 'complete' and status not in ('New', 16)"), fields, entity="Tickets"
        )
        assert got == [
            {"op": "eq", "field": "status", "value": 5},
            {"op": "notIn", "field": "status", "value": [1, 16]},
        ]

    def test_unknown_label_lists_the_labels(self, fields: EntityFields) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            validate_filter(parse_where("status = 'Done'"), fields, entity="Tickets")
        assert str(info.value) == (
            "status has no picklist label 'Done' at column 10 — use a number or one of the labels: New, Complete, Old"
        )

    def test_a_near_miss_label_gets_did_you_mean(self, fields: EntityFields) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            validate_filter(parse_where("status in (1, 'compleet')"), fields, entity="Tickets")
        assert str(info.value) == (
            "status has no picklist label 'compleet' at column 11 — did you mean 'Complete'? "
            "(labels are matched case-insensitively)"
        )

    def test_ambiguous_label(self) -> None:
        f = EntityFields.from_api(
            "X",
            [
                {
                    "name": "s",
                    "dataType": "integer",
                    "picklistValues": [{"value": "1", "label": "Open"}, {"value": "2", "label": "open"}],
                }
            ],
        )
        with pytest.raises(QuerySyntaxError, match="ambiguous"):
            validate_filter([{"op": "eq", "field": "s", "value": "Open"}], f, entity="X")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("companyID = 'abc'", "companyID is a number field, got 'abc' at column 13"),
            ("estimatedHours > true", "estimatedHours is a number field, got True"),
            ("isVisible = 'yes'", "isVisible is a true/false field"),
            ("createDate >= 5", "createDate is a date field, got 5 at column 15"),
            ("createDate >= 'yesterday'", "createDate is a date field"),
            ("udf.Renewal > 'soon'", "Renewal is a date field"),
        ],
    )
    def test_type_errors(self, fields: EntityFields, text: str, message: str) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            validate_filter(parse_where(text), fields, entity="Tickets")
        assert message in str(info.value)

    def test_lenient_forms_pass(self, fields: EntityFields) -> None:
        got = validate_filter(
            parse_where("companyID = '12' and isVisible = 1 and title contains 5 and dueDate < 2026-02-01"),
            fields,
            entity="Tickets",
        )
        assert [n["value"] for n in got] == ["12", True, 5, "2026-02-01"]
