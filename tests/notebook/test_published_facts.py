"""Issue 13 in the notebook: the published surface (write paths, completion, ``fields``, dtypes) and the
quickstart's commands, against the sandbox."""

from __future__ import annotations

from typing import Any

from autotask_magic import ConfigurationError, NotFoundError
from autotask_magic.sandbox import Sandbox
from tests._support.shell import run


def login(ip: Any, magic: Any, sb: Sandbox, mode: str = "oauth") -> None:
    magic._environ = sb.env(mode)
    assert run(ip, "%autotask_login").success
    sb.reset_stats()


def _complete(ip: Any, text: str) -> list[str]:
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, len(text))]


# -- point 1: writes on paths the API does not have -------------------------------------------------------


def test_a_write_on_a_path_the_api_lacks_is_one_line_naming_the_right_path(
    ip: Any, magic: Any, sandbox: Sandbox, capsys: Any
) -> None:
    login(ip, magic, sandbox)
    for cell in ('%%autotask POST /Tasks\n{"title": "x"}', '%%autotask POST /Tasks --dry-run\n{"title": "x"}'):
        result = run(ip, cell)
        assert isinstance(result.error_in_exec, ConfigurationError)
        out = capsys.readouterr().out.strip()
        assert len(out.splitlines()) == 1
        assert "the API has no POST /Tasks — create Tasks with POST /Projects/{id}/Tasks; nothing was sent" in out
    assert sandbox.stats.api_requests == 0


def test_a_missing_id_is_one_line_not_found_in_the_magic(ip: Any, magic: Any, sandbox: Sandbox, capsys: Any) -> None:
    login(ip, magic, sandbox, "api_user")
    result = run(ip, "%autotask GET /Companies/999999")
    assert isinstance(result.error_in_exec, NotFoundError)
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "not found (no record with that id) (GET /Companies/999999)" in out


# -- point 2: completion and "did you mean" know the whole surface ------------------------------------------


def test_completion_knows_every_published_entity_and_its_child_paths(ip: Any, magic: Any) -> None:
    from autotask_magic.entities import api_surface, entity_names

    assert len(entity_names()) == len(api_surface()) == 167
    for stale in ("ContractRoles", "DomainRegistrars", "ProductCategories", "Version"):  # never published
        assert stale not in entity_names()
    assert "ConfigurationItemCategoryUdfAssociations" in _complete(ip, "%autotask query ConfigurationItemCat")
    assert "/ServiceLevelAgreements" in _complete(ip, "%autotask GET /ServiceLevelAg")
    assert set(_complete(ip, "%autotask GET /Companies/174/")) >= {"/Companies/174/Contacts", "/Companies/174/Notes"}
    assert _complete(ip, "%autotask POST /Projects/5/Ta") == ["/Projects/5/Tasks"]
    assert "/Tickets/9/Notes" in _complete(ip, "%autotask GET /Tickets/9/N")


def test_did_you_mean_knows_every_published_entity(ip: Any, magic: Any) -> None:
    from autotask_magic.entities import suggest_entity

    assert suggest_entity("ContractExclusionRole") == "ContractExclusionRoles"
    assert suggest_entity("configurationitems") == "ConfigurationItems"
    result = run(ip, "%autotask InvoicePDFs")
    assert "did you mean %autotask query InvoicePDF?" in str(result.error_in_exec)


# -- point 3: %autotask fields shows type, required, read-only, reference and picklist ---------------------


def test_fields_is_indexed_by_name_with_marks_references_and_picklists(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    df = run(ip, "%autotask fields Tickets").result
    assert df.index.name == "field" and df.index[0] == "id" and df.index.is_unique
    assert df.columns.tolist() == ["type", "dtype", "marks", "reference", "picklist"]
    assert all(str(t) == "str" for t in df.dtypes)  # no True/False columns: compact marks instead
    assert df.loc["id", "marks"] == "req ro" and df.loc["id", "dtype"] == "int64"
    assert df.loc["title", "marks"] == "req" and df.loc["title", "dtype"] == "str"
    assert df.loc["status", "marks"] == "req pick" and df.loc["status", "picklist"].startswith("1 New, 5 Complete")
    assert df.loc["companyID", "marks"] == "req ref" and df.loc["companyID", "reference"] == "Company"
    assert df.loc["createDate", "dtype"] == "datetime64[s, UTC]"
    assert (
        df.loc["udf.Root Cause", "marks"] == "pick udf" and "Hardware Failure" in df.loc["udf.Root Cause", "picklist"]
    )
    assert df.loc["udf.Customer Satisfaction", "dtype"] == "Int64"  # the UDF's `type`, as tenants send it


def test_fields_dtype_column_follows_the_time_zone_and_date_only_fields(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    df = run(ip, "%autotask fields TimeEntries").result
    assert df.loc["dateWorked", "type"] == "datetime (date only)"
    magic.timezone = "Europe/Berlin"
    magic.session.fields_cache.clear()
    df = run(ip, "%autotask fields TimeEntries").result
    assert df.loc["startDateTime", "dtype"] == "datetime64[s, Europe/Berlin]"


# -- point 6: a wrong integration code at login ------------------------------------------------------------


def test_login_with_a_wrong_integration_code_says_so_in_one_line(
    ip: Any, magic: Any, sandbox: Sandbox, capsys: Any
) -> None:
    from autotask_magic import AuthenticationError

    env = sandbox.env("api_user")
    env["AUTOTASK_INTEGRATION_CODE"] = "WRONGCODE" + "0" * 17
    magic._environ = env
    result = run(ip, "%autotask_login")
    assert isinstance(result.error_in_exec, AuthenticationError)
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "the API rejected the integration code" in out
    assert env["AUTOTASK_INTEGRATION_CODE"] not in out and sandbox.secret not in out


# -- point 7: the quickstart's commands in the sandbox -----------------------------------------------------


def test_quickstart_commands_work_in_the_sandbox(ip: Any, magic: Any) -> None:
    assert run(ip, "%autotask_login --sandbox --tickets 50").success
    try:
        cis = run(ip, "%autotask query ConfigurationItems")
        assert cis.success, cis.error_in_exec
        assert len(cis.result) > 0 and str(cis.result["id"].dtype) == "int64"
        assert str(cis.result["companyID"].dtype) == "Int64"
        contacts = run(ip, "%autotask fields Contacts")
        assert contacts.success, contacts.error_in_exec
        assert {"id", "companyID", "firstName", "isActive"} <= set(contacts.result.index)
        assert contacts.result.loc["companyID", "reference"] == "Company"
        owner = run(ip, "%autotask GET /Companies/0/Contacts")
        assert owner.success, owner.error_in_exec
        df = owner.result
        assert len(df) > 0 and (df["companyID"] == 0).all() and df.attrs["autotask"]["entity"] == "Contacts"
    finally:
        run(ip, "%autotask_logout")


def test_a_child_path_frame_is_typed_as_the_child_entity(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    ticket = sandbox.store["Tickets"].ids[0]
    assert run(
        ip,
        f'%%autotask POST /Tickets/{ticket}/Notes\n{{"title": "t", "description": "d", "noteType": 1, "publish": 1}}',
    ).success
    result = run(ip, f"%autotask GET /Tickets/{ticket}/Notes")
    assert result.success, result.error_in_exec
    df = result.result
    assert df.attrs["autotask"]["entity"] == "TicketNotes"  # the segment "Notes" is the TicketNotes entity
    assert str(df["ticketID"].dtype) == "Int64" and (df["ticketID"] == ticket).all()
