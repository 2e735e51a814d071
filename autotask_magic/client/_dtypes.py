"""The DataFrame dtype of every field type: one table (``DTYPES``) and the rules that keep it.

    >>> dtype_name(fields.get("contactID")), dtype_name(fields.get("createDate"), "Europe/Berlin")
    ('Int64', 'datetime64[s, Europe/Berlin]')

The kind comes from the tenant's metadata (``FieldInfo.kind``), else from the published surface
(``entities.surface_fields``); ``_frames`` converts each column to its kind's dtype here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..entities._metadata import FieldInfo

__all__ = ["DTYPES", "boolean_word", "booleans", "dtype_name", "nullable_int"]

#: The DataFrame dtype of each field kind (``FieldInfo.kind``), whatever the values of one result:
#: an empty result, a page with gaps and one without all give these. Values that do not fit the
#: type (a text in a number field) leave the column as objects rather than lose them.
DTYPES = {
    "integer": "Int64",  # int32/int64, integer/long: nullable; ``id`` alone is int64 (every record has one)
    "float": "float64",  # double/decimal, also when one record sends 50 and the next 30.0
    "boolean": "boolean",  # nullable; true/false, 1/0, and UDF text Yes/No, True/False
    "datetime": "datetime64[s, {tz}]",  # tz-aware, in --tz / AutotaskMagic.timezone (UTC by default)
    "date": "datetime64[s, {tz}]",  # a date-only field: midnight of its calendar day in that zone
    "string": "str",  # text, and byte strings (attachment ``data``) as sent: base64
    "object": "object",  # Swagger arrays and objects, as parsed from JSON
}


def dtype_name(info: FieldInfo | None, tz: str = "UTC") -> str:
    """The dtype a field's column gets (``DTYPES``); ``"inferred"`` when nothing says the type."""
    if info is None:
        return "inferred"
    if info.kind == "integer" and info.name.lower() == "id":
        return "int64"
    return DTYPES[info.kind].format(tz=tz)


def nullable_int(info: FieldInfo | None) -> bool:
    """An integer field is nullable ``Int64``, except ``id``, which every record has.

    Required or not does not matter: required facts differ per tenant and change over time, and
    older records may lack a value a field now requires.
    """
    return info is not None and info.kind == "integer" and info.name.lower() != "id"


# Booleans as records and UDF values send them: true/false, Contacts' isActive 1/0, UDF text "Yes"/"No".
_BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False, "y": True, "n": False}


def boolean_word(text: str) -> bool | None:
    """``"Yes"``, ``"true"``, ``"1"``... as a bool (any case, spaces around); None when it is not one."""
    return _BOOLEAN_WORDS.get(text.strip().lower())


def booleans(values: Sequence[Any] | np.ndarray, types: set[type]) -> Any:
    """Always the nullable ``boolean`` dtype: a page with a gap and one without must not differ."""
    if types <= {bool}:
        return pd.array(values, dtype="boolean")
    if types <= {bool, str, int, float}:
        table: dict[Any, bool] = {True: True, False: False}  # 1 == True and 0 == False hash alike
        out = []
        for v in values:
            if isinstance(v, str):
                flag = boolean_word(v)
                if flag is None and v.strip():
                    raise ValueError(f"not a yes/no value: {v!r}")
                out.append(flag)
            else:
                out.append(table.get(v) if v is not None else None)
        return pd.array(out, dtype="boolean")
    raise TypeError(f"mixed types {sorted(t.__name__ for t in types)}")
