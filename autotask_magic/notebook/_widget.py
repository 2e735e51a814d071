"""The live token status panel shown by ``%autotask_login`` / ``%autotask_status``.

Two layers:

* ``_panel_view`` — pure: ``ManagerStatus`` + "now" -> :class:`PanelView` (texts and colours), and its
  text and HTML renderings. Tested with a controllable clock, no widgets involved.
* :class:`StatusPanel` — the ipywidgets wiring: one compact line that expands to the details and the
  buttons on a click; subscribes to the credential manager, ticks a daemon
  thread for the countdown, and sets trait values (never displays or prints) from background threads.
  Setting traits from a thread reaches the browser live even while a long cell blocks the kernel.

Only ``ManagerStatus`` fields (already masked/redacted by the manager) ever reach widget state, which is
saved into notebooks; the identity is masked once more here as defence in depth.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

import ipywidgets as widgets

from ._panel_view import (
    PanelView,
    _html,
    _state_name,
    compact_html,
    detail_rows,
    render_html,
    render_text,
    render_view,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..client._manager import ManagerStatus

__all__ = ["PanelView", "StatusPanel", "close_all", "render_html", "render_text", "render_view", "status_panel"]

logger = logging.getLogger("autotask_magic.widget")

#: Seconds between countdown ticks.
TICK_SECONDS = 1.0
#: Bursts of manager events (one per request during a parallel pull) are coalesced into one redraw
#: per this many seconds, so the kernel does not flood the browser with comm messages.
COALESCE_SECONDS = 0.2


class _Manager(Protocol):
    clock: Any

    def status(self) -> ManagerStatus: ...

    def subscribe(self, callback: Callable[[ManagerStatus], None]) -> Callable[[], None]: ...

    def refresh(self) -> None: ...

    def logout(self) -> None: ...


def _now(manager: _Manager) -> datetime:
    clock = getattr(manager, "clock", None)
    seconds = clock.time() if clock is not None else time.time()
    return datetime.fromtimestamp(seconds, UTC)


_DETAILS = (
    ("Mode", "mode"),
    ("Identity", "identity"),
    ("API host", "host"),
    ("Zone", "zone"),
    ("Expires", "expires"),
    ("Countdown", "countdown"),
    ("Refreshes", "refreshes"),
    ("Requests", "budget"),
    ("Last error", "error"),
    ("As of", "asof"),
)


def _row(key: str, css: str) -> tuple[widgets.HBox, widgets.HTML]:
    value = widgets.HTML(value="")
    value.add_class(f"autotask-status-{css}")
    label = widgets.HTML(value=f"<b>{_html(key)}</b>", layout=widgets.Layout(width="7.5em", min_width="7.5em"))
    return widgets.HBox([label, value], layout=widgets.Layout(align_items="baseline")), value


class StatusPanel(widgets.VBox):
    """The live status panel of one credential manager. Get it with :func:`status_panel`.

    One compact line; a click on "details" shows the rows that apply to the mode and the buttons.
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
        self._handle: Any = None  # where it was last displayed: a re-show replaces that output
        #: How many times the panel was redrawn (kernel-side checks in tests/notebooks).
        self.redraws = 0

        self._state = widgets.HTML(value="")
        self._state.add_class("autotask-status-state")
        self.toggle = widgets.ToggleButton(
            value=False, description="details", tooltip="Show or hide the details and buttons", icon="chevron-down"
        )
        self.toggle.layout = widgets.Layout(width="auto", height="1.8em")
        self.toggle.add_class("autotask-status-toggle")
        rows = {css: _row(key, css) for key, css in _DETAILS}
        self._rows = {css: box for css, (box, _) in rows.items()}
        (
            self._mode,
            self._identity,
            self._host,
            self._zone,
            self._expires,
            self._countdown,
            self._refreshes,
            self._budget,
            self._error,
            self._asof,
        ) = (value for _, value in rows.values())
        self.refresh_button = widgets.Button(description="Refresh now", icon="refresh", tooltip="Refresh the token now")
        self.refresh_button.add_class("autotask-status-refresh")
        self.logout_button = widgets.Button(
            description="Log out", icon="sign-out", tooltip="Forget token and credentials"
        )
        self.logout_button.add_class("autotask-status-logout")
        self.refresh_button.on_click(self._on_refresh_clicked)
        self.logout_button.on_click(self._on_logout_clicked)
        self._buttons = widgets.HBox([self.refresh_button, self.logout_button])
        self.details = widgets.VBox(
            [*self._rows.values(), self._buttons], layout=widgets.Layout(display="none", padding="4px 0 0 0")
        )
        self.details.add_class("autotask-status-details")
        self.toggle.observe(self._on_toggle, names="value")
        header = widgets.HBox([self._state, self.toggle], layout=widgets.Layout(align_items="center"))
        super().__init__(
            children=[header, self.details],
            layout=widgets.Layout(border="1px solid #d0d0d0", padding="0 8px", width="fit-content"),
        )
        self.add_class("autotask-status-panel")

        self.view = render_view(manager.status(), _now(manager), tz=tz)
        self._apply(self.view)
        self._unsubscribe: Callable[[], None] | None = manager.subscribe(self._listener(manager))
        if self.view.state_key != "LOGGED_OUT":
            self._start_ticker()

    @property
    def expanded(self) -> bool:
        """Whether the details and buttons are shown."""
        return bool(self.toggle.value)

    def _on_toggle(self, change: dict[str, Any]) -> None:
        self.details.layout.display = "" if change["new"] else "none"
        self.toggle.icon = "chevron-up" if change["new"] else "chevron-down"

    def show(self, display: Callable[..., Any] | None = None) -> None:
        """Display the panel here; an earlier display of it becomes a one-line snapshot.

        One panel per kernel: showing it again (``%autotask_status`` after ``%autotask_login``) would
        otherwise draw two identical live panels, and after Run All both would tell the same story.
        """
        if display is None:
            from IPython.display import display as ipython_display

            display = ipython_display
        previous, self._handle = self._handle, None
        if previous is not None:
            try:
                previous.update(_Moved(self._fresh_view()))
            except Exception:
                logger.exception("status panel: replacing the earlier display failed")
        self._handle = display(self, display_id=True)

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
        note = f' <span style="color:#757575">· {_html(self._action_note)}</span>' if self._action_note else ""
        self._state.value = compact_html(view) + note
        texts = {css: text for _, css, text in detail_rows(view)}
        for css, box in self._rows.items():
            shown = css in texts
            box.layout.display = "" if shown else "none"
            value = getattr(self, f"_{css}")
            text = texts.get(css, "")
            value.value = f"<code>{_html(text)}</code>" if css == "identity" else _html(text)
        self.refresh_button.layout.display = "" if view.oauth else "none"
        self.refresh_button.disabled = not view.can_refresh
        self.logout_button.disabled = not view.can_logout
        self.redraws += 1

    def _refresh_output(self) -> None:
        handle = self._handle
        if handle is not None:
            try:
                handle.update(self)
            except Exception:
                logger.exception("status panel: updating its output failed")

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
            if name == "LOGGED_OUT" and threading.current_thread() is threading.main_thread():
                # A logout from the kernel (a cell, or the button's comm message): redraw now and
                # rewrite the output's snapshot too, so a saved notebook says "as of …, logged out"
                # even where the widget state is not saved. Never from a thread (displays would stray).
                self.update(status)
                self._refresh_output()
                return
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


class _Moved:
    """What an earlier display of the panel becomes when it is shown again: one line, as of when."""

    def __init__(self, view: PanelView) -> None:
        self.text = f"Autotask status as of {view.as_of}: {view.compact} (the live panel is in a later cell)"

    def __repr__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": f'<div class="autotask-status-moved">{_html(self.text)}</div>'}


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
