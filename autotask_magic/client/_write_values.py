"""One cell of a write frame: is it missing, what JSON does the API expect for it, and is it unchanged.

The API wants dates as ISO 8601 UTC text (a date-only field at midnight UTC), picklists as their value
(a label is accepted here and turned into its value), booleans as ``true``/``false`` and numbers as
numbers. A value that cannot be encoded raises :class:`BadValue` with the reason, and the plan names
its row and column.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from ..entities._metadata import FieldInfo
from ._dtypes import boolean_word

__all__ = ["BadValue", "encode", "is_missing", "same", "whole_number"]


class BadValue(ValueError):
    """A cell that cannot be sent for its field; the message says why (no row or column: the caller adds them)."""


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and ``pd.NA`` (a missing cell in an update means "leave unchanged")."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    import pandas as pd

    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    # A list or array cell gives an array: it is a value, not a missing one.
    return (isinstance(result, bool) or type(result).__name__ == "bool_") and bool(result)


def encode(value: Any, info: FieldInfo) -> Any:
    """``value`` as the JSON the API expects for ``info`` (not missing: see :func:`is_missing`)."""
    value = _plain(value)
    if info.picklist and info.is_udf:
        # A UDF holds text, as pulled frames show it (a label on some tenants, a value on others): it is
        # checked against the picklist but sent as given.
        _picklist(value, info)
        return str(value)
    if info.picklist:
        return _picklist(value, info)
    if info.is_udf:
        # UDF values travel as text both ways ("20.6400", "4"): check by the UDF's type, send as text.
        checked = _typed(value, info)
        return checked if checked is None or isinstance(checked, str) else str(checked)
    return _typed(value, info)


def _typed(value: Any, info: FieldInfo) -> Any:
    kind = info.kind
    if kind == "integer":
        return whole_number(value)
    if kind == "float":
        return _float(value)
    if kind == "boolean":
        return _boolean(value)
    if kind in ("date", "datetime"):
        return _date(value, date_only=kind == "date")
    if isinstance(value, (dict, list, bytes)):
        raise BadValue(f"{type(value).__name__} is not text")
    return value if isinstance(value, str) else str(value)


def same(current: Any, new: Any, info: FieldInfo | None) -> bool:
    """True when the record's ``current`` JSON value already equals the encoded ``new`` one."""
    if current is None or new is None:
        return current is None and new is None
    kind = info.kind if info is not None else "string"
    try:
        if kind in ("date", "datetime"):
            return _instant(current) == _instant(new)
        if kind in ("integer", "float") or (isinstance(current, (int, float)) and isinstance(new, (int, float))):
            return float(current) == float(new)
        if kind == "boolean":
            return _boolean(current) == _boolean(new)
    except (BadValue, TypeError, ValueError):
        return False
    if isinstance(current, str) and isinstance(new, (int, float)) and not isinstance(new, bool):
        try:  # UDF values come back as text ("20.6400")
            return float(current) == float(new)
        except ValueError:
            return False
    return str(current) == str(new)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python ones."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def whole_number(value: Any) -> int:
    """``value`` as an int (``7``, ``7.0``, ``"7"``, numpy ints); anything else raises BadValue."""
    value = _plain(value)
    if isinstance(value, bool):
        raise BadValue(f"{value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise BadValue(f"{value!r} is not a whole number")


def _float(value: Any) -> float | int:
    if isinstance(value, bool):
        raise BadValue(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return value
    try:
        return float(str(value).strip())
    except ValueError:
        raise BadValue(f"{value!r} is not a number") from None


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    flag = boolean_word(value) if isinstance(value, str) else None  # UDFs answer "Yes"/"No"
    if flag is not None:
        return flag
    raise BadValue(f"{value!r} is not true or false")


def _picklist(value: Any, info: FieldInfo) -> Any:
    for key in info.picklist:
        if key == value or (not isinstance(value, bool) and str(key) == str(value).strip()):
            return key
    folded = str(value).strip().casefold()
    for key, label in info.picklist.items():
        if label.casefold() == folded:
            return key
    raise BadValue(f"{value!r} is neither a value nor a label of {info.name}")


def _instant(value: Any) -> Any:
    import pandas as pd

    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _date(value: Any, *, date_only: bool) -> str:
    """ISO 8601 UTC with milliseconds; a date-only field keeps its calendar day at midnight UTC."""
    import pandas as pd

    if isinstance(value, (int, float)) or not isinstance(value, (str, date, datetime, pd.Timestamp)):
        raise BadValue(f"{value!r} is not a date")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise BadValue(f"{value!r} is not a date") from None
    if date_only:
        # The wall date as shown in the frame, whatever its zone: a calendar day has no zone.
        return ts.strftime("%Y-%m-%dT00:00:00.000Z")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
