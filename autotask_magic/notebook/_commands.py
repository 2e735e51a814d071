"""What the user typed, as small command objects: ``%autotask`` lines and cells -> ``QueryCommand``,
``RequestCommand``, ``FieldsCommand``; ``%autotask_login`` lines -> ``LoginCommand``.

Parsing only: no client, no display, no network. Every mistake is a one-line ``UsageError`` (or a
``QuerySyntaxError`` pointing into the cell) raised before anything is sent.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from .._durations import MAX_LATENCY_S, parse_duration
from .._exceptions import ConfigurationError, QuerySyntaxError
from ..entities._names import is_published_entity, suggest_entity
from . import _line
from ._analyst import check_analyst_options

__all__ = [
    "METHODS",
    "USAGE",
    "FieldsCommand",
    "LoginCommand",
    "QueryCommand",
    "RequestCommand",
    "parse_fields",
    "parse_login",
    "parse_query",
    "parse_request",
    "split_where",
    "split_words",
    "unknown_command",
]

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
ENTITY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

USAGE = textwrap.dedent(  # IPython's dedent keeps the first line's indent
    """\
    %autotask query ENTITY [options] [where CONDITION]     (or the condition in the cell body)
    %autotask GET|POST|PATCH|PUT|DELETE /PATH [--body NAME] [--dry-run] [--raw] [-o NAME]
    %autotask fields ENTITY                                (the entity's field metadata)
    %autotask update|create|delete ENTITY -i NAME [--dry-run] [-o NAME] [--yes] [--retry-failed OUTCOMES]
                   update: --nulls leave|clear --force;  create: --match COLS   (writes from a DataFrame)

    query options: --fields a,b,c  --limit N  --count  -o NAME  --labels  --parallel  --tz ZONE
                   --where TEXT  --dry-run  --raw  --expand companyID,assignedResourceID
                   --refresh NAME [--no-fallback]  --resume
    condition:     status != 'Complete' and createDate >= today - 30d and (priority in (1, 2)
                   or title contains 'printer') and udf."Root Cause" = :cause
    values:        only through :name, also in paths (GET /Companies/:cid/Contacts); options count
                   anywhere on the line; a trailing '  # comment' is ignored
    """
)


# ------------------------------------------------------------------------------------ commands


@dataclass(frozen=True)
class QueryCommand:
    """``%autotask query ENTITY …``: the condition already parsed (syntax and UDF rules checked)."""

    entity: str
    text: str
    filter: list[dict[str, Any]]
    fields: list[str] | None = None
    limit: int | None = None
    count: bool = False
    output: str | None = None
    labels: bool | None = None  # None: the AutotaskMagic.labels default
    parallel: bool | None = None  # None: the AutotaskMagic.parallel default
    tz: str | None = None  # None: the AutotaskMagic.timezone default
    dry_run: bool = False
    raw: bool = False
    expand: str | None = None  # None: the AutotaskMagic.expand default
    refresh: str | None = None  # the variable holding the frame to refresh
    no_fallback: bool = False
    resume: bool = False

    @property
    def line(self) -> str:
        """The query as one ``%autotask`` line (what a partial result belongs to)."""
        parts = [f"%autotask query {self.entity}"]
        if self.fields:
            parts.append("--fields " + ",".join(self.fields))
        if self.limit is not None:
            parts.append(f"--limit {self.limit}")
        if self.tz:
            parts.append(f"--tz {self.tz}")
        condition = " ".join(self.text.split())
        if condition:
            parts.append(f"where {condition}")
        return " ".join(parts)


@dataclass(frozen=True)
class RequestCommand:
    """``%autotask METHOD /path``: a path under the API root, its query parameters and a JSON body."""

    method: str
    path: str
    params: dict[str, str]
    body: Any = None
    dry_run: bool = False
    raw: bool = False
    output: str | None = None

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]


@dataclass(frozen=True)
class FieldsCommand:
    """``%autotask fields ENTITY``."""

    entity: str
    output: str | None = None


@dataclass(frozen=True)
class LoginCommand:
    """``%autotask_login …`` after its checks; None means "not given" (configuration or environment decide)."""

    sandbox: bool = False
    mode: str | None = None
    client_id: str | None = None
    username: str | None = None
    impersonate: str | None = None
    base_url: str | None = None
    token_url: str | None = None
    zone_url: str | None = None
    ca_bundle: str | None = None
    tickets: int | None = None
    token_ttl: float | None = None
    latency: int | None = None  # milliseconds (the option reads a duration)
    no_check: bool = False


# ------------------------------------------------------------------------------------- parsers


def _query_parser() -> MagicArgumentParser:
    p = MagicArgumentParser(prog="%autotask query", add_help=False)
    p.add_argument("entity", help="entity name, e.g. Tickets")
    p.add_argument("--where", default=None, help="condition in the query language")
    p.add_argument("--fields", default=None, help="comma-separated field names (IncludeFields)")
    p.add_argument("--limit", type=_positive_int, default=None, help="stop after N records")
    p.add_argument("--count", action="store_true", help="return the number of matching records")
    p.add_argument("-o", "--output", default=None, help="store the result in this variable")
    p.add_argument("--labels", action="store_true", default=None, help="add <field>_label columns")
    p.add_argument("--no-labels", action="store_false", dest="labels", help="no label columns")
    p.add_argument("--parallel", action="store_true", default=None, help="id-range parallel pull")
    p.add_argument("--tz", default=None, help="time zone for date columns (default: UTC)")
    p.add_argument("--dry-run", action="store_true", help="show the request, send nothing")
    p.add_argument("--raw", action="store_true", help="return the records as a list of dicts")
    p.add_argument("--expand", default=None, help="reference fields to name: companyID,assignedResourceID")
    p.add_argument("--refresh", default=None, help="bring the frame in this variable up to date")
    p.add_argument("--no-fallback", action="store_true", help="with --refresh: report deleted rows, no full pull")
    p.add_argument("--resume", action="store_true", help="continue this query's stopped pull")
    return p


def _request_parser() -> MagicArgumentParser:
    p = MagicArgumentParser(prog="%autotask METHOD", add_help=False)
    p.add_argument("method")
    p.add_argument("path", help="path under the API root, e.g. /Companies/0")
    p.add_argument("--body", default=None, help="name of a dict/list in the namespace to send as JSON")
    p.add_argument("--dry-run", action="store_true", help="show the request, send nothing")
    p.add_argument("--raw", action="store_true", help="return the parsed JSON")
    p.add_argument("-o", "--output", default=None, help="store the result in this variable")
    return p


def _fields_parser() -> MagicArgumentParser:
    p = MagicArgumentParser(prog="%autotask fields", add_help=False)
    p.add_argument("entity")
    p.add_argument("-o", "--output", default=None)
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def duration(text: str) -> float:
    """``500ms``, ``0.5s``, ``2s`` or ``2`` -> seconds (:mod:`autotask_magic._durations`)."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def split_words(line: str) -> list[str]:
    """The words of a magic line (``_line`` grammar: quotes removed, the trailing comment dropped)."""
    return [w.value for w in _line.words(line)]


def split_where(rest: str) -> tuple[str, str | None]:
    """Split ``Tickets --limit 5 where status != 5`` at the first bare ``where`` word."""
    for i, w in enumerate(_line.words(rest)):
        if i > 0 and w.raw.lower() == "where":
            return rest[: w.start], _line.strip_comment(rest[w.end :]).strip()
    return rest, None


_QUERY_OPTIONS = (
    "where",
    "fields",
    "limit",
    "count",
    "output",
    "labels",
    "no-labels",
    "parallel",
    "tz",
    "dry-run",
    "raw",
    "expand",
    "refresh",
    "no-fallback",
    "resume",
)
_REQUEST_OPTIONS = ("body", "dry-run", "raw", "output")
_QUERY_VALUED = frozenset({"--where", "--fields", "--limit", "-o", "--output", "--tz", "--expand", "--refresh"})
_REQUEST_VALUED = frozenset({"--body", "-o", "--output"})


def _check_query_options(args: argparse.Namespace) -> None:
    """Refuse options that one another would silently ignore (``--count --limit 5``)."""
    if args.count:
        given = {
            "--raw": args.raw,
            "--limit": args.limit is not None,
            "--fields": args.fields is not None,
            "--labels": bool(args.labels),
            "--parallel": bool(args.parallel),
        }
        clash = next((option for option, on in given.items() if on), None)
        if clash is not None:
            raise UsageError(
                f"--count and {clash} do not go together (a count returns a number, not rows); drop one of them"
            )
    check_analyst_options(args)
    if args.raw and args.labels:  # --no-labels is what --raw does anyway
        raise UsageError("--raw and --labels do not go together (raw records have no label columns); drop one")


def _refuse_option_lines(cell: str, kind: str, options: tuple[str, ...], first_line: str) -> None:
    """Refuse an option in the cell body (``--fields a,b``, ``… -o name``), wherever it stands on a line.

    The query language reads ``--`` as a comment, so such an option would be silently ignored; options
    belong on the ``%%autotask`` line.
    """
    known = {f"--{o}" for o in options} | {"-o"}
    for number, body_line in enumerate(cell.splitlines(), start=2):
        try:
            found = _line.words(body_line)
        except UsageError:  # an apostrophe in a comment: the line start is all that can be judged
            found = _line.words(body_line.split("'")[0].split('"')[0])
        for w in found:
            if kind == "query" and w.raw.startswith("--") and not _line.is_option(w):
                break  # "-- note": the query language's comment
            option = w.raw.split("=", 1)[0]
            if _line.is_option(w) and option in known:
                example = f"{first_line} {option} …"
                raise UsageError(
                    f"{option} on line {number} of the cell is not read as an option: options go on the first "
                    f"line ({example})" + (" — in a query body '--' starts a comment" if kind == "query" else "")
                )


def _magic_param_hint(exc: QuerySyntaxError) -> QuerySyntaxError:
    """An unknown ``:name`` in the magic: say to define the variable in the notebook (the parser's
    hint also mentions ``params=``, which is the Python API's wording)."""
    m = re.match(r"unknown parameter :([A-Za-z_][A-Za-z0-9_]*)", exc.message)
    if m:
        exc.hint = f"define {m.group(1)} = ... in a cell first, then run this cell again"
    return exc


def _check_output(name: str | None) -> None:
    if name is not None and (not _IDENT_RE.match(name) or keyword.iskeyword(name)):
        raise UsageError(f"-o needs a Python variable name, got {name!r}")


class _Namespace(Mapping[str, Any]):
    """Read-only view of the user namespace for ``:name`` parameters (no copy of a large namespace)."""

    def __init__(self, ns: Mapping[str, Any]) -> None:
        self._ns = ns

    def __getitem__(self, key: str) -> Any:
        return self._ns[key]

    def __iter__(self) -> Iterator[str]:
        return (k for k in self._ns if not k.startswith("_"))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        return key in self._ns


# ------------------------------------------------------------------------------- %autotask query


def parse_query(rest: str, cell: str | None, user_ns: Mapping[str, Any]) -> QueryCommand:
    """``ENTITY [options] [where …]`` (and the cell body) -> a QueryCommand; ``:name`` from ``user_ns``."""
    from ..client._tz import check_timezone
    from ..query import parse_where, validate_filter

    argv, where_text = _line.split_options(rest, _QUERY_VALUED, where=True)
    args = _query_parser().parse_args(argv)
    entity = args.entity
    if not ENTITY_RE.match(entity):
        raise UsageError(f"{entity!r} is not an entity name (e.g. Tickets, Companies)")
    _check_output(args.output)
    if cell:
        _refuse_option_lines(cell, "query", _QUERY_OPTIONS, f"%%autotask query {entity}")
    sources = [t for t in (args.where, where_text, cell) if t is not None]
    if len(sources) > 1:
        raise UsageError("give the condition once: in the cell body, after 'where', or with --where")
    text = sources[0] if sources else ""
    _check_query_options(args)
    # Syntax, operators and the UDF rule are checked here, before login or any request.
    try:
        parsed = parse_where(text, _Namespace(user_ns))
    except QuerySyntaxError as exc:
        raise _magic_param_hint(exc) from None
    if sources and not parsed:
        # A bare "%autotask query ENTITY" is a deliberate full pull; an empty condition is a mistake.
        where = "the cell body" if cell is not None else ("--where" if args.where is not None else "'where'")
        raise UsageError(
            f"{where} holds no condition, so every {entity} record would be pulled; write one (e.g. id > 0), "
            "or leave it out for a deliberate full pull"
        )
    validate_filter(parsed, None, entity=entity)
    if args.tz:
        try:
            check_timezone(args.tz)
        except ConfigurationError as exc:
            raise UsageError(f"--tz: {exc}") from None
    return QueryCommand(
        entity=entity,
        text=text,
        filter=parsed,  # a ParsedFilter: keeps the source positions for error pointers
        fields=[f.strip() for f in args.fields.split(",") if f.strip()] if args.fields else None,
        limit=args.limit,
        count=args.count,
        output=args.output,
        labels=args.labels,
        parallel=args.parallel,
        tz=args.tz,
        dry_run=args.dry_run,
        raw=args.raw,
        expand=args.expand,
        refresh=args.refresh,
        no_fallback=args.no_fallback,
        resume=args.resume,
    )


# ------------------------------------------------------------------------- %autotask METHOD /path


def parse_request(
    method: str, rest: str, cell: str | None, user_ns: Mapping[str, Any], api_root: str | None
) -> RequestCommand:
    """``METHOD /path [options]`` and a JSON cell -> a RequestCommand. ``api_root``: the session's, if known."""
    if cell:
        _refuse_option_lines(cell, "request", _REQUEST_OPTIONS, f"%%autotask {method} /PATH")
    argv, _ = _line.split_options(rest, _REQUEST_VALUED)
    args = _request_parser().parse_args([method, *argv])
    _check_output(args.output)
    path, params = clean_path(_bind_path(args.path, user_ns), api_root)
    if args.body is not None and cell and cell.strip():
        raise UsageError("give the body once: in the cell or with --body NAME")
    body = _named_body(args.body, user_ns) if args.body is not None else _cell_body(cell)
    if method in ("GET", "DELETE") and body is not None:
        raise UsageError(f"{method} takes no body")
    segments = [s for s in path.split("/") if s]
    if method in ("PATCH", "PUT") and len(segments) == 2 and segments[1].isdigit():
        raise UsageError(
            f"Autotask has no {method} {segments[0]}/{{id}}: send {method} /{segments[0]} with the id in the body"
        )
    if method in ("POST", "PATCH", "PUT") and body is None:
        raise UsageError(f"{method} needs a JSON body: in the cell, or --body NAME")
    return RequestCommand(method, path, params, body, dry_run=args.dry_run, raw=args.raw, output=args.output)


def _named_body(name: str, user_ns: Mapping[str, Any]) -> Any:
    if name not in user_ns:
        raise UsageError(f"--body {name}: no such variable")
    body = user_ns[name]
    if not isinstance(body, (dict, list)):
        raise UsageError(f"--body {name}: expected a dict or list, got {type(body).__name__}")
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--body {name} cannot be sent as JSON: {exc}") from None
    return body


def _cell_body(cell: str | None) -> Any:
    if not cell or not cell.strip():
        return None
    cell = _drop_comment_lines(cell)
    if not cell.strip():
        return None
    try:
        return json.loads(cell, parse_constant=_no_constant)
    except RecursionError:
        too_deep = True
    except _NotJSON as exc:
        constant = exc.args[0]
        raise _json_error(cell, cell.find(constant), constant, "JSON has no NaN or Infinity; write null") from None
    except json.JSONDecodeError as exc:
        # At the end of the cell, point after the last character, not at the line its newline opens.
        end = cell.find("\n", len(cell.rstrip()))
        pos = min(exc.pos, len(cell) if end == -1 else end)
        raise _json_error(cell, pos, exc.msg, "the body of a raw request is JSON") from None
    if too_deep:
        raise QuerySyntaxError("the cell's JSON body is nested too deeply to read", hint="send a flatter body")
    return None


def _json_error(cell: str, pos: int, what: str, hint: str) -> QuerySyntaxError:
    line = cell.count("\n", 0, pos) + 1
    col = pos - (cell.rfind("\n", 0, pos) + 1) + 1
    err = QuerySyntaxError(f"the cell is not valid JSON: {what} at line {line}, column {col}", hint=hint)
    err.text, err.position = cell, pos
    return err


_PATH_PARAM = re.compile(r"^:([A-Za-z_][A-Za-z0-9_]*)$")


def _bind_path(path: str, user_ns: Mapping[str, Any]) -> str:
    """``/Companies/:cid/Contacts`` -> ``/Companies/174/Contacts``: a ``:name`` segment takes the variable's
    value, percent-encoded as one segment (a ``/`` or ``?`` in it cannot reach another path)."""
    from urllib.parse import quote

    if "\\" in path:
        raise UsageError("the path may not contain a backslash; give a path like /Companies/0")
    head, sep, query = path.partition("?")
    segments = head.split("/")
    for k, segment in enumerate(segments):
        m = _PATH_PARAM.match(segment)
        if not m:
            continue
        name = m.group(1)
        if name not in user_ns:
            raise UsageError(f"unknown parameter :{name} in the path: define {name} = ... in a cell first")
        value = user_ns[name]
        if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str) and not value):
            raise UsageError(f":{name} in the path needs a whole number or non-empty text, got {type(value).__name__}")
        segments[k] = quote(str(value), safe="")
    return "/".join(segments) + sep + query


class _NotJSON(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJSON(name)


def _drop_comment_lines(cell: str) -> str:
    """Blank out whole-line ``#`` comments (JSON has none), keeping line numbers for error pointers."""
    return "\n".join("" if line.lstrip().startswith("#") else line for line in cell.split("\n"))


def clean_path(raw: str, api_root: str | None) -> tuple[str, dict[str, str]]:
    """Path relative to the API root, and its query parameters. Absolute URLs must point at the
    API root of the current session (credentials never go to another host)."""
    path = raw.strip()
    if re.match(r"^[a-z][a-z0-9+.-]*://", path, re.IGNORECASE):
        if not api_root or not path.lower().startswith(api_root.lower()):
            raise UsageError("absolute URLs must be under the API root of this session; give a path like /Tickets/1")
        path = path[len(api_root) :]
    path = path.lstrip("/")
    for prefix in ("atservicesrest/v1.0/", "v1.0/"):
        if path.lower().startswith(prefix):
            path = path[len(prefix) :]
    if "#" in path:
        raise UsageError("the path may not contain '#' (a URL fragment is never sent); give a path like /Tickets/1")
    parts = urlsplit(path)
    path, query = parts.path, parts.query
    if any(seg in ("..", ".") for seg in path.split("/")):
        raise UsageError("the path may not contain '.' or '..'")
    if not path:
        raise UsageError("give a path under the API root, e.g. /Companies/0")
    return path, dict(parse_qsl(query, keep_blank_values=True))


# ------------------------------------------------------------------------------ other commands


def parse_fields(rest: str) -> FieldsCommand:
    """``ENTITY [-o NAME]`` -> a FieldsCommand."""
    args = _fields_parser().parse_args(_line.split_options(rest, frozenset({"-o", "--output"}))[0])
    if not ENTITY_RE.match(args.entity):
        raise UsageError(f"{args.entity!r} is not an entity name")
    _check_output(args.output)
    return FieldsCommand(args.entity, args.output)


def unknown_command(head: str, known_entities: set[str]) -> UsageError:
    """The error for ``%autotask WORD`` that is no command; an entity-like word earns "did you mean"."""
    hint = ""
    if head in known_entities or is_published_entity(head):
        entity: str | None = head  # an entity typed without "query"
    else:
        entity = suggest_entity(head, known_entities) if ENTITY_RE.match(head) else None
    if entity is None and ENTITY_RE.match(head) and head[:1].isupper():
        entity = head
    if entity is not None:
        hint = f" — did you mean %autotask query {entity}?"
    return UsageError(
        f"unknown %autotask command {head!r}{hint} "
        "(query, fields, update, create, delete, GET, POST, PATCH, PUT, DELETE)"
    )


# ------------------------------------------------------------------------------ %autotask_login

LOGIN_IDENTIFIERS = (
    "--client-id",
    "--username",
    "--impersonate",
    "--mode",
    "--tickets",
    "--token-ttl",
    "--latency",
)
LOGIN_URLS = ("--base-url", "--token-url", "--zone-url", "--ca-bundle")
LOGIN_FLAGS = ("--sandbox", "--no-check", "-h", "--help")


def check_login_words(words: Sequence[str]) -> None:
    """Refuse secrets and unknown options on a login line, before argparse (which would echo values)."""
    from ._login import check_no_secret_arguments

    check_no_secret_arguments(words, LOGIN_IDENTIFIERS, LOGIN_URLS)
    known = set(LOGIN_IDENTIFIERS) | set(LOGIN_URLS) | set(LOGIN_FLAGS)
    takes_value = set(LOGIN_IDENTIFIERS) | set(LOGIN_URLS)
    for prev, word in zip(["", *words], words, strict=False):
        name = word.split("=", 1)[0]
        if prev in takes_value:
            continue  # a value such as "--latency -1": argparse judges it below
        if word.startswith("-") and name not in known:
            # Never echo the value: an unknown option may carry a secret.
            raise UsageError(f"%autotask_login has no option {name} (see %autotask_login?)")


def parse_login(args: argparse.Namespace) -> LoginCommand:
    """The parsed ``%autotask_login`` options -> a LoginCommand, after the cross-option checks."""
    sandbox_only = [
        o
        for o, v in (("--tickets", args.tickets), ("--token-ttl", args.token_ttl), ("--latency", args.latency))
        if v is not None
    ]
    if sandbox_only and not args.sandbox:
        verb = "needs" if len(sandbox_only) == 1 else "need"
        raise UsageError(f"{', '.join(sandbox_only)} {verb} --sandbox (they set up the built-in sandbox)")
    if args.token_ttl is not None and not args.token_ttl > 0:
        raise UsageError("--token-ttl needs a positive duration, e.g. 30s or 500ms")
    if args.latency is not None and args.latency > MAX_LATENCY_S:
        raise UsageError(
            f"--latency {args.latency:g}s is more than {MAX_LATENCY_S:g}s per answer; "
            f"write {args.latency:g}ms for milliseconds (a bare number is seconds)"
        )
    if args.tickets is not None and args.tickets < 0:
        raise UsageError("--tickets needs 0 or more tickets")
    values = {name: getattr(args, name) for name in LoginCommand.__dataclass_fields__}
    if args.latency is not None:
        values["latency"] = round(args.latency * 1000)  # the sandbox counts milliseconds
    return LoginCommand(**values)
