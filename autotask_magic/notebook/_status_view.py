"""What ``%autotask_login`` and ``%autotask_status`` show: the status panel in a kernel, else one text line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _display
from ._login import not_logged_in_error

if TYPE_CHECKING:  # pragma: no cover
    from ._magics import AutotaskMagic

__all__ = ["show_status"]


def show_status(magic: AutotaskMagic, *, unchecked: bool = False) -> None:
    """Show the session's status through ``magic``'s display (the widget when it can, the text line otherwise)."""
    # unchecked: after --no-check the manager has no token yet and its state reads "logged out".
    note = "credentials not checked (--no-check); the first request gets a token"
    client = magic.client
    if client is None:
        magic._say(str(not_logged_in_error()))
        return
    factory = magic.seams.widget_factory
    if factory is None and magic._in_kernel():
        try:
            from . import _widget

            factory = _widget.status_panel
        except ImportError:  # no ipywidgets: the text line below
            factory = None
    if factory is not None:
        try:
            panel = factory(client.manager)
            show = getattr(panel, "show", None)
            if magic.seams.display is None and callable(show):
                show()  # one panel per notebook: an earlier display of it becomes a snapshot line
            else:
                magic.display(panel)
            if unchecked:
                magic._say(f"Autotask: {note}")
            return
        except Exception:  # a widget problem must not hide the status
            pass
    line = _display.status_line(client.manager.status())
    if unchecked and line.startswith("Autotask: logged out"):
        line = f"Autotask: {note}" + line[len("Autotask: logged out") :]
    magic._say(line)
