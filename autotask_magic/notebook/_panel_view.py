"""What the status panel shows, as plain texts: pure functions of a ``ManagerStatus`` and "now".

:func:`render_view` gives a :class:`PanelView`; :func:`render_text` (terminals) and :func:`render_html`
(the static snapshot exports show) draw it. The widget (``_widget``) draws the same view live. Tested
with a controllable clock, no widgets involved.

The compact line (``● valid · OAuth · sand…78ad · 127.0.0.1:5555 · expires in 59m 12s · 3/600 per min``)
holds only what applies to the mode; the details hold the rest. A panel that is no longer live (logged
out) says so and when: ``as of 14:10:59, logged out`` — its texts stay in a saved notebook.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from .._redact import mask

if TYPE_CHECKING:  # pragma: no cover
    from ..client._manager import ManagerStatus

__all__ = ["PanelView", "detail_rows", "render_html", "render_text", "render_view"]

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
    oauth: bool = False  # only OAuth has a token that expires and refreshes: API user rows are fewer
    zone_text: str = ""
    as_of: str = ""  # "14:10:59": when this view was drawn (local time)
    budget_short: str = ""  # "3/600 per min", "2,500/10,000 this hour (25%)"
    has_error: bool = False

    @property
    def live(self) -> bool:
        """False once logged out: the panel then stops following and says as of when."""
        return self.state_key != "LOGGED_OUT"

    @property
    def compact(self) -> str:
        """The one line: state, mode, identity, host, expiry (OAuth only), budget."""
        state = self.state_text if self.live else f"as of {self.as_of}, {self.state_text}"
        parts = [state, self.mode_text, self.identity]
        if self.live:
            parts.append(self.host_text)
            if self.oauth and self.countdown_text != "—":
                parts.append(
                    f"expires {self.countdown_text}" if self.countdown_text.startswith("in ") else self.countdown_text
                )
            parts.append(self.budget_short)
        return " · ".join(p for p in parts if p)


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
    expires_at = status.expires_at
    remaining = (expires_at - now).total_seconds() if expires_at is not None else None
    name = _state_at(status, remaining)
    state_text, color = _STATE_STYLE.get(name, _UNKNOWN_STYLE)
    logged_out = name == "LOGGED_OUT"
    oauth = status.mode == "oauth"

    mode_text = "OAuth" if oauth else "API user" if status.mode == "api_user" else str(status.mode)
    if status.label:
        mode_text += f" · {status.label}"

    host_text = status.api_host or "not discovered yet"
    # The sandbox's zone is named after its host ("Sandbox (127.0.0.1)"): shown on its own row, not nested.
    zone_text = str(status.zone or "")

    if logged_out:
        expires_text, countdown_text = "—", "—"
    else:
        expires_text, countdown_text = _expiry_texts(expires_at, remaining, oauth, tz)

    refresh_text = _refresh_text(status, now, tz, logged_out=logged_out)
    budget_text, budget_fraction = _budget(status, oauth)
    budget_short = _budget_short(budget_text)

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
        can_refresh=not logged_out and oauth,  # an API user has no token to refresh
        can_logout=not logged_out,
        oauth=oauth,
        zone_text=zone_text,
        as_of=_local(now, tz).strftime("%H:%M:%S"),
        budget_short=budget_short,
        has_error=bool(status.last_error),
    )


def _state_at(status: ManagerStatus, remaining: float | None) -> str:
    """The state's name at ``now``: a token past (or near) ``expires_at`` is EXPIRED (EXPIRING) here already."""
    name = _state_name(status.state)
    if name in ("VALID", "EXPIRING") and remaining is not None:
        if remaining <= 0:
            name = "EXPIRED"
        elif name == "VALID" and remaining <= status.refresh_margin:
            name = "EXPIRING"
    return name


def _refresh_text(status: ManagerStatus, now: datetime, tz: tzinfo | None, *, logged_out: bool) -> str:
    count = status.refresh_count
    refresh_text = f"{count} refresh" + ("" if count == 1 else "es")
    if status.last_refresh_at is not None:
        ago = (now - status.last_refresh_at).total_seconds()
        stamp = _local(status.last_refresh_at, tz).strftime("%H:%M:%S")
        # "(3s ago)" would freeze in a panel that no longer updates (logged out, or a saved notebook).
        refresh_text += f", last at {stamp}" + ("" if logged_out else f" ({_duration(max(ago, 0.0))} ago)")
    return refresh_text


def _budget_short(budget_text: str) -> str:
    return (
        budget_text.replace(" requests in the last minute", " per min")
        .replace(" requests this hour", " this hour")
        .replace(" / ", "/")
        .replace(" (hourly threshold unknown)", "")
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


def detail_rows(view: PanelView) -> list[tuple[str, str, str]]:
    """(label, css name, text) of the details that apply: no expiry or refreshes for an API user,
    no zone row without a zone, no error row without an error."""
    rows = [
        ("Mode", "mode", view.mode_text),
        ("Identity", "identity", view.identity),
        ("API host", "host", view.host_text),
    ]
    if view.zone_text:
        rows.append(("Zone", "zone", view.zone_text))
    if view.oauth and view.live:  # logged out there is no token: "—" rows would be filler
        rows.append(("Expires", "expires", view.expires_text))
        rows.append(("Countdown", "countdown", view.countdown_text))
    if view.oauth:
        rows.append(("Refreshes", "refreshes", view.refresh_text))
    rows.append(("Requests", "budget", view.budget_text))
    if view.has_error:
        rows.append(("Last error", "error", view.error_text))
    rows.append(("As of", "asof", view.as_of + ("" if view.live else " (no longer live)")))
    return rows


def render_text(view: PanelView) -> str:
    """The plain-text panel for terminal IPython and front ends without the widget manager."""
    lines = [f"Autotask: {view.compact}"]
    lines += [f"  {label.lower():<10}: {text}" for label, _, text in detail_rows(view)[2:]]
    return "\n".join(lines)


def render_html(view: PanelView) -> str:
    """A static HTML snapshot of the panel: what exports and viewers without widget JavaScript show.

    The compact line, and the details in a ``<details>`` element (expands on a click without any
    JavaScript). Built from the view's texts only (already masked and redacted), every one HTML-escaped.
    """
    # Rows are divs, not a <table>: a notebook's tables are its DataFrames (tests count them).
    rows = "".join(
        f'<div><b style="display:inline-block;width:7.5em">{label}</b>{_html(text)}</div>'
        for label, _, text in detail_rows(view)
    )
    return (
        f'<div class="autotask-status-snapshot" data-state="{_html(view.state_key)}" '
        'style="border:1px solid #d0d0d0;padding:2px 8px;display:inline-block">'
        f"<details><summary>{compact_html(view)}</summary>{rows}</details></div>"
    )


def compact_html(view: PanelView) -> str:
    """The compact line as HTML: a coloured dot, **Autotask**, the state in its colour, the rest grey."""
    dot = (
        '<span style="display:inline-block;width:0.7em;height:0.7em;border-radius:50%;'
        f'background:{view.color};margin-right:0.35em;vertical-align:baseline"></span>'
    )
    state = view.state_text if view.live else f"as of {view.as_of}, {view.state_text}"
    rest = view.compact[len(state) :]
    return (
        f'{dot}<b>Autotask</b> <span class="autotask-status-state-text" data-state="{_html(view.state_key)}" '
        f'style="color:{view.color}">{_html(state)}</span><span style="color:#555">{_html(rest)}</span>'
    )


def _html(text: str) -> str:
    return html.escape(text, quote=True)
