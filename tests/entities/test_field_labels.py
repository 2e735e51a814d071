"""A picklist label is found for the value however it is typed: as the API sends it, as a record or a frame holds it."""

from __future__ import annotations

import numpy as np

from autotask_magic.entities import FieldInfo

PRIORITY = FieldInfo("priority", "integer", is_picklist=True, picklist={1: "Low", 3: "Medium"})


def test_label_of_an_integer_picklist_value_in_any_spelling() -> None:
    for value in (3, "3", " 3 ", np.int64(3), 3.0, np.float64(3.0)):
        assert PRIORITY.label(value) == "Medium", value


def test_no_label_for_unknown_missing_or_non_integral_values() -> None:
    for value in (2, "x", None, 3.5):
        assert PRIORITY.label(value) is None, value
    assert FieldInfo("title").label("anything") is None  # not a picklist
