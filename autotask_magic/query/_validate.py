"""Check a filter list against the server's rules and, when known, the entity's field metadata.

The checks run before a request is sent because the server is lenient in unhelpful ways: it ignores
unknown operators and answers ``eq null`` with nothing. Messages point at the column of the problem
when the filter was parsed from text (``ParsedFilter``), else at the item's path (``[0].items[1]``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import QuerySyntaxError
from ._filter import ParsedFilter
from ._lexer import GROUPS, LIST_OPS, MAX_DEPTH, NO_VALUE, OP_CANON, OPERATORS, short, syntax_error
from ._relative import RelativeDate

if TYPE_CHECKING:  # pragma: no cover
    from ..entities._metadata import EntityFields, FieldInfo

__all__ = ["normalize", "validate_filter"]

_TEXT_OPS = frozenset({"contains", "beginsWith", "endsWith"})
_NUMERIC = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def validate_filter(
    filter: Sequence[Mapping[str, Any]], fields: EntityFields | None, *, entity: str | None = None
) -> list[dict[str, Any]]:
    """Check a filter list before it is sent and return a normalized copy.

    Refuses unknown operators (the server silently ignores them), a second UDF condition, empty
    ``in`` lists, values on ``exist``/``notExist`` and — with ``fields`` — unknown fields, with a
    "did you mean …?". Field names are respelled as the metadata spells them; ``eq null`` becomes
    ``notExist`` and ``noteq null`` becomes ``exist``.
    """
    if isinstance(filter, Mapping):
        filter = [filter]
    if not isinstance(filter, (list, tuple)):
        raise QuerySyntaxError(
            f"a filter must be a list of conditions, got {type(filter).__name__}",
            hint='write [{"op": "eq", "field": "id", "value": 1}]',
        )
    parsed = filter if isinstance(filter, ParsedFilter) else None
    return normalize(list(filter), fields, entity=entity, parsed=parsed)


def normalize(
    items: list[Any],
    fields: EntityFields | None,
    *,
    entity: str | None,
    parsed: ParsedFilter | None = None,
    text: str | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Checked, normalized copies of ``items``; errors point into ``parsed`` or at ``text[offset]``."""
    checker = _Checker(fields, entity, parsed, text, offset)
    return [checker.node(item, f"[{k}]", 1) for k, item in enumerate(items)]


class _Checker:
    def __init__(
        self,
        fields: EntityFields | None,
        entity: str | None,
        parsed: ParsedFilter | None,
        text: str | None,
        offset: int,
    ) -> None:
        self.fields = fields
        self.entity = entity or (fields.entity if fields is not None else None)
        self.parsed = parsed
        self.text = parsed.text if parsed is not None else text
        self.offset = offset
        self.udf_count = 0

    def fail(self, node: Any, path: str, what: str, hint: str | None, part: str = "field") -> QuerySyntaxError:
        span = self.parsed.span(node) if self.parsed is not None and isinstance(node, Mapping) else None
        if span is not None and self.text is not None:
            pos = getattr(span, part)
            if pos is None:
                pos = span.field
            return syntax_error(self.text, pos, what, hint)
        err = QuerySyntaxError(f"{what} (filter {path})" if path else what, hint=hint)
        err.text = self.text
        err.position = self.offset if self.text is not None else None
        return err

    def node(self, node: Any, path: str, depth: int) -> dict[str, Any]:
        """One filter item (a group or a condition), checked and normalized."""
        if depth > MAX_DEPTH:
            raise self.fail(
                node, path, f"filter nested too deeply (more than {MAX_DEPTH} levels)", "simplify the filter"
            )
        if not isinstance(node, Mapping):
            raise self.fail(
                node,
                path,
                f"filter items must be objects, got {type(node).__name__}",
                'write {"op": "eq", "field": "id", "value": 1}',
            )
        raw_op = node.get("op")
        op = OP_CANON.get(raw_op.lower()) if isinstance(raw_op, str) else None
        if op is None:
            shown = short(str(raw_op)) if raw_op is not None else None
            what = f"unknown operator {shown!r}" if raw_op is not None else 'a filter item has no "op"'
            ops = " ".join(OPERATORS)
            raise self.fail(node, path, what, f"the server ignores unknown operators; use one of {ops}, and, or", "op")
        if op in GROUPS:
            return self.group(node, path, depth, op)
        return self.condition(node, path, op)

    def group(self, node: Mapping[str, Any], path: str, depth: int, op: str) -> dict[str, Any]:
        items = node.get("items")
        if not isinstance(items, list) or not items:
            raise self.fail(
                node,
                path,
                f'an {op} group needs a non-empty "items" list',
                "add conditions to items or remove the group",
            )
        return {
            "op": op,
            "items": [self.node(item, f"{path}.items[{k}]", depth + 1) for k, item in enumerate(items)],
        }

    def condition(self, node: Mapping[str, Any], path: str, op: str) -> dict[str, Any]:
        out: dict[str, Any] = {"op": op}
        name = node.get("field")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(node, path, f'a {op} condition needs a "field" name', 'add "field": "name"')
        udf = node.get("udf", False)
        if not isinstance(udf, bool):
            raise self.fail(node, path, f'"udf" must be true or false, got {short(repr(udf))}', 'write "udf": true')
        if udf:
            self.udf_count += 1
            if self.udf_count > 1:
                raise self.fail(
                    node,
                    path,
                    "a second user-defined field condition",
                    "Autotask allows only one udf condition per query",
                )
        out["field"] = self.field_name(node, path, name, udf)
        if "udf" in node:
            out["udf"] = udf
        has_value = "value" in node
        value = node.get("value")
        if op in ("eq", "noteq") and has_value and value is None:
            out["op"] = op = "notExist" if op == "eq" else "exist"
            has_value = False
        if op in NO_VALUE:
            if has_value and value is not None:
                word = "exists" if op == "exist" else "not exists"
                raise self.fail(
                    node,
                    path,
                    f"{op} takes no value (got {short(repr(value))})",
                    f"remove the value; {word} only tests for presence",
                    "value",
                )
            return out
        if not has_value:
            raise self.fail(node, path, f'a {op} condition needs a "value"', 'add "value": …')
        out["value"] = self.value(node, path, out, value)
        return out

    def value(self, node: Mapping[str, Any], path: str, out: Mapping[str, Any], value: Any) -> Any:
        """The checked value of a condition whose operator takes one (a list for in / notIn)."""
        op = out["op"]
        if op in LIST_OPS:
            if not isinstance(value, (list, tuple)) or not value:
                raise self.fail(
                    node, path, f"{op} needs a non-empty list of values", "give at least one value in a list", "value"
                )
            if any(v is None or isinstance(v, (list, tuple, Mapping)) for v in value):
                raise self.fail(
                    node,
                    path,
                    f"{op} values must be numbers, text or booleans",
                    "remove null and nested lists",
                    "value",
                )
            return [self.typed(node, path, out, v) for v in value]
        if value is None:
            raise self.fail(
                node, path, f"{op} needs a value, not null", "use exist / notExist to test for null", "value"
            )
        if isinstance(value, (list, tuple, Mapping)):
            raise self.fail(
                node,
                path,
                f"{op} needs a single value, got a {type(value).__name__}",
                "use in / notIn for lists",
                "value",
            )
        return self.typed(node, path, out, value) if op not in _TEXT_OPS else value

    def typed(self, node: Mapping[str, Any], path: str, out: Mapping[str, Any], value: Any) -> Any:
        """Check a value against the field's type; a picklist label becomes its value (status = 'Complete')."""
        if self.fields is None:
            return value
        info = self.fields.get(out["field"], udf=bool(out.get("udf")))
        if info is None:
            return value
        kind = info.kind
        if isinstance(value, RelativeDate):
            if kind in ("date", "datetime"):
                return value
            raise self.fail(
                node,
                path,
                f"{info.name} is not a date field, got the relative date {value!r}",
                "compare a date field",
                "value",
            )
        if isinstance(value, str) and info.picklist and kind in ("integer", "float"):
            matches = [k for k, label in info.picklist.items() if label.casefold() == value.strip().casefold()]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise self.fail(
                    node,
                    path,
                    f"picklist label {short(value)!r} of {info.name} is ambiguous",
                    f"use one of the values {', '.join(map(str, matches))}",
                    "value",
                )
        if kind in ("integer", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
                return value
            what = "has no picklist label" if info.picklist and isinstance(value, str) else "is a number field, got"
            raise self.fail(node, path, f"{info.name} {what} {short(repr(value))}", _number_hint(info, value), "value")
        if kind == "boolean" and not isinstance(value, bool):
            if value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            raise self.fail(
                node,
                path,
                f"{info.name} is a true/false field, got {short(repr(value))}",
                "write true or false",
                "value",
            )
        if kind in ("date", "datetime") and not (isinstance(value, str) and _ISO_DATE.match(value.strip())):
            raise self.fail(
                node,
                path,
                f"{info.name} is a date field, got {short(repr(value))}",
                "write an ISO date like '2026-01-31' or '2026-01-31T12:00:00Z'",
                "value",
            )
        return value

    def field_name(self, node: Mapping[str, Any], path: str, name: str, udf: bool) -> str:
        """``name`` as the metadata spells it; an unknown name fails with a "did you mean"."""
        fields = self.fields
        if fields is None:
            return name
        resolved = fields.resolve(name, udf=udf)
        if resolved is not None:
            return resolved
        entity = self.entity or fields.entity
        if udf:
            guess = fields.suggest(name, udf=True)
            hint = f'did you mean udf."{guess}"?' if guess else _known_hint(fields.udf_names, "user-defined fields")
            raise self.fail(node, path, f"unknown user-defined field {short(name)!r} for {entity}", hint)
        if fields.resolve(name, udf=True) is not None:
            hint = f'did you mean udf."{fields.resolve(name, udf=True)}"? (a user-defined field)'
        else:
            guess = fields.suggest(name)
            hint = f"did you mean {guess!r}?" if guess else _known_hint(fields.names, "fields")
        raise self.fail(node, path, f"unknown field {short(name)!r} for {entity}", hint)


def _number_hint(info: FieldInfo, value: Any = None) -> str:
    if not info.picklist:
        return "write a number"
    labels = list(dict.fromkeys(info.picklist.values()))
    if isinstance(value, str):  # a near miss of a label: "did you mean"
        folded = {label.casefold(): label for label in reversed(labels)}
        near = difflib.get_close_matches(value.strip().casefold(), list(folded), n=1, cutoff=0.6)
        if near:
            return f"did you mean {folded[near[0]]!r}? (labels are matched case-insensitively)"
    return f"use a number or one of the labels: {', '.join(labels[:6])}{', …' if len(labels) > 6 else ''}"


def _known_hint(names: Sequence[str], what: str) -> str:
    if not names:
        return f"this entity has no {what}"
    shown = ", ".join(names[:8])
    return f"known {what}: {shown}{', …' if len(names) > 8 else ''}"
