"""``ParsedFilter``: the parser's output, which the validator reads to point at the column of a problem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple


class Span(NamedTuple):
    """Where a condition was written: offsets of its field, operator and value (None without a value)."""

    field: int
    op: int
    value: int | None


class ParsedFilter(list):
    """A filter list parsed from text: equal to a plain list, but remembers where each node came from.

    ``validate_filter`` uses this to point at the column of an unknown field.
    """

    text: str
    _spans: dict[int, tuple[dict[str, Any], Span]]

    def __init__(
        self,
        items: Sequence[dict[str, Any]] = (),
        text: str = "",
        spans: dict[int, tuple[dict[str, Any], Span]] | None = None,
    ) -> None:
        super().__init__(items)
        self.text = text
        self._spans = {} if spans is None else spans

    def span(self, node: Mapping[str, Any]) -> Span | None:
        """Where ``node`` (an object of this filter) was written, if it was parsed from text."""
        hit = self._spans.get(id(node))
        return hit[1] if hit is not None and hit[0] is node else None
