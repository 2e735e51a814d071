"""The grammar of a magic's line, defined once for every ``%autotask*`` magic.

* A **word** is a run of characters outside quotes, up to whitespace; quoted parts (``'…'`` or ``"…"``)
  belong to the word they touch and keep their spaces. Backslashes are kept as typed (no shell escapes).
* A **comment** is whitespace (or the start of the line) then ``#`` outside quotes; it runs to the end
  of the line. ``#`` inside a word (``/Tickets/1#frag``) is part of the word.
* An **option** is an unquoted word ``--name`` (``--name=value``) or ``-x``: ``-5`` and ``--`` are not.
  Options are read wherever they stand on the line, also after ``where``; an option the command does
  not know is refused by its parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from IPython.core.error import UsageError

__all__ = ["Word", "is_option", "split_options", "strip_comment", "words"]

_OPTION = re.compile(r"(?:--[A-Za-z][A-Za-z0-9_-]*|-[A-Za-z])(?:=.*)?", re.DOTALL)


@dataclass(frozen=True)
class Word:
    """One word of a line: ``raw`` as typed (quotes included), ``value`` with its quotes removed."""

    raw: str
    value: str
    start: int
    end: int

    @property
    def quoted(self) -> bool:
        return self.raw != self.value


def words(line: str) -> list[Word]:
    """The words of ``line`` before its comment; unbalanced quotes are a one-line UsageError."""
    out: list[Word] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        if line[i] == "#":  # at the start of a word: a comment
            break
        start, value = i, []
        while i < n and not line[i].isspace():
            ch = line[i]
            if ch in "'\"":
                close = _closing_quote(line, i)
                value.append(line[i + 1 : close].replace("\\" + ch, ch))
                i = close + 1
            else:
                value.append(ch)
                i += 1
        out.append(Word(line[start:i], "".join(value), start, i))
    return out


def _closing_quote(line: str, i: int) -> int:
    quote, j = line[i], i + 1
    while j < len(line):
        if line[j] == "\\":
            j += 2
            continue
        if line[j] == quote:
            return j
        j += 1
    raise UsageError(f"cannot read the line: no closing quote for the {quote} at column {i + 1}")


def strip_comment(line: str) -> str:
    """``line`` without its trailing comment (and trailing whitespace)."""
    found = words(line)
    return line[: found[-1].end] if found else ""


def is_option(word: Word) -> bool:
    """True for an unquoted ``--name``/``--name=value``/``-x`` word."""
    return not word.raw.startswith(("'", '"')) and _OPTION.fullmatch(word.raw) is not None


def split_options(rest: str, takes_value: frozenset[str], *, where: bool = False) -> tuple[list[str], str | None]:
    """``rest`` -> (argv for argparse, the condition after a bare ``where`` or None).

    Options count wherever they stand (``_line`` grammar), also after ``where``: they and their
    values go to argv and are blanked out of the condition, so its columns stay where they were typed.
    """
    found = words(rest)
    argv: list[str] = []
    blank: list[tuple[int, int]] = []
    where_at: int | None = None
    i = 0
    while i < len(found):
        w = found[i]
        if is_option(w):
            argv.append(w.value)
            blank.append((w.start, w.end))
            if w.raw.split("=", 1)[0] in takes_value and "=" not in w.raw and i + 1 < len(found):
                i += 1
                argv.append(found[i].value)
                blank.append((found[i].start, found[i].end))
        elif where and where_at is None and argv and w.raw.lower() == "where":
            where_at = w.end
        elif where_at is None:
            argv.append(w.value)
        i += 1
    if where_at is None:
        return argv, None
    chars = list(rest[: found[-1].end])
    for start, end in blank:
        if start >= where_at:
            chars[start:end] = " " * (end - start)
    return argv, "".join(chars[where_at:]).strip()
