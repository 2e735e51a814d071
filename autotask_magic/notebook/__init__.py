"""The notebook layer: magics, login, display and the status widget.

The only code that imports IPython and ipywidgets. It parses what the user typed, calls the client
and shows the result; everything it knows about Autotask comes from ``client``, ``query`` and
``entities``.

``_magics`` (the Magics class, options, load/unload) -> ``_commands`` (line/cell -> command objects)
-> ``_runner`` (runs them) and ``_session`` (login, clients, sandbox) -> ``_output`` / ``_display``
/ ``_widget`` (what is shown). ``_login``: credentials and secret refusal; ``_complete``: tab completion.
"""

from ._magics import AutotaskMagic, load_ipython_extension, unload_ipython_extension

__all__ = ["AutotaskMagic", "load_ipython_extension", "unload_ipython_extension"]
