"""``%autotask fields ENTITY``: the entity's field metadata as a table indexed by field name.

    >>> fields_frame(client.fields("Contacts")).loc["companyID"]
    type             integer
    dtype              Int64
    marks         req ref
    reference        Company
    picklist
    Name: companyID, dtype: str

One row per field (then one per UDF, as ``udf.<name>``, the column name a query gives it). ``marks``
are compact: ``req`` required, ``ro`` read-only, ``pick`` picklist, ``ref`` reference, ``udf``
user-defined. ``picklist`` shows ``value label`` pairs, the first
:data:`PICKLIST_SHOWN`; ``client.fields(ENTITY).picklist(name)`` has them all. These facts are the
tenant's own (its ``entityInformation``), never the published surface's.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COLUMNS", "PICKLIST_SHOWN", "fields_frame"]

COLUMNS = ["type", "dtype", "marks", "reference", "picklist"]
PICKLIST_SHOWN = 8


def fields_frame(fields: Any, tz: str = "UTC") -> Any:
    """The table ``%autotask fields`` shows for an ``EntityFields``."""
    import pandas as pd

    from ..client._dtypes import dtype_name

    named = [(name, fields.get(name, udf=False)) for name in fields.names]
    named += [(f"udf.{name}", fields.get(name, udf=True)) for name in getattr(fields, "udf_names", [])]
    rows = [_row(info, tz, dtype_name) for _, info in named]
    index = pd.Index([name for name, _ in named], name="field", dtype="str")
    return pd.DataFrame(rows, index=index, columns=COLUMNS, dtype="str")


def _row(info: Any, tz: str, dtype_name: Any) -> dict[str, str]:
    marks = [
        mark
        for mark, on in (
            ("req", info.is_required),
            ("ro", info.is_read_only),
            ("pick", info.is_picklist),
            ("ref", info.is_reference),
            ("udf", info.is_udf),
        )
        if on
    ]
    data_type = info.data_type + (" (date only)" if info.date_only else "")
    return {
        "type": data_type,
        "dtype": dtype_name(info, tz),
        "marks": " ".join(marks),
        "reference": (info.reference_entity or "") if info.is_reference else "",
        "picklist": _picklist_text(info),
    }


def _picklist_text(info: Any) -> str:
    items = list(info.picklist.items())
    if not items:
        return ""
    # A UDF picklist's value is its label: shown once.
    shown = ", ".join(label if str(value) == label else f"{value} {label}" for value, label in items[:PICKLIST_SHOWN])
    more = len(items) - PICKLIST_SHOWN
    return shown + (f", … ({more} more)" if more > 0 else "")
