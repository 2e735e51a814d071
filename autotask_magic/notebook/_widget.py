"""The live token status panel shown by ``%autotask_login`` / ``%autotask_status``.

Two layers:

* :func:`render_view` — pure: ``ManagerStatus`` + "now" -> :class:`PanelView` (texts and colours).
  Tested with a controllable clock, no widgets involved.
* :class:`StatusPanel` — the ipywidgets wiring: subscribes to the credential manager, ticks a daemon
  thread for the countdown, and sets trait values (never displays or prints) from background threads.
  Setting traits from a thread reaches the browser live even while a long cell blocks the kernel.

Only ``ManagerStatus`` fields (already masked/redacted by the manager) ever reach widget state, which is
saved into notebooks; the identity is masked once more here as defence in depth.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

import ipywidgets as widgets

from .._redact import mask

if TYPE_CHECKING:  # pragma: no cover
    from ..client._manager import ManagerStatus

__all__ = ["PanelView", "StatusPanel", "close_all", "render_html", "render_text", "render_view", "status_panel"]

logger = logging.getLogger("autotask_magic.widget")

#: Seconds between countdown ticks.
TICK_SECONDS = 1.0
#: Bursts of manager events (one per request during a parallel pull) are coalesced into one redraw
#: per this many seconds, so the kernel does not flood the browser with comm messages.
COALESCE_SECONDS = 0.2

# Keyed by TokenState *name* so the view does not need to import the manager module.
_STATE_STYLE: dict[str, tuple[str, str]] = {
    "VALID": ("valid", "#2e7d32"),
    "EXPIRING": ("expiring soon", "#f9a825"),
    "REFRESHING": ("refreshing", "#1565c0"),
    "EXPIRED": ("expired", "#c62828"),
    "LOGGED_OUT": ("logged out", "#757575"),
    "ERROR": ("error", "#b71c1c"),
}
_UNKNOWN_STYLE = ("unknown", "#757575")
_MAX_ERROR_CHARS = 200


class _Manager(Protocol):
    clock: Any

    def status(self) -> ManagerStatus: ...

    def subscribe(self, callback: Callable[[ManagerStatus], None]) -> Callable[[], None]: ...

    def refresh(self) -> None: ...

    def logout(self) -> None: ...


@dataclass(frozen=True)
class PanelView:
    """Everything the panel shows, as plain texts and colours (the output of :func:`render_view`)."""

    state_key: str  # TokenState name as shown, e.g. "VALID"; may differ from the manager's (expiry noticed)
    state_text: str
    color: str
    mode_text: str
    identity: str
    host_text: str
    expires_text: str
    countdown_text: str
    refresh_text: str
    budget_text: str
    budget_fraction: float | None  # 0..1 for the bar, None when unknown
    error_text: str
    can_refresh: bool
    can_logout: bool


def _state_name(state: Any) -> str:
    return str(getattr(state, "name", state)).upper()


def _one_line(text: str, limit: int = _MAX_ERROR_CHARS) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _duration(seconds: float) -> str:
    seconds = round(abs(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _local(moment: datetime, tz: tzinfo | None) -> datetime:
    if moment.tzinfo is None:  # the contract says aware UTC; be lenient
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz)


def render_view(status: ManagerStatus, now: datetime, *, tz: tzinfo | None = None) -> PanelView:
    """Turn a manager status into the panel's texts at ``now`` (aware); ``tz`` None means local time.

    Pure: the same inputs always give the same view. Expiry is noticed here too: a token the manager
    still calls valid is shown as expired once ``now`` passes ``expires_at`` (no event is needed for that).
    """
    name = _state_name(status.state)
    expires_at = status.expires_at
    remaining = (expires_at - now).total_seconds() if expires_at is not None else None
    if name in ("VALID", "EXPIRING") and remaining is not None:
        if remaining <= 0:
            name = "EXPIRED"
        elif name == "VALID" and remaining <= status.refresh_margin:
            name = "EXPIRING"
    state_text, color = _STATE_STYLE.get(name, _UNKNOWN_STYLE)
    logged_out = name == "LOGGED_OUT"
    oauth = status.mode == "oauth"

    mode_text = "OAuth" if oauth else "API user" if status.mode == "api_user" else str(status.mode)
    if status.label:
        mode_text += f" · {status.label}"

    host = status.api_host or "not discovered yet"
    host_text = f"{host} (zone {status.zone})" if status.zone else host

    if logged_out:
        expires_text, countdown_text = "—", "—"
    else:
        expires_text, countdown_text = _expiry_texts(expires_at, remaining, oauth, tz)

    count = status.refresh_count
    refresh_text = f"{count} refresh" + ("" if count == 1 else "es")
    if status.last_refresh_at is not None:
        ago = (now - status.last_refresh_at).total_seconds()
        stamp = _local(status.last_refresh_at, tz).strftime("%H:%M:%S")
        refresh_text += f", last at {stamp} ({_duration(max(ago, 0.0))} ago)"

    budget_text, budget_fraction = _budget(status, oauth)

    return PanelView(
        state_key=name,
        state_text=state_text,
        color=color,
        mode_text=mode_text,
        identity=status.identity if "…" in status.identity else mask(status.identity),  # masked already
        host_text=host_text,
        expires_text=expires_text,
        countdown_text=countdown_text,
        refresh_text=refresh_text,
        budget_text=budget_text,
        budget_fraction=budget_fraction,
        error_text=_one_line(status.last_error) if status.last_error else "none",
        can_refresh=not logged_out,
        can_logout=not logged_out,
    )


def _expiry_texts(
    expires_at: datetime | None, remaining: float | None, oauth: bool, tz: tzinfo | None
) -> tuple[str, str]:
    """(expiry time, countdown) for a session that is logged in."""
    if expires_at is None or remaining is None:
        return ("no token expiry" if not oauth else "no token yet"), "—"
    expires_text = _local(expires_at, tz).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    countdown_text = f"in {_duration(remaining)}" if remaining > 0 else f"expired {_duration(remaining)} ago"
    return expires_text, countdown_text


def _budget(status: ManagerStatus, oauth: bool) -> tuple[str, float | None]:
    """The request budget line and how full it is (0..1, None when unknown)."""
    fraction: float | None
    if oauth or status.hourly_threshold is None:
        limit = status.requests_per_minute_limit
        text = f"{status.requests_last_minute} / {limit} requests in the last minute"
        fraction = status.requests_last_minute / limit if limit else None
        if not oauth:
            text += " (hourly threshold unknown)"
    else:
        used = status.hourly_requests
        threshold = status.hourly_threshold
        if used is None:
            text, fraction = f"? / {threshold:,} requests this hour", None
        else:
            fraction = used / threshold if threshold else None
            pct = f" ({fraction:.0%})" if fraction is not None else ""
            text = f"{used:,} / {threshold:,} requests this hour{pct}"
    if fraction is not None:
        fraction = min(max(fraction, 0.0), 1.0)
    return text, fraction


def render_text(view: PanelView) -> str:
    """The plain-text panel for terminal IPython and front ends without the widget manager."""
    return "\n".join(
        [
            f"Autotask: {view.state_text}  [{view.mode_text}]",
            f"  identity : {view.identity}",
            f"  API host : {view.host_text}",
            f"  expires  : {view.expires_text} ({view.countdown_text})",
            f"  refreshes: {view.refresh_text}",
            f"  budget   : {view.budget_text}",
            f"  error    : {view.error_text}",
        ]
    )


_ROWS = (
    ("Mode", "mode_text"),
    ("Identity", "identity"),
    ("API host", "host_text"),
    ("Expires", "expires_text"),
    ("Countdown", "countdown_text"),
    ("Refreshes", "refresh_text"),
    ("Requests", "budget_text"),
    ("Last error", "error_text"),
)


def render_html(view: PanelView) -> str:
    """A static HTML snapshot of the panel: what exports and viewers without widget JavaScript show.

    Built from the view's texts only (already masked and redacted), every one HTML-escaped.
    """
    # Rows are divs, not a <table>: a notebook's tables are its DataFrames (tests count them).
    rows = "".join(
        f'<div><b style="display:inline-block;width:7.5em">{key}</b>{_html(getattr(view, attr))}</div>'
        for key, attr in _ROWS
    )
    width = f"{(view.budget_fraction or 0.0) * 100:.0f}%"
    return (
        f'<div class="autotask-status-snapshot" data-state="{_html(view.state_key)}" '
        'style="border:1px solid #d0d0d0;padding:6px 10px;display:inline-block">'
        f'<div><span style="color:{view.color}">&#9679;</span> <b>Autotask</b> '
        f'<span style="color:{view.color}">{_html(view.state_text)}</span> '
        '<span style="color:#757575">(snapshot; live in JupyterLab)</span></div>'
        + rows
        + '<div style="width:16em;height:0.6em;background:#eee">'
        f'<div style="width:{width};height:100%;background:{view.color}"></div></div></div>'
    )


def _now(manager: _Manager) -> datetime:
    clock = getattr(manager, "clock", None)
    seconds = clock.time() if clock is not None else time.time()
    return datetime.fromtimestamp(seconds, UTC)


def _html(text: str) -> str:
    return html.escape(text, quote=True)


def _row(key: str, css: str) -> tuple[widgets.HBox, widgets.HTML]:
    value = widgets.HTML(value="")
    value.add_class(f"autotask-status-{css}")
    label = widgets.HTML(value=f"<b>{_html(key)}</b>", layout=widgets.Layout(width="7.5em", min_width="7.5em"))
    return widgets.HBox([label, value], layout=widgets.Layout(align_items="baseline")), value


class StatusPanel(widgets.VBox):
    """The live status panel of one credential manager. Get it with :func:`status_panel`.

    Updates itself from manager events and a 1 s ticker thread; both only set trait values.
    ``view`` holds the latest :class:`PanelView` for kernel-side checks.
    """

    def __init__(self, manager: _Manager, *, tick_seconds: float = TICK_SECONDS, tz: tzinfo | None = None) -> None:
        self.manager = manager
        self._tz = tz
        self._tick_seconds = tick_seconds
        self._lock = threading.RLock()  # serialises redraws coming from several threads
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._action_note = ""
        #: How many times the panel was redrawn (kernel-side checks in tests/notebooks).
        self.redraws = 0

        self._state = widgets.HTML(value="")
        self._state.add_class("autotask-status-state")
        rows = [
            _row("Mode", "mode"),
            _row("Identity", "identity"),
            _row("API host", "host"),
            _row("Expires", "expires"),
            _row("Countdown", "countdown"),
            _row("Refreshes", "refreshes"),
            _row("Requests", "budget"),
            _row("Last error", "error"),
        ]
        (
            self._mode,
            self._identity,
            self._host,
            self._expires,
            self._countdown,
            self._refreshes,
            self._budget,
            self._error,
        ) = (value for _, value in rows)
        self._bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="16em"))
        self._bar.add_class("autotask-status-bar")
        self.refresh_button = widgets.Button(description="Refresh now", icon="refresh", tooltip="Refresh the token now")
        self.refresh_button.add_class("autotask-status-refresh")
        self.logout_button = widgets.Button(
            description="Log out", icon="sign-out", tooltip="Forget token and credentials"
        )
        self.logout_button.add_class("autotask-status-logout")
        self.refresh_button.on_click(self._on_refresh_clicked)
        self.logout_button.on_click(self._on_logout_clicked)
        super().__init__(
            children=[
                self._state,
                *(box for box, _ in rows),
                self._bar,
                widgets.HBox([self.refresh_button, self.logout_button]),
            ],
            layout=widgets.Layout(border="1px solid #d0d0d0", padding="6px 10px", width="fit-content"),
        )
        self.add_class("autotask-status-panel")

        self.view = render_view(manager.status(), _now(manager), tz=tz)
        self._apply(self.view)
        self._unsubscribe: Callable[[], None] | None = manager.subscribe(self._listener(manager))
        if self.view.state_key != "LOGGED_OUT":
            self._start_ticker()

    # -- public -----------------------------------------------------------------------------------

    @property
    def ticking(self) -> bool:
        """Whether the countdown thread is running."""
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the panel no longer follows the manager)."""
        return self._closed

    def update(self, status: ManagerStatus | None = None) -> PanelView:
        """Redraw now from ``status`` (default: ask the manager). Safe from any thread."""
        if status is None:
            # Outside our lock: the manager may hold its own lock while it calls _on_status.
            status = self.manager.status()
        with self._lock:
            view = render_view(status, _now(self.manager), tz=self._tz)
            self.view = view
            if not self._closed:
                self._apply(view)
            if view.state_key == "LOGGED_OUT":
                self._stop_ticker()
            return view

    def follow(self, manager: _Manager) -> None:
        """Show ``manager`` from now on (a re-login): unsubscribe from the old one, subscribe to it."""
        with self._lock:
            if self._closed or manager is self.manager:
                return
            old_unsubscribe, self._unsubscribe = self._unsubscribe, None
            self.manager = manager
            self._action_note = ""
        # Subscribe/unsubscribe outside our lock: a manager may hold its own lock while it notifies us.
        if old_unsubscribe is not None:
            try:
                old_unsubscribe()
            except Exception:
                logger.exception("status panel: unsubscribing from the previous manager failed")
        unsubscribe = manager.subscribe(self._listener(manager))
        with self._lock:
            if self._closed or self.manager is not manager:  # closed or switched again meanwhile
                stale: Callable[[], None] | None = unsubscribe
            else:
                stale, self._unsubscribe = self._unsubscribe, unsubscribe
            self._pending = None
        if stale is not None:
            stale()
        view = self.update()
        if view.state_key != "LOGGED_OUT":
            self._start_ticker()

    def text(self) -> str:
        """The current plain-text rendering (asks the manager for a fresh status)."""
        return render_text(self._fresh_view())

    def _fresh_view(self) -> PanelView:
        try:
            return render_view(self.manager.status(), _now(self.manager), tz=self._tz)
        except Exception:  # a repr must never raise
            logger.exception("status panel: reading the manager status failed")
            return self.view

    def close(self) -> None:
        """Stop the ticker, unsubscribe from the manager and close every widget of the panel."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop_ticker()
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            try:
                unsubscribe()
            except Exception:
                logger.exception("status panel: unsubscribing failed")
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2 * self._tick_seconds + 1)
        for child in self._descendants():
            child.close()
        super().close()
        _forget(self)

    # -- display ----------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text("StatusPanel(...)" if cycle else self.text())

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # Front ends with the widget manager show the live view; everything else (nbconvert HTML offline,
        # GitHub, a terminal) falls back to a snapshot. ipywidgets truncates text/plain to 110 characters.
        bundle = super()._repr_mimebundle_(**kwargs)
        view = self._fresh_view()
        bundle["text/plain"] = render_text(view)
        bundle["text/html"] = render_html(view)
        return bundle

    # -- internals --------------------------------------------------------------------------------

    def _descendants(self) -> list[widgets.Widget]:
        found: list[widgets.Widget] = []
        stack: list[widgets.Widget] = list(self.children)
        while stack:
            item = stack.pop()
            found.append(item)
            found.append(item.layout)
            style = getattr(item, "style", None)
            if isinstance(style, widgets.Widget):
                found.append(style)
            stack.extend(getattr(item, "children", ()))
        found.append(self.layout)
        return found

    def _apply(self, view: PanelView) -> None:
        # Traitlets only notify on change, so an unchanged text sends nothing to the browser.
        dot = (
            f'<span style="display:inline-block;width:0.8em;height:0.8em;border-radius:50%;'
            f'background:{view.color};margin-right:0.4em;vertical-align:middle"></span>'
        )
        note = f' <span style="color:#757575">· {_html(self._action_note)}</span>' if self._action_note else ""
        self._state.value = (
            f'{dot}<b>Autotask</b> <span class="autotask-status-state-text" '
            f'data-state="{_html(view.state_key)}" style="color:{view.color}">'
            f"{_html(view.state_text)}</span>{note}"
        )
        self._mode.value = _html(view.mode_text)
        self._identity.value = f"<code>{_html(view.identity)}</code>"
        self._host.value = _html(view.host_text)
        self._expires.value = _html(view.expires_text)
        self._countdown.value = _html(view.countdown_text)
        self._refreshes.value = _html(view.refresh_text)
        self._budget.value = _html(view.budget_text)
        self._bar.value = view.budget_fraction or 0.0
        self._bar.bar_style = (
            "danger"
            if (view.budget_fraction or 0) >= 0.9
            else "warning"
            if (view.budget_fraction or 0) >= 0.7
            else "success"
        )
        self._error.value = _html(view.error_text)
        self.refresh_button.disabled = not view.can_refresh
        self.logout_button.disabled = not view.can_logout
        self.redraws += 1

    def _listener(self, manager: _Manager) -> Callable[[ManagerStatus], None]:
        # Events from a manager the panel no longer follows (in flight during follow()) are dropped.
        def on_status(status: ManagerStatus) -> None:
            if self.manager is manager:
                self._on_status(status)

        return on_status

    def _on_status(self, status: ManagerStatus) -> None:
        # Manager callback: any thread, must be quick and never raise.
        try:
            if self._closed:
                return
            name = _state_name(status.state)
            if self.ticking:
                # Let the ticker thread redraw: coalesces bursts and keeps the caller's thread fast.
                self._pending = status
                self._wake.set()
                return
            self.update(status)
            if name != "LOGGED_OUT":
                self._start_ticker()  # logged in again on the same manager
        except Exception:
            logger.exception("status panel: redraw after a manager event failed")

    _pending: ManagerStatus | None = None

    def _start_ticker(self) -> None:
        with self._lock:
            if self._closed or self.ticking:
                return
            self._stop = threading.Event()
            self._wake = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop, self._wake), name="autotask-status-panel", daemon=True
            )
            self._thread.start()

    def _stop_ticker(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self, stop: threading.Event, wake: threading.Event) -> None:
        # Runs until logout/close; each pass waits at most one tick, so it ends within a tick of stop.
        while not stop.is_set():
            woke = wake.wait(self._tick_seconds)
            if stop.is_set():
                break
            wake.clear()
            pending, self._pending = self._pending, None
            try:
                # A tick asks the manager (request counts decay, expiry is noticed); an event uses its status.
                self.update(pending if woke and pending is not None else None)
            except Exception:
                logger.exception("status panel: tick failed")
            if woke:
                stop.wait(COALESCE_SECONDS)

    def _on_refresh_clicked(self, _button: widgets.Button) -> None:
        self._run_action("refresh", self.manager.refresh)

    def _on_logout_clicked(self, _button: widgets.Button) -> None:
        self._run_action("logout", self.manager.logout)

    def _run_action(self, what: str, action: Callable[[], None]) -> None:
        # Runs on the kernel's shell thread (a comm message). Only the exception *type* is shown: the
        # manager puts its redacted one-line message into ManagerStatus.last_error.
        self._action_note = ""
        try:
            action()
        except Exception as exc:
            logger.warning("status panel: %s failed: %s", what, type(exc).__name__)
            self._action_note = f"{what} failed ({type(exc).__name__})"
        try:
            self.update()
        except Exception:
            logger.exception("status panel: redraw after %s failed", what)


# One panel per kernel: a re-login points it at the new manager instead of leaving the old one alive.
_panel: StatusPanel | None = None
_panels_lock = threading.Lock()


def status_panel(manager: _Manager) -> StatusPanel:
    """The kernel's one live status panel, following ``manager`` (created on first call)."""
    global _panel
    with _panels_lock:
        panel = _panel
        if panel is None or panel.closed:
            panel = _panel = StatusPanel(manager)
            return panel
    panel.follow(manager)  # outside the lock: it subscribes, which may call back into the panel
    return panel


def _forget(panel: StatusPanel) -> None:
    global _panel
    with _panels_lock:
        if _panel is panel:
            _panel = None


def close_all() -> None:
    """Close the status panel and stop its timers (called by ``%unload_ext autotask_magic``)."""
    with _panels_lock:
        panel = _panel
    if panel is not None:
        panel.close()
