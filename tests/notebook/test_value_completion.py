"""Picklist value completion: ``status = <TAB>`` offers the labels, quoted; ``in (`` lists too; ids after a digit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.notebook._complete_values import value_completions
from tests._support.shell import run

STATUS = {1: "New", 5: "Complete", 8: "In Progress", 12: "Waiting Customer"}


def _ctx(text: str, cell: str | None = None) -> Any:
    full = text if cell is None else cell + "\n" + text
    return SimpleNamespace(full_text=full, text_until_cursor=text, cursor_line=0 if cell is None else 1, token="")


def _picklist(entity: str, field: str) -> dict[Any, str]:
    return STATUS if (entity, field) == ("Tickets", "status") else {}


@pytest.mark.parametrize(
    ("text", "cell", "expected"),
    [
        (
            "%autotask query Tickets where status = ",
            None,
            (["'New'", "'Complete'", "'In Progress'", "'Waiting Customer'"], ""),
        ),
        ("%autotask query Tickets where status != 'in p", None, (["'In Progress'"], "'in p")),
        ('%autotask query Tickets where status = "C', None, (['"Complete"'], '"C')),
        ("%autotask query Tickets where priority = 1 and status in ('New', 'W", None, (["'Waiting Customer'"], "'W")),
        (
            "status not in (1, ",
            "%%autotask query Tickets",
            (["'New'", "'Complete'", "'In Progress'", "'Waiting Customer'"], ""),
        ),
        ("status = 1", "%%autotask query Tickets", (["1", "12"], "1")),
    ],
)
def test_labels_and_ids_offered(text: str, cell: str | None, expected: Any) -> None:
    assert value_completions(_ctx(text, cell), _picklist) == expected


@pytest.mark.parametrize(
    "text",
    [
        "%autotask query Tickets where title = ",
        "%autotask query Companies where status = ",
        "%autotask query Tickets --fields status",
    ],
)
def test_nothing_offered_elsewhere(text: str) -> None:
    assert value_completions(_ctx(text), _picklist) is None


def test_the_shell_completes_labels_once_metadata_is_known(ip: InteractiveShell, magic: Any) -> None:
    assert run(ip, "%autotask_login --sandbox --tickets 10").success
    assert run(ip, "%autotask query Tickets --limit 1").success  # loads the metadata
    line = "%autotask query Tickets where status = 'Compl"
    _, matches = ip.complete("", line, len(line))
    assert "'Complete'" in matches
