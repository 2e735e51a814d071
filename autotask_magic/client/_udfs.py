"""User-defined fields of Autotask records -> one column per UDF (part of ``_frames``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..entities._metadata import EntityFields

__all__ = ["UDF_KEY", "Values", "flatten_udfs", "order_udfs"]

#: The key under which records carry their user-defined fields.
UDF_KEY = "userDefinedFields"

#: One column's raw values: a list while gathering, a numpy object array once gathered.
Values = Sequence[Any] | np.ndarray


def flatten_udfs(udf_lists: Values | None, n: int) -> dict[str, Values]:
    """One column per UDF name from each record's ``userDefinedFields`` list (None where a record has none)."""
    if udf_lists is None:
        return {}
    fast = _flatten_udfs_uniform(udf_lists, n)
    if fast is not None:
        return fast
    out: dict[str, list[Any]] = {}
    for i, lst in enumerate(udf_lists):
        if not lst or not isinstance(lst, list):
            continue
        for d in lst:
            if not isinstance(d, Mapping):
                continue
            name = d.get("name")
            if name is None:
                continue
            col = out.get(name)
            if col is None:
                col = out[name] = [None] * n
            col[i] = d.get("value")
    return dict(out)


def _flatten_udfs_uniform(udf_lists: Values, n: int) -> dict[str, Values] | None:
    """The usual case, done at C speed: every non-empty list names the same UDFs in the same order."""
    present = np.fromiter(map(bool, udf_lists), dtype=bool, count=n)
    m = int(np.count_nonzero(present))
    if not m:
        return {}
    lists = udf_lists if m == n else list(filter(None, udf_lists))
    first = lists[0]
    if not isinstance(first, list):
        return None
    k = len(first)
    try:
        if set(map(len, lists)) != {k}:
            return None
        # One pass: (name, value) of every entry into an (m, k, 2) object matrix.
        pairs = np.fromiter(
            chain.from_iterable(map(itemgetter("name", "value"), chain.from_iterable(lists))),
            dtype=object,
            count=m * k * 2,
        ).reshape(m, k, 2)
    except (KeyError, TypeError, ValueError):
        return None
    template = list(pairs[0, :, 0])
    try:
        if len(set(template)) != k or not all((pairs[:, j, 0] == name).all() for j, name in enumerate(template)):
            return None
    except TypeError:  # an unhashable name: let the general path decide
        return None
    out: dict[str, Values] = {}
    for j, name in enumerate(template):
        if m == n:
            out[name] = pairs[:, j, 1]
        else:
            full = np.full(n, None, dtype=object)
            full[present] = pairs[:, j, 1]
            out[name] = full
    return out


def order_udfs(
    fields: EntityFields | None, udf_raw: dict[str, Values], include_fields: Sequence[str] | None, prefix: str
) -> list[str]:
    """The UDF columns to keep, in order (metadata's order and spelling first; only those asked for)."""
    if fields is not None:
        known = fields.udf_names
        order = known + [name for name in udf_raw if fields.resolve(name, udf=True) is None]
        # Records may spell a UDF differently from the metadata; map onto the metadata's spelling.
        for name in list(udf_raw):
            canon = fields.resolve(name, udf=True)
            if canon is not None and canon != name:
                udf_raw.setdefault(canon, udf_raw.pop(name))
    else:
        order = list(udf_raw)
    if include_fields is not None:
        asked = {f[len("udf.") :] for f in include_fields if f.startswith("udf.")}
        if asked:
            order = [name for name in order if name in asked]
        elif UDF_KEY not in include_fields and not udf_raw:
            order = []
    return order
