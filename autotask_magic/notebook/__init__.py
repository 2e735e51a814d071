"""The notebook layer: magics, login, display and the status widget.

The only code that imports IPython and ipywidgets. It parses what the user typed, calls the client
and shows the result; everything it knows about Autotask comes from ``client``, ``query`` and
``entities``.
"""

from ._magics import AutotaskMagic, load_ipython_extension, unload_ipython_extension

__all__ = ["AutotaskMagic", "load_ipython_extension", "unload_ipython_extension"]
