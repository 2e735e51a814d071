"""Issue 14 point 4: a dry run validates and shows exactly what the real run sends, loading the entity's
metadata when this kernel has none (and saying so)."""

from __future__ import annotations

from typing import Any

from autotask_magic import QuerySyntaxError
from autotask_magic.sandbox import Sandbox
from tests._support.shell import Shown, run


def login(ip: Any, magic: Any, sb: Sandbox) -> None:
    magic._environ = sb.env("oauth")
    assert run(ip, "%autotask_login").success
    sb.reset_stats()


def test_first_dry_run_resolves_labels_like_the_real_run(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    assert magic.cached_fields("Tickets") is None
    assert run(ip, "%autotask query Tickets --dry-run where status = 'Complete'").success
    text = shown.text()
    assert '"value": 5' in text and '"Complete"' not in text
    assert "status 'Complete' = 5" in text  # issue 15 point 5: the dry run says what the label became
    assert "the field metadata of Tickets was loaded" in text
    assert not any("query" in k for k in sandbox.stats.requests_by_endpoint)  # the query itself not sent


def test_first_dry_run_refuses_a_misspelt_field(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    result = run(ip, "%autotask query Tickets --dry-run where priorty = 1")
    assert isinstance(result.error_in_exec, QuerySyntaxError)
    assert "did you mean 'priority'" in str(result.error_in_exec)
    result = run(ip, "%autotask query Tickets --dry-run --fields id,titel")
    assert isinstance(result.error_in_exec, QuerySyntaxError)


def test_dry_run_without_a_session_says_what_is_unchecked(ip: Any, magic: Any, shown: Shown) -> None:
    magic._environ = {}
    assert run(ip, "%autotask query Tickets --dry-run where status = 'Complete'").success
    assert "not checked: not logged in" in shown.text()
