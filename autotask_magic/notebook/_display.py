"""Rendering for the magics: one-line errors, dry-run requests, progress and summaries.

Nothing here imports IPython, pandas or httpx at module level: the magics import this module at
``%load_ext`` time, which must stay fast. ipywidgets is imported only when a progress bar is shown.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "Progress",
    "error_detail",
    "error_line",
    "frame_summary",
    "make_one_line",
    "render_dry_run",
    "scrub",
    "status_line",
]

# Header names whose values are credentials; they are always shown as "<redacted>".
CREDENTIAL_HEADERS = ("authorization", "secret", "apiintegrationcode", "x-api-key", "cookie")
REDACTED = "<redacted>"


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every occurrence of the given secret strings (and bearer tokens) in ``text``.

    Defence in depth: messages are built from redacted parts already, but a secret that reaches a
    rendered line through some unforeseen path (a server echoing it back) is still masked.
    """
    from .._redact import redact  # registered secrets and credential-looking fragments

    text = redact(text)
    for value in secrets:
        # Very short values would mask ordinary words; real secrets are long.
        if value and len(value) >= 6:
            text = text.replace(value, REDACTED)
    return re.sub(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}", r"\1" + REDACTED, text)


def error_line(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """The single line shown for a failed cell: ``ErrorClass: what happened — server says … — hint``."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return scrub(f"{type(exc).__name__}: {message}", secrets)


def syntax_pointer(exc: BaseException) -> list[str]:
    """For a query syntax error with a known column: the offending source line and a caret under it."""
    text = getattr(exc, "text", None)
    position = getattr(exc, "position", None)
    if not isinstance(text, str) or not isinstance(position, int) or position < 0:
        return []
    # The query may span lines; show only the line the column falls on.
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start : end if end != -1 else len(text)]
    column = position - start
    if len(line) > 160:  # keep the pointer readable for very long one-line queries
        lo = max(0, column - 60)
        line, column = line[lo : lo + 120], column - lo
    return ["    " + line, "    " + " " * column + "^"]


# The client's advice is for Python code; a notebook user acts through the magics and the panel.
_PYTHON_ADVICE = {
    "call refresh()": "run %autotask_login again (or press Refresh now on the status panel)",
    "then log in again": "then run %autotask_login again (or press Refresh now on the status panel)",
}


def notebook_advice(exc: BaseException) -> None:
    """Rewrite advice that only Python code can follow (``call refresh()``) into what to run in a notebook."""
    hint = getattr(exc, "hint", None)
    if isinstance(hint, str):
        for python, notebook in _PYTHON_ADVICE.items():
            hint = hint.replace(python, notebook)
        exc.hint = hint  # type: ignore[attr-defined]


def make_one_line(
    exc: BaseException,
    *,
    verbose: Callable[[], bool] = lambda: False,
    secrets: Iterable[str] = (),
    color: bool = False,
) -> BaseException:
    """Make IPython show ``exc`` as one readable line instead of a traceback.

    IPython (and ipykernel's error reply) call ``_render_traceback_()`` when an exception has it. The
    exception keeps its class, so ``except QueryError`` in user code and nbclient's failure detection
    behave as usual. When ``verbose()`` is true (``%xmode Verbose``) no renderer is attached and
    IPython prints the full traceback.
    """
    secret_list = list(secrets)
    if verbose():
        return exc  # no renderer: IPython prints its full (verbose) traceback

    def _render_traceback_() -> list[str]:
        lines = [error_line(exc, secret_list)]
        lines.extend(syntax_pointer(exc))
        if color:
            lines[0] = "\x1b[0;31m" + lines[0] + "\x1b[0m"
        return lines

    try:
        exc._render_traceback_ = _render_traceback_  # type: ignore[attr-defined]
    except AttributeError:  # exceptions with __slots__: leave the normal traceback
        pass
    return exc


def error_detail(exc: BaseException, tb_text: str | None, secrets: Iterable[str] = ()) -> str:
    """The long form for ``%autotask_last_error``: every part of the error, its causes, the traceback."""
    lines = [error_line(exc)]
    for attr in ("status", "request", "hint", "detail"):
        value = getattr(exc, attr, None)
        if value not in (None, ""):
            lines.append(f"  {attr}: {value}")
    server = getattr(exc, "server_messages", ())
    for message in server or ():
        lines.append(f"  server says: {message}")
    for attr in ("pages", "position"):
        value = getattr(exc, attr, None)
        if value is not None:
            lines.append(f"  {attr}: {value}")
    records = getattr(exc, "records", None)
    if isinstance(records, list):
        lines.append(f"  records fetched before the stop: {len(records)}")
    cause = exc.__cause__ or getattr(exc, "cause", None) or exc.__context__
    depth = 0
    while cause is not None and depth < 5:  # bounded: cause chains can be cyclic
        lines.append(f"  caused by {type(cause).__name__}: {' '.join(str(cause).split())}")
        cause = cause.__cause__ or cause.__context__
        depth += 1
    if tb_text:
        lines.append("")
        lines.append(tb_text.rstrip())
    return scrub("\n".join(lines), secrets)


def format_traceback(exc: BaseException) -> str:
    """Plain traceback text of ``exc`` (no locals: locals could hold credentials)."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def render_dry_run(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any = None,
    *,
    secrets: Iterable[str] = (),
) -> str:
    """The exact request that would be sent, with credential headers redacted."""
    lines = [f"{method.upper()} {url}"]
    for name, value in headers.items():
        shown = REDACTED if name.lower() in CREDENTIAL_HEADERS else value
        lines.append(f"{name}: {shown}")
    if body is not None:
        lines.append("")
        lines.append(json.dumps(body, indent=2, ensure_ascii=False, default=str))
    lines.append("")
    lines.append("(dry run: nothing was sent)")
    return scrub("\n".join(lines), secrets)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _left(seconds: float) -> str:
    """Time left, rounded the way a reader wants it: ``4 s``, ``2 min 05 s``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def frame_summary(name: str | None, df: Any) -> str:
    """``name: 1,200 rows × 14 columns — POST Tickets/query, 3 pages, 0.84 s``."""
    rows, cols = getattr(df, "shape", (len(df), 0))
    head = f"{name}: " if name else ""
    text = f"{head}{_plural(rows, 'row')} × {_plural(cols, 'column')}"
    info = getattr(df, "attrs", {}).get("autotask") or {}
    extra = []
    if info.get("entity") and info["entity"] != name:  # "Tickets: … — Tickets" says it twice
        extra.append(str(info["entity"]))
    if info.get("pages") is not None:
        extra.append(_plural(int(info["pages"]), "page"))
    elapsed = info.get("elapsed_s", info.get("elapsed"))
    if elapsed is not None:
        extra.append(f"{float(elapsed):.2f} s")
    zone = _time_zone(df)
    if zone:
        extra.append(f"times in {zone}")  # said once here; the cells show the offset only
    if extra:
        text += " — " + ", ".join(extra)
    return text


def _time_zone(df: Any) -> str | None:
    """The zone of the frame's date/time columns (they share one: the query's), None without any."""
    for dtype in getattr(getattr(df, "dtypes", None), "values", ()):
        tz = getattr(dtype, "tz", None)
        if tz is not None:
            return str(tz)
    return None


def status_line(status: Any) -> str:
    """One line from a ``ManagerStatus``: who, where, token state, request budget. Never a secret."""
    mode = {"oauth": "OAuth", "api_user": "API user"}.get(getattr(status, "mode", ""), "?")
    state = getattr(status, "state", None)
    state_text = getattr(state, "value", str(state))
    parts = [f"Autotask: {state_text}"]
    label = getattr(status, "label", None)
    who = getattr(status, "identity", "")
    parts.append(f"{mode} {who}" + (f" ({label})" if label else ""))
    host = getattr(status, "api_host", "")
    zone = getattr(status, "zone", None)
    if host or zone:
        parts.append(f"{host}" + (f" zone {zone}" if zone else ""))
    expires = getattr(status, "expires_at", None)
    if expires is not None:
        seconds = max(int(expires.timestamp() - time.time()), 0)
        # Short-lived tokens (a sandbox with --token-ttl) would read "expires in 0 min".
        parts.append(f"token expires in {seconds} s" if seconds < 120 else f"token expires in {seconds // 60} min")
    used = getattr(status, "requests_last_minute", None)
    limit = getattr(status, "requests_per_minute_limit", None)
    if used is not None and limit:
        parts.append(f"{used}/{limit} requests this minute")
    hourly = getattr(status, "hourly_requests", None)
    threshold = getattr(status, "hourly_threshold", None)
    if hourly is not None and threshold:
        parts.append(f"{hourly:,}/{threshold:,} this hour")
    error = getattr(status, "last_error", None)
    if error:
        parts.append(f"last error: {error}")
    return " · ".join(parts)


class Progress:
    """Progress for a multi-page pull, fed by the client's ``on_page`` callback.

    Nothing is shown for a single-page answer; from the second page on, an ipywidgets bar (records of
    the estimated total, and pages) when a widget front end is present, otherwise a single text line
    rewritten in place with ``\\r``. ``finish()`` replaces it with the compact summary. ``update`` may
    be called from worker threads (parallel pulls), so it takes a lock and does little.
    """

    def __init__(
        self,
        entity: str,
        *,
        mode: str = "auto",
        display: Callable[[Any], Any] | None = None,
        stream: Any = None,
        limit: int | None = None,
        widgets: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.entity = entity
        self.widgets = widgets
        self.mode = mode
        self.limit = limit
        self._display = display
        self._stream = stream
        self._lock = threading.Lock()
        self._widget: Any = None
        self._handle: Any = None  # a DisplayHandle when the display returned one: finish() updates it
        self._elapsed: float | None = None
        self._bar: Any = None
        self._label: Any = None
        self._shown = False
        self._text_width = 0
        self.pages = 0
        self.records = 0
        self.total: int | None = None
        self._clock = clock
        self._started = clock()

    # --- callback -------------------------------------------------------------------------
    def update(self, info: Any) -> None:
        """``on_page`` callback: ``info`` has ``pages``, ``records`` and ``total_estimate``."""
        with self._lock:
            self.pages = int(getattr(info, "pages", self.pages + 1))
            self.records = int(getattr(info, "records", self.records))
            total = getattr(info, "total_estimate", None)
            if total is not None:
                self.total = int(total)
            more_expected = total is not None and min(int(total), self.limit or int(total)) > self.records
            if self.limit is not None:
                self.total = min(self.total, self.limit) if self.total is not None else self.limit
            if self.mode == "none":
                return
            # The limit alone says nothing about more pages: a short first page under --limit is the
            # whole answer (no "0% 0/2 records" for an empty result).
            multi_page = self.pages >= 2 or more_expected
            if not multi_page:
                return
            try:
                self._show()
            except Exception:  # a broken display must never break the pull
                self.mode = "none"

    def summary(self) -> str:
        """Plain text of the bar: progress while running, ``Tickets: 2,000 records in 4 pages, 0.3 s`` when done."""
        if self._elapsed is None:
            return self._text()
        return (
            f"{self.entity}: {_plural(self.records, 'record')} in {_plural(self.pages, 'page')}, {self._elapsed:.1f} s"
        )

    def _text(self) -> str:
        """``Tickets:  57% 11,500 of 20,000 records · 2,300 records/s · 4 s left · 23 pages`` (like tqdm)."""
        elapsed = self._clock() - self._started
        rate = self.records / elapsed if elapsed > 0 else None
        if self.total:
            pct = min(100, int(100 * self.records / self.total))
            text = f"{self.entity}: {pct:3d}% {self.records:,} of {_plural(self.total, 'record')}"
        else:
            text = f"{self.entity}: {_plural(self.records, 'record')}"
        if rate:
            text += f" · {rate:,.0f} records/s"
            if self.total and self.total > self.records:
                text += f" · {_left((self.total - self.records) / rate)} left"
        return text + f" · {_plural(self.pages, 'page')}"

    def _show(self) -> None:
        if not self._shown:
            self._shown = True
            if self.mode in ("auto", "widget") and self._display is not None:
                self._widget = self._make_widget()
                if self._widget is not None:
                    handle = self._display(self._widget)
                    self._handle = handle if callable(getattr(handle, "update", None)) else None
            if self._widget is None:
                self.mode = "text"
        if self._widget is not None:
            self._bar.max = max(self.total or self.records, self.records, 1)
            self._bar.value = self.records
            self._label.value = self._text()
        else:
            text = self._text()
            stream = self._stream or sys.stdout
            pad = max(0, self._text_width - len(text))
            stream.write("\r" + text + " " * pad)
            stream.flush()
            self._text_width = max(self._text_width, len(text))  # finish() erases the longest line

    def _make_widget(self) -> Any:
        if not self.widgets:  # a terminal cannot show widgets
            return None
        try:
            import ipywidgets
        except ImportError:
            return None
        self._bar = ipywidgets.IntProgress(value=0, min=0, max=max(self.total or 1, 1))
        self._bar.add_class("autotask-progress-bar")
        self._label = ipywidgets.HTML(value="")
        self._label.add_class("autotask-progress-label")
        return _progress_box_class(ipywidgets)([self._bar, self._label], progress=self)

    def finish(self) -> None:
        """Remove the bar (or erase the text line); the caller shows the compact summary."""
        with self._lock:
            if self._elapsed is None:
                self._elapsed = self._clock() - self._started
            if self._widget is not None:
                try:
                    # The count may differ from what arrived (records changed meanwhile): end full.
                    self._bar.max = max(self.records, 1)
                    self._bar.value = self.records
                    self._label.value = self.summary()
                    if self._handle is not None:
                        # A saved notebook keeps the bundle of the last display: make its text/plain
                        # (what GitHub, nbviewer and text views show) the summary, not the progress.
                        self._handle.update(self._widget)
                except Exception:
                    pass
                try:
                    self._widget.close()
                except Exception:
                    pass
                self._widget = None
            elif self._shown and self.mode == "text":
                stream = self._stream or sys.stdout
                stream.write("\r" + " " * self._text_width + "\r")
                stream.flush()
            self.mode = "none"

    @property
    def shown(self) -> bool:
        """True once a bar or text line was displayed (a multi-page pull)."""
        return self._shown


_PROGRESS_BOX: Any = None


def _progress_box_class(ipywidgets: Any) -> Any:
    """An ``HBox`` whose plain-text form is the progress line, made on first use (ipywidgets is optional).

    Without this, front ends that cannot render widgets (GitHub, nbviewer, ``jupyter nbconvert --to
    markdown``) would show ``HBox(children=(IntProgress(value=0, max=1), HTML(value='')))``.
    """
    global _PROGRESS_BOX
    if _PROGRESS_BOX is None:

        class ProgressBox(ipywidgets.HBox):
            """The progress bar and its label; ``repr`` and text/plain are the progress summary."""

            def __init__(self, children: Sequence[Any], *, progress: Progress) -> None:
                super().__init__(children)
                self._autotask_progress = progress

            def __repr__(self) -> str:
                return self._autotask_progress.summary()

            def _repr_pretty_(self, p: Any, cycle: bool) -> None:
                p.text(repr(self))

            def _repr_mimebundle_(self, **kwargs: Any) -> Any:
                bundle = super()._repr_mimebundle_(**kwargs)
                if isinstance(bundle, dict):
                    bundle["text/plain"] = self._autotask_progress.summary()
                return bundle

        _PROGRESS_BOX = ProgressBox
    return _PROGRESS_BOX
