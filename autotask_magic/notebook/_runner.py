"""Running commands: a ``QueryCommand``, ``RequestCommand`` or ``FieldsCommand`` against the session's
client, with progress, dry runs and partial results; what comes back is shown through ``_output``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, Protocol

from .._exceptions import (
    AutotaskError,
    ConfigurationError,
    IncompletePullError,
    QuerySyntaxError,
    WriteOutcomeUnknownError,
)
from . import _display
from ._analyst import default_expand, refresh_text, resolution_note
from ._commands import ENTITY_RE, FieldsCommand, QueryCommand, RequestCommand
from ._output import store_and_show, summary_text
from ._session import ClientLike, Session

__all__ = ["PARTIAL_NAME", "RunOptions", "Runner"]

PARTIAL_NAME = "_autotask_partial"


class RunOptions(Protocol):
    """The ``AutotaskMagic`` options a run reads (defaults for what the line does not say)."""

    timezone: str
    labels: bool
    parallel: bool
    progress: str
    page_size: int
    summary_rows: int
    expand: str
    expand_ttl: float


class Runner:
    """Runs commands for one magic: ``say`` shows text, ``display`` objects, ``user_ns()`` is the namespace."""

    def __init__(
        self,
        session: Session,
        options: RunOptions,
        *,
        say: Callable[[str], None],
        display: Callable[[Any], None],
        display_progress: Callable[[Any], Any],
        user_ns: Callable[[], MutableMapping[str, Any]],
        widgets: Callable[[], bool],
    ) -> None:
        self.session = session
        self.options = options
        self.say = say
        self.display = display
        self.display_progress = display_progress
        self.user_ns = user_ns
        self.widgets = widgets

    def _store(self, name: str, result: Any, *, rows: int | None = None, noun: str = "records") -> None:
        rows = self.options.summary_rows if rows is None else rows
        store_and_show(self.user_ns(), name, result, say=self.say, display=self.display, rows=rows, noun=noun)

    # ------------------------------------------------------------------------------ query
    def query(self, cmd: QueryCommand) -> Any:
        """Pull ``cmd`` into a DataFrame (or raw records, or a count); None when stored with ``-o``."""
        session = self.session
        if cmd.dry_run:
            self._dry_run_query(cmd)
            return None
        client = session.ensure_client()
        if hasattr(client, "expand_ttl"):
            client.expand_ttl = self.options.expand_ttl
        if cmd.refresh is not None:
            return self._refresh(client, cmd)
        fields = self._fields(client, cmd.entity)
        filter_ = self._prepare(cmd, fields)
        field_list = _check_field_names(cmd.entity, cmd.fields, fields) if cmd.fields else None
        if cmd.count:
            with _interruptible(f"POST /{cmd.entity}/query/count", write=False):
                n = client.count(cmd.entity, filter_ or None)
            if cmd.output:
                self._store(cmd.output, n, noun=cmd.entity)
                return None
            return n
        progress = _display.Progress(
            cmd.entity,
            mode=self.options.progress,
            display=self.display_progress,
            limit=cmd.limit,
            widgets=self.widgets(),
        )
        started = time.monotonic()
        result = self._pull(client, cmd, filter_, field_list, fields, progress)
        elapsed = time.monotonic() - started
        if not cmd.raw:
            _annotate(result, cmd, filter_, field_list, progress.pages, elapsed)
        progress.finish()
        if progress.shown and not cmd.output:
            self.say(summary_text(cmd.entity, result, progress.pages, elapsed))
        if cmd.output:
            self._store(cmd.output, result)
            return None
        return result

    def _pull(
        self,
        client: ClientLike,
        cmd: QueryCommand,
        filter_: list[dict[str, Any]],
        field_list: list[str] | None,
        fields: Any,
        progress: _display.Progress,
    ) -> Any:
        labels = self.options.labels if cmd.labels is None else cmd.labels
        parallel = self.options.parallel if cmd.parallel is None else cmd.parallel
        tz = cmd.tz or self.options.timezone
        try:
            if cmd.raw:
                result: list[dict[str, Any]] = []
                try:
                    result.extend(
                        client.records(
                            cmd.entity,
                            filter_ or None,
                            fields=field_list,
                            limit=cmd.limit,
                            on_page=progress.update,
                            parallel=parallel,
                        )
                    )
                except KeyboardInterrupt as exc:
                    # Keep what the loop already received when the client kept less.
                    if len(getattr(exc, "records", None) or ()) < len(result):
                        exc.records, exc.pages = result, progress.pages  # type: ignore[attr-defined]
                    raise
                return result
            extra: dict[str, Any] = {}  # only what is asked for: a ClientLike need not know these
            expand = default_expand(self.options.expand, fields) if cmd.expand is None else cmd.expand
            if expand:
                extra["expand"] = expand
            if cmd.resume:
                extra["resume"] = True
            if cmd.resume or hasattr(client, "refresh"):
                extra["_key"] = f"%autotask {cmd.line} labels={labels} tz={tz}"
            return client.query(
                cmd.entity,
                filter=filter_ or None,
                fields=field_list,
                limit=cmd.limit,
                labels=labels,
                tz=tz,
                parallel=parallel,
                on_page=progress.update,
                **extra,
            )
        except KeyboardInterrupt as exc:
            progress.finish()
            raise self._partial(cmd, exc, fields, labels, tz, progress.pages) from None
        except IncompletePullError as exc:
            progress.finish()
            raise self._partial(cmd, exc, fields, labels, tz, progress.pages) from exc

    def _partial(
        self, cmd: QueryCommand, exc: BaseException, fields: Any, labels: bool, tz: str, shown_pages: int
    ) -> IncompletePullError:
        """A stopped pull: keep what was fetched in ``_autotask_partial`` (marked with its query and
        time) and say so in one error."""
        from ._partial import mark_partial

        entity = cmd.entity
        records = getattr(exc, "records", None)
        pages = getattr(exc, "pages", None) or shown_pages
        cause = getattr(exc, "cause", None) if isinstance(exc, IncompletePullError) else exc
        by_user = isinstance(exc, KeyboardInterrupt) or isinstance(cause, KeyboardInterrupt)
        what = "interrupted (Ctrl-C)" if by_user else "pull stopped early"
        # client.query() builds the DataFrame as it pulls: its .frame holds every record fetched, and
        # .records only those not yet converted.
        frame = getattr(exc, "frame", None)
        if isinstance(records, list):
            partial = frame if frame is not None else _partial_frame(entity, records, fields, labels, tz, pages)
            partial = mark_partial(partial, cmd.line, int(pages or 0))
            if self.session.shell is not None:
                self.user_ns()[PARTIAL_NAME] = partial
            message = (
                f"{entity}: {what} after {len(partial):,} records in {pages} pages; "
                f"the records fetched so far are in {PARTIAL_NAME}"
                + ("; run the same line with --resume to continue" if not cmd.raw else "")
            )
        else:
            message = f"{entity}: {what} after {pages} pages; no records were kept"
        cause_text = None if by_user else str(cause or exc)
        err = IncompletePullError(message, hint=(f"cause: {cause_text}" if cause_text else None))
        err.records = records if isinstance(records, list) else []
        err.frame = frame  # type: ignore[attr-defined]
        err.pages = int(pages or 0)
        err.cause = cause
        return err

    def _refresh(self, client: ClientLike, cmd: QueryCommand) -> None:
        """``--refresh NAME``: the frame in NAME brought up to date (stored back, or in ``-o``), one line said."""
        name = cmd.refresh
        assert name is not None
        df = self.user_ns().get(name)
        info = getattr(df, "attrs", {}).get("autotask") if df is not None else None
        if not isinstance(info, dict) or "started_at" not in info:
            raise ConfigurationError(
                f"--refresh {name}: no frame from %autotask query in that variable", hint="pull it first with -o NAME"
            )
        if str(info.get("entity", "")).lower() != cmd.entity.lower():
            raise ConfigurationError(f"--refresh {name}: that frame holds {info.get('entity')}, not {cmd.entity}")
        typed = " ".join(str(info.get("where") or "").split())
        if cmd.text.strip() and " ".join(cmd.text.split()) != typed:
            raise ConfigurationError(
                f"--refresh {name}: the condition differs from the one it was pulled with", hint=f"it was: {typed}"
            )
        with _interruptible(f"POST /{cmd.entity}/query", write=False):
            out = client.refresh(df, fallback=not cmd.no_fallback)  # type: ignore[attr-defined]
        self.say(refresh_text(name, out.attrs["autotask"]))
        self.user_ns()[cmd.output or name] = out

    def _prepare(self, cmd: QueryCommand, fields: Any) -> list[dict[str, Any]]:
        """The filter as it is sent: checked against the metadata, date literals read for the zone."""
        from ..query import validate_filter
        from ..query._relative import resolve_dates
        from ..query._types import check_value_types

        filter_ = validate_filter(cmd.filter, fields, entity=cmd.entity)
        check_value_types(cmd.filter, filter_, fields)
        return resolve_dates(filter_, fields, cmd.tz or self.options.timezone)

    def _dry_run_query(self, cmd: QueryCommand) -> None:
        """Show exactly the request a real run sends: the same checks, labels resolved, the same body.

        Without the entity's metadata in this kernel it is loaded first (and the output says so); when
        there is no session to load it from, the request is shown unchecked, saying what is not known.
        """
        from ..client._client import query_body

        fields = self.session.cached_fields(cmd.entity)
        note = ""
        if fields is None:
            try:
                fields = self._fields(self.session.ensure_client(), cmd.entity)
                note = f"\n(to check it, the field metadata of {cmd.entity} was loaded; the query itself was not sent)"
            except ConfigurationError as exc:
                if exc.message != "not logged in":
                    raise
                note = (
                    "\n(not checked: not logged in, so field names, picklist labels and dates are shown as typed; "
                    "the real run checks them first)"
                )
        filter_ = self._prepare(cmd, fields) if fields is not None else list(cmd.filter)
        note = resolution_note(cmd, filter_, self.options.timezone) + note
        field_list = _check_field_names(cmd.entity, cmd.fields, fields) if cmd.fields else None
        body = query_body(filter_, field_list, cmd.limit, self.options.page_size)
        if cmd.count:
            path = f"{cmd.entity}/query/count"
            body = {"filter": body["filter"]}
        else:
            path = f"{cmd.entity}/query"
        self.say(self.render_request("POST", path, body) + note)

    # ------------------------------------------------------------------------------ raw requests
    def request(self, cmd: RequestCommand) -> Any:
        """Send ``cmd``; a response holding items becomes a DataFrame unless ``--raw``."""
        from ..client._published import check_published

        check_published(cmd.method, cmd.path)  # a dry run of a path the API lacks says so too
        if cmd.dry_run:
            self.say(self.render_request(cmd.method, cmd.path, cmd.body, cmd.params))
            return None
        client = self.session.ensure_client()
        with _interruptible(f"{cmd.method} /{cmd.path}", write=cmd.method != "GET"):
            result = client.request(cmd.method, cmd.path, json=cmd.body, params=cmd.params or None)
        segments = cmd.segments
        if segments and ENTITY_RE.match(segments[0]):
            self.session.known_entities.add(segments[0])
        if not cmd.raw and isinstance(result, dict) and ("item" in result or "items" in result):
            with _interruptible(f"{cmd.method} /{cmd.path}", write=False, doing="loading the field metadata"):
                result = self._frame_from_response(client, segments, result)
        elif cmd.method != "GET" and not cmd.raw and isinstance(result, dict):
            self.say(f"{cmd.method} {cmd.path}: " + ", ".join(f"{k}={v}" for k, v in result.items()))
        if cmd.output:
            self._store(cmd.output, result)
            return None
        return result

    def _frame_from_response(self, client: ClientLike, segments: list[str], result: dict[str, Any]) -> Any:
        from ..client._frames import to_frame

        records = [result["item"]] if "item" in result else list(result.get("items") or [])
        entity = segments[0] if segments else ""
        # A child path holds the child's records: Companies/1/Contacts -> Contacts, Tickets/1/Notes -> TicketNotes.
        if len(segments) >= 3 and ENTITY_RE.match(segments[2]):
            from ..entities import child_entity

            entity = child_entity(segments[0], segments[2]) or segments[2]
        fields = None
        if entity and ENTITY_RE.match(entity) and records:
            try:
                fields = self.session.entity_fields(client, entity)
            except AutotaskError:
                fields = None
        df = to_frame(records, fields=fields, tz=self.options.timezone, entity=entity or None)
        if "item" in result:  # one record: a field/value card (still a one-row DataFrame)
            from ._card import RecordFrame

            df = RecordFrame(df)
        df.attrs["autotask"] = {
            "entity": entity,
            "request": f"GET /{'/'.join(segments)}",
            "pages": 1,
            "records": len(records),
        }
        if (result.get("pageDetails") or {}).get("nextPageUrl"):
            self.say(f"{len(records)} records from the first page only; use %autotask query {entity} for all pages")
        return df

    def render_request(self, method: str, path: str, body: Any, params: Mapping[str, str] | None = None) -> str:
        """The request as text, credential headers redacted (a dry run sends nothing)."""
        from urllib.parse import urlencode

        from .._redact import redact

        root = self.session.api_root() or "<API root>/"
        url = root.rstrip("/") + "/" + path.lstrip("/")
        if params:
            url += "?" + urlencode(params)
        headers: dict[str, str] = {}
        if self.session.mode() == "api_user":
            headers["ApiIntegrationCode"] = "<redacted>"
            try:
                headers["UserName"] = self.session.client.manager.status().identity  # type: ignore[union-attr]
            except Exception:
                headers["UserName"] = "<redacted>"
            headers["Secret"] = "<redacted>"
        else:
            headers["Authorization"] = "Bearer <redacted>"
        if body is not None:
            headers["Content-Type"] = "application/json"
        return redact(_display.render_dry_run(method, url, headers, body, secrets=self.session.secrets()))

    # ------------------------------------------------------------------------------ metadata
    def _fields(self, client: ClientLike, entity: str) -> Any:
        """The entity's field metadata (once per kernel and host); Ctrl-C while it loads is one line too."""
        with _interruptible(f"GET /{entity}/entityInformation/fields", write=False, doing="loading the field metadata"):
            return self.session.entity_fields(client, entity)

    def fields(self, cmd: FieldsCommand) -> Any:
        """The entity's fields as a table indexed by field name (``_fields_table``): type, the column's
        dtype, marks for required / read-only / picklist / reference / UDF, reference target, picklist."""
        from ._fields_table import fields_frame

        fields = self._fields(self.session.ensure_client(), cmd.entity)
        df = fields_frame(fields, self.options.timezone)
        if cmd.output:
            self._store(cmd.output, df, rows=0)  # a field list: the summary line is enough
            return None
        return df


@contextmanager
def _interruptible(request: str, *, write: bool, doing: str = "waiting for the answer") -> Iterator[None]:
    """Ctrl-C during one request: a one-line error instead of an httpcore traceback."""
    try:
        yield
    except KeyboardInterrupt:
        if write:
            raise WriteOutcomeUnknownError(
                "interrupted (Ctrl-C) while waiting for the answer",
                request=request,
                hint="the change may or may not have been made; look before sending it again",
            ) from None
        raise AutotaskError(
            f"interrupted (Ctrl-C) while {doing}; nothing was kept",
            request=request,
            hint="run the cell again",
        ) from None


def _check_field_names(entity: str, names: list[str], fields: Any) -> list[str]:
    """``--fields`` names as the metadata spells them; a UDF as ``%autotask fields`` lists it
    (``udf.Root Cause``, also ``udf."Root Cause"``) becomes the column name ``udf.<name>``."""
    out = []
    for name in names:
        udf = name[:4].lower() == "udf."
        bare = name[4:].strip().strip("\"'") if udf else name
        if fields is None:
            out.append(f"udf.{bare}" if udf else name)
            continue
        info = fields.get(bare, udf=True if udf else None)
        if info is None:
            suggestion = fields.suggest(bare, udf=udf)
            if suggestion:
                hint = f'did you mean udf."{suggestion}"?' if udf else f"did you mean {suggestion}?"
            else:
                hint = f"%autotask fields {entity} lists them"
            raise QuerySyntaxError(f"unknown field {name!r} in --fields for {entity}", hint=hint)
        out.append(f"udf.{info.name}" if getattr(info, "is_udf", False) else info.name)
    return out


def _annotate(
    df: Any,
    cmd: QueryCommand,
    filter_: list[dict[str, Any]],
    field_list: list[str] | None,
    pages: int,
    elapsed: float,
) -> None:
    from ..query._relative import has_relative

    attrs = getattr(df, "attrs", None)
    if attrs is None:
        return
    info = dict(attrs.get("autotask") or {})
    info.setdefault("entity", cmd.entity)
    info.setdefault("where", cmd.text.strip() or None)
    if has_relative(cmd.filter):  # as typed: filter_ holds the resolved values
        info["relative"] = True
    info.setdefault("filter", filter_)
    info.setdefault("fields", field_list)
    info.setdefault("limit", cmd.limit)
    info.setdefault("pages", pages)
    info.setdefault("records", len(df))
    if "elapsed_s" not in info:
        info["elapsed_s"] = round(elapsed, 3)
    attrs["autotask"] = info


def _partial_frame(entity: str, records: list[Any], fields: Any, labels: bool, tz: str, pages: int) -> Any:
    try:
        from ..client._frames import to_frame

        df = to_frame(records, fields=fields, labels=labels, tz=tz)
        df.attrs["autotask"] = {"entity": entity, "pages": pages, "records": len(records), "partial": True}
        return df
    except Exception:  # keep the raw records rather than lose them
        return records
