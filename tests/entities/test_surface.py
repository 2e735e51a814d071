"""The packaged API surface is the shared fact file, read faithfully."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autotask_magic.entities import api_surface, field_kind

SHARED = Path(__file__).resolve().parents[3] / "shared" / "autotask-api-surface.json"
PACKAGED = Path(__file__).resolve().parents[2] / "autotask_magic" / "entities" / "api_surface.json"


def test_counts_match_the_published_definition() -> None:
    s = api_surface()
    assert (len(s), s.field_count, s.child_path_count) == (167, 2260, 85)


@pytest.mark.skipif(not SHARED.exists(), reason="shared/ is beside the checkout only on the project's machines")
def test_packaged_copy_equals_the_shared_fact_file() -> None:
    assert json.loads(PACKAGED.read_text()) == json.loads(SHARED.read_text())


def test_write_paths_follow_the_parent() -> None:
    s = api_surface()
    assert s.create_paths("Tasks") == ["Projects/{id}/Tasks"]
    assert s.create_paths("TicketNotes") == ["Tickets/{id}/Notes"]
    assert "Tickets" in s.create_paths("Tickets")
    assert not s["Tasks"].allows("create")
    assert s.lookup("tIcKeTs") is s["Tickets"]
    assert s.lookup("NoSuchThing") is None


def test_every_swagger_type_has_a_kind() -> None:
    types = {t for e in api_surface().values() for t in e.fields.values()}
    kinds = {t: field_kind(t) for t in types}
    assert kinds["integer/int64"] == "integer"
    assert kinds["number/double"] == "float"
    assert kinds["string/date-time"] == "datetime"
    assert kinds["string/byte"] == "bytes"
    assert kinds["array"] == "object"
    assert set(kinds.values()) <= {"integer", "float", "boolean", "string", "datetime", "bytes", "object"}
