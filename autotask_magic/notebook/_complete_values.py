"""Tab completion of picklist values: ``status = <TAB>`` offers ``'Complete'``, ``'In Progress'``…, and
``priority in (1, <TAB>`` the rest of the list (labels, or ids once a digit is typed).

The fragment replaced is computed here (from the opening quote, so a label with spaces completes as a
whole), not IPython's token, which stops at every space and quote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["value_completions"]

# FIELD = | != | <> | in ( … , | not in ( … ,  then the value typed so far (opening quote included).
_VALUE_AT = re.compile(
    r"""(?P<field>[A-Za-z_]\w*)\s*(?:=|!=|<>|\s(?:not\s+)?in\s*\((?:[^()]*,)?)\s*(?P<frag>'[^']*|"[^"]*|\w*)$""",
    re.IGNORECASE,
)
_CELL_ENTITY = re.compile(r"%%autotask\s+query\s+([A-Za-z][A-Za-z0-9]*)", re.IGNORECASE)
_LINE_ENTITY = re.compile(r"%autotask\s+query\s+([A-Za-z][A-Za-z0-9]*)(?:\s.*)?\swhere\s", re.IGNORECASE)


def value_completions(context: Any, picklist: Callable[[str, str], Mapping[Any, str]]) -> tuple[list[str], str] | None:
    """``(candidates, fragment)`` when the cursor stands where a picklist field's value goes, else None.

    ``picklist(entity, field)`` gives value -> label (empty when the field has none or is not known yet).
    """
    lines = context.full_text.split("\n")
    first = lines[0].lstrip() if lines else ""
    before = context.text_until_cursor
    m_cell = _CELL_ENTITY.match(first) if context.cursor_line > 0 else None
    m_line = _LINE_ENTITY.search(before)
    entity = m_cell.group(1) if m_cell else (m_line.group(1) if m_line else None)
    if entity is None:
        return None
    m = _VALUE_AT.search(before)
    if m is None:
        return None
    values = picklist(entity, m.group("field"))
    if not values:
        return None
    frag = m.group("frag")
    quote = frag[:1] if frag[:1] in ("'", '"') else ""
    typed = frag[1:] if quote else frag
    if typed.isdigit():
        out = [str(v) for v in values if str(v).startswith(typed)]
    else:
        q = quote or "'"
        labels = dict.fromkeys(values.values())
        out = [f"{q}{label}{q}" for label in labels if label.casefold().startswith(typed.casefold())]
    return out, frag
