"""Public names resolved on first use, so importing a package does not import httpx or pandas.

    __getattr__, __dir__ = lazy_names(__name__, {"AutotaskClient": "._client"}, globals(), __all__)

One mechanism for ``autotask_magic`` and ``autotask_magic.client`` (``%load_ext`` stays fast).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from importlib import import_module
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, table: Mapping[str, str], namespace: MutableMapping[str, Any], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` that imports ``table[name]`` (relative to ``package``) on first use and
    caches the value in ``namespace``, and the matching ``__dir__``."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__
