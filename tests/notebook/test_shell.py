"""The magics in a real ``InteractiveShell`` against the sandbox (real HTTP on 127.0.0.1).

Counts and correctness only: how many requests of which kind reached the server, and whether the
frames match the sandbox's ground truth.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from autotask_magic import (
    AuthenticationError,
    AutotaskClient,
    IncompletePullError,
    NotFoundError,
    QueryError,
    QuerySyntaxError,
)
from autotask_magic.notebook import _magics
from autotask_magic.sandbox import Sandbox
from tests._support.shell import Shown, interrupt_on_page, run


def login(ip: Any, magic: Any, sb: Sandbox, mode: str = "oauth") -> None:
    magic._environ = sb.env(mode)
    result = run(ip, "%autotask_login")
    assert result.success, result.error_in_exec
    sb.reset_stats()


def endpoint_counts(sb: Sandbox) -> dict[str, int]:
    return dict(sb.stats.requests_by_endpoint)


def all_output(capsys: Any, shown: Shown) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err + "\n".join(str(x) for x in shown)


# ------------------------------------------------------------------------------------- login


def test_login_sandbox_option_starts_sandbox_and_logout_stops_it(ip: Any, magic: Any, shown: Shown) -> None:
    assert run(ip, "%autotask_login --sandbox --tickets 50").success
    sb = magic.sandbox
    assert sb is not None and sb.running
    assert sb.stats.token_requests == 1  # validated at once: the first token
    text = shown.text()
    assert text.startswith("Autotask: valid") and "(sandbox)" in text
    assert sb.client_secret not in text
    assert run(ip, "%autotask_logout").success
    assert magic.client is None and magic.sandbox is None and not sb.running
    assert "logged out" in shown.text()


def test_login_oauth_from_env_validates_with_first_token(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    magic._environ = sandbox.env("oauth")
    assert run(ip, "%autotask_login").success
    assert sandbox.stats.token_requests == 1
    assert sandbox.stats.api_requests == 0
    assert "OAuth" in shown.text()


def test_login_api_user_does_discovery_and_one_cheap_call(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    magic._environ = sandbox.env("api_user")
    assert run(ip, "%autotask_login").success
    assert endpoint_counts(sandbox) == {"GET /ThresholdInformation": 1}
    assert "API user" in shown.text() and "zone" in shown.text()


def test_login_wrong_secret_fails_at_login_in_one_line(
    ip: Any, magic: Any, shown: Shown, sandbox: Sandbox, capsys: Any
) -> None:
    env = sandbox.env("oauth")
    env["AUTOTASK_CLIENT_SECRET"] = "wrong-secret-value-xyz"
    magic._environ = env
    result = run(ip, "%autotask_login")
    assert not result.success
    assert isinstance(result.error_in_exec, AuthenticationError)
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1
    assert out.startswith("AuthenticationError")
    assert "wrong-secret-value-xyz" not in out
    assert magic.client is None


def test_login_wrong_api_user_secret(ip: Any, magic: Any, sandbox: Sandbox, capsys: Any) -> None:
    env = sandbox.env("api_user")
    env["AUTOTASK_SECRET"] = "not-the-secret-123"
    magic._environ = env
    result = run(ip, "%autotask_login")
    assert not result.success
    out = capsys.readouterr().out
    assert out.startswith("AuthenticationError") and "not-the-secret-123" not in out


def test_login_prompts_a_person_with_getpass_for_secrets(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    env = sandbox.env("oauth")
    asked: list[tuple[str, str]] = []
    magic._environ = {"AUTOTASK_TOKEN_URL": env["AUTOTASK_TOKEN_URL"], "AUTOTASK_BASE_URL": env["AUTOTASK_BASE_URL"]}
    magic._can_prompt = lambda: True
    magic._getpass = lambda p: asked.append(("getpass", p)) or sandbox.client_secret
    magic._input = lambda p: asked.append(("input", p)) or "unexpected"
    # The client id is an identifier and may be an option; the secret is asked with getpass.
    assert run(ip, f"%autotask_login --client-id {sandbox.client_id}").success
    assert [kind for kind, _ in asked] == ["getpass"]
    assert sandbox.stats.token_requests == 1


def test_options_override_environment(
    ip: Any, magic: Any, sandbox: Sandbox, sandbox_factory: Callable[..., Sandbox]
) -> None:
    other = sandbox_factory(tickets=10)
    env = sandbox.env("oauth")
    env["AUTOTASK_BASE_URL"] = "https://webservices99.autotask.net/ATServicesRest/V1.0/"
    magic._environ = env
    # --base-url/--token-url point at the real sandbox; the environment's URL is not used.
    assert run(ip, f"%autotask_login --base-url {sandbox.base_url} --token-url {sandbox.token_url}").success
    assert sandbox.stats.token_requests == 1
    assert other.stats.token_requests == 0


def test_first_autotask_call_logs_in_from_environment(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    magic._environ = sandbox.env("oauth")
    result = run(ip, "%autotask query Companies --count")
    assert result.success
    assert result.result == len(sandbox.ground_truth("Companies"))


# ------------------------------------------------------------------------------------- queries


def test_1200_matching_rows_come_back_from_a_post_query(
    ip: Any, magic: Any, shown: Shown, sandbox_factory: Callable[..., Sandbox]
) -> None:
    sb = sandbox_factory(tickets=1300)
    login(ip, magic, sb)
    cut = [r["id"] for r in sb.ground_truth("Tickets")][1199]  # ids have gaps: the 1,200th id
    truth = sb.ground_truth("Tickets", [{"op": "lte", "field": "id", "value": cut}])
    assert len(truth) == 1200
    result = run(ip, f"%%autotask query Tickets\nid <= {cut}")
    assert result.success
    df = result.result
    assert len(df) == 1200
    assert df["id"].tolist() == [r["id"] for r in truth]
    counts = endpoint_counts(sb)
    assert counts["POST /Tickets/query"] == 1
    assert counts["POST /Tickets/query/next"] == 2
    assert "GET /Tickets/query/next" not in counts
    assert df.attrs["autotask"]["pages"] == 3
    assert df.attrs["autotask"]["records"] == 1200


def test_limit_501_asks_for_exactly_two_pages(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    run(ip, "%autotask fields Tickets")  # metadata first, so only query requests are counted below
    sandbox.reset_stats()
    result = run(ip, "x = %autotask query Tickets --limit 501")
    assert result.success
    assert len(ip.user_ns["x"]) == 501
    # No query/count for progress either: the limit makes the second page the last.
    assert endpoint_counts(sandbox) == {"POST /Tickets/query": 1, "POST /Tickets/query/next": 1}


def test_bad_operator_sends_no_request(ip: Any, magic: Any, sandbox: Sandbox, capsys: Any) -> None:
    login(ip, magic, sandbox)
    for text in ("status == 5", "status = 5 and (priority = 1", "title like 'x'", "status = = 1"):
        result = run(ip, f"%%autotask query Tickets\n{text}")
        assert not result.success
        assert isinstance(result.error_in_exec, QuerySyntaxError)
    assert sandbox.stats.api_requests == 0 and sandbox.stats.token_requests == 0
    first_lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("QuerySyntaxError")]
    assert len(first_lines) == 4


def test_unknown_field_did_you_mean_without_a_query(ip: Any, magic: Any, sandbox: Sandbox, capsys: Any) -> None:
    login(ip, magic, sandbox)
    result = run(ip, "%%autotask query Tickets\nstatus != 5 and priorty in (1, 2)")
    assert not result.success
    out = capsys.readouterr().out
    assert "unknown field 'priorty'" in out and "did you mean 'priority'?" in out
    assert "    status != 5 and priorty in (1, 2)\n" in out
    assert not any("/query" in k for k in endpoint_counts(sandbox))
    result = run(ip, "%autotask query Tickets --fields id,titel")
    assert not result.success
    assert "did you mean title?" in capsys.readouterr().out or "title" in str(result.error_in_exec)
    assert not any("/query" in k for k in endpoint_counts(sandbox))


def test_second_udf_condition_is_refused(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    result = run(ip, '%%autotask query Companies\nudf."Customer Tier" = \'Gold\' and udf."Seats" > 5')
    assert not result.success
    assert "UDF" in str(result.error_in_exec) or "user-defined" in str(result.error_in_exec)
    assert not any("/query" in k for k in endpoint_counts(sandbox))


def test_unknown_entity_did_you_mean(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    result = run(ip, "%autotask query Tikets")
    assert isinstance(result.error_in_exec, NotFoundError)
    assert "did you mean Tickets?" in str(result.error_in_exec)


def test_frame_matches_ground_truth_with_labels(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    result = run(
        ip,
        "%%autotask query Tickets --fields id,title,status,priority,createDate --labels\n"
        "status != 5 and priority in (1, 2)",
    )
    assert result.success
    df = result.result
    flt = [{"op": "noteq", "field": "status", "value": 5}, {"op": "in", "field": "priority", "value": [1, 2]}]
    truth = sandbox.ground_truth("Tickets", flt)
    assert len(df) == len(truth) > 0
    assert df["id"].tolist() == [r["id"] for r in truth]
    assert df["title"].tolist() == [r["title"] for r in truth]
    # The requested fields as asked, then their labels; the ids stay ids (df.status == 5 never matches nothing).
    assert list(df.columns) == ["id", "title", "status", "priority", "createDate", "status_label", "priority_label"]
    assert (df.status == df.status.iloc[0]).sum() == sum(r["status"] == truth[0]["status"] for r in truth) > 0
    fields = magic.cached_fields("Tickets")
    picklist = fields.picklist("priority")
    assert df["priority_label"].tolist() == [picklist[r["priority"]] for r in truth]
    assert str(df["createDate"].dt.tz) == "UTC"
    expected = pd.to_datetime([r["createDate"] for r in truth], utc=True).floor("s")  # whole seconds
    assert (df["createDate"].reset_index(drop=True) == pd.Series(expected)).all()
    info = df.attrs["autotask"]
    assert info["entity"] == "Tickets" and info["records"] == len(truth) and info["request"] == "POST /Tickets/query"


def test_python_mirror_gives_the_same_frame(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    df = run(ip, "%autotask query Tickets --fields id,title,status --limit 700 --labels where status != 5").result
    with AutotaskClient.from_env(sandbox.env("oauth")) as client:
        mirror = client.query("Tickets", where="status != 5", fields=["id", "title", "status"], limit=700, labels=True)
    pd.testing.assert_frame_equal(df, mirror)


def test_udfs_params_and_time_zone(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    ip.user_ns["ids"] = [r["id"] for r in sandbox.ground_truth("Companies")[:3]]
    df = run(ip, "%autotask query Companies --tz Europe/Berlin where id in :ids").result
    assert df["id"].tolist() == ip.user_ns["ids"]
    assert any(c.startswith("udf.") for c in df.columns)
    date_cols = [c for c in df.columns if str(df[c].dtype).startswith("datetime64")]
    assert date_cols and all(str(df[c].dt.tz) == "Europe/Berlin" for c in date_cols)


def test_count_output_and_summary(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    magic.summary_rows = 3
    login(ip, magic, sandbox)
    flt = [{"op": "eq", "field": "priority", "value": 1}]
    assert run(ip, "n = %autotask query Tickets --count where priority = 1").success
    assert ip.user_ns["n"] == len(sandbox.ground_truth("Tickets", flt))
    assert endpoint_counts(sandbox).get("POST /Tickets/query/count") == 1
    result = run(ip, "%autotask query Tickets -o p1 where priority = 1")
    assert result.success and result.result is None
    assert len(ip.user_ns["p1"]) == ip.user_ns["n"]
    summary = [str(x) for x in shown if isinstance(x, _magics._Text)][-1]
    assert summary.startswith(f"p1: {ip.user_ns['n']:,} rows × ")
    assert isinstance(shown[-1], pd.DataFrame) and len(shown[-1]) == 3


def test_empty_result_keeps_the_columns(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    df = run(ip, "%autotask query Tickets where id < 0").result
    assert len(df) == 0
    assert {"id", "title", "status"} <= set(df.columns)


def test_raw_query_returns_records(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    records = run(ip, "%autotask query Companies --raw --limit 5").result
    assert isinstance(records, list) and len(records) == 5
    assert [r["id"] for r in records] == [r["id"] for r in sandbox.ground_truth("Companies")[:5]]


def test_parallel_gives_the_same_rows(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    seq = run(ip, "%autotask query Tickets --fields id,title").result
    par = run(ip, "%autotask query Tickets --fields id,title --parallel").result
    assert sorted(par["id"].tolist()) == seq["id"].tolist() == [r["id"] for r in sandbox.ground_truth("Tickets")]


def test_metadata_is_fetched_once_per_kernel(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    for _ in range(3):
        assert run(ip, "%autotask query Tickets --limit 2 where status != 5").success
    assert endpoint_counts(sandbox)["GET /Tickets/entityInformation/fields"] == 1


def test_progress_text_for_multi_page_pulls(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox, capsys: Any) -> None:
    login(ip, magic, sandbox)
    run(ip, "x = %autotask query Tickets --fields id")
    out = capsys.readouterr().out
    # The count goes out with page 2; once it is in, the line has the total (the end: what arrived).
    assert "\rTickets:  50% 1,000 of 2,000 records · " in out or "\rTickets: 1,000 records · " in out
    assert "\rTickets: 100% 2,000 of 2,000 records · " in out and " · 4 pages" in out
    assert shown.text().splitlines()[-1].startswith("Tickets: 2,000 rows × 1 column — 4 pages, ")
    shown.clear()
    run(ip, "x = %autotask query Tickets --limit 3")
    assert "\r" not in capsys.readouterr().out  # one page: no bar, no summary
    assert shown.text() == ""


def test_field_completion_once_metadata_known(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    from IPython.core.completer import provisionalcompleter

    login(ip, magic, sandbox)
    run(ip, "%autotask query Tickets --limit 1")
    text = "%%autotask query Tickets\nstatus != 5 and prio"
    with provisionalcompleter():
        texts = [c.text for c in ip.Completer.completions(text, len(text))]
    assert "priority" in texts


# ------------------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_keeps_partial_records(
    ip: Any, magic: Any, sandbox: Sandbox, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(ip, magic, sandbox)
    interrupt_on_page(monkeypatch, 3)
    result = run(ip, "%autotask query Tickets")
    assert isinstance(result.error_in_exec, IncompletePullError)
    out = capsys.readouterr().out
    assert "interrupted (Ctrl-C) after 1,000 records in 3 pages" in out or "interrupted (Ctrl-C) after" in out
    assert "_autotask_partial" in out and "Traceback" not in out
    partial = ip.user_ns["_autotask_partial"]
    assert isinstance(partial, pd.DataFrame) and len(partial) >= 1000
    truth_ids = [r["id"] for r in sandbox.ground_truth("Tickets")]
    assert partial["id"].tolist() == truth_ids[: len(partial)]
    assert threading.active_count() < 20  # the prefetch worker was joined, nothing runs away


# ------------------------------------------------------------------------------------- raw requests


def test_raw_get_item_is_a_one_row_frame(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    company = sandbox.ground_truth("Companies")[0]
    df = run(ip, f"%autotask GET /Companies/{company['id']}").result
    assert isinstance(df, pd.DataFrame) and len(df) == 1
    assert df["companyName"].iloc[0] == company["companyName"]
    raw = run(ip, f"%autotask GET Companies/{company['id']} --raw").result
    assert raw["item"]["id"] == company["id"]


def test_raw_writes_with_cell_body_and_body_variable(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    ticket = sandbox.ground_truth("Tickets")[0]
    ip.user_ns["change"] = {"id": ticket["id"], "title": "Renamed by the magic"}
    result = run(ip, "%autotask PATCH /Tickets --body change")
    assert result.success, result.error_in_exec
    assert sandbox.store["Tickets"][ticket["id"]]["title"] == "Renamed by the magic"
    writes = sandbox.stats.writes
    assert writes[-1]["method"] == "PATCH"
    body = json.dumps(
        {
            "title": "New from a cell",
            "companyID": ticket["companyID"],
            "status": 1,
            "priority": 2,
            "dueDateTime": "2026-12-01T00:00:00Z",
        }
    )
    result = run(ip, f"%%autotask POST /Tickets\n{body}")
    assert result.success, result.error_in_exec
    assert "itemId" in result.result
    new_id = result.result["itemId"]
    assert sandbox.store["Tickets"][new_id]["title"] == "New from a cell"


def test_server_error_is_one_line_with_server_words(ip: Any, magic: Any, sandbox: Sandbox, capsys: Any) -> None:
    login(ip, magic, sandbox)
    result = run(ip, '%%autotask POST /Tickets\n{"title": "incomplete"}')
    assert isinstance(result.error_in_exec, QueryError)
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1
    assert out.startswith("QueryError") and "server says: Missing Required Field" in out
    result = run(ip, "%autotask GET /Tickets/1")
    assert isinstance(result.error_in_exec, NotFoundError)
    assert len(capsys.readouterr().out.strip().splitlines()) == 1


def test_dry_run_logged_in_shows_real_url_and_no_secret(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    ip.user_ns["body"] = {"title": "x"}
    assert run(ip, "%autotask POST /Tickets --body body --dry-run").success
    assert run(ip, "%autotask query Tickets --dry-run --limit 10 where status != 5").success
    # only the metadata the check needs (issue 14 point 4); no write, no query
    assert set(endpoint_counts(sandbox)) == {
        "GET /Tickets/entityInformation/fields",
        "GET /Tickets/entityInformation/userDefinedFields",
    }
    text = shown.text()
    assert f"POST {sandbox.base_url}Tickets\n" in text
    assert f"POST {sandbox.base_url}Tickets/query\n" in text
    assert '"MaxRecords": 10' in text
    for token in sandbox.issued_tokens:
        assert token not in text
    assert sandbox.client_secret not in text


def test_dry_run_api_user_headers_redacted(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox, mode="api_user")
    assert run(ip, "%autotask GET /Companies/0 --dry-run").success
    text = shown.text()
    assert "ApiIntegrationCode: <redacted>" in text and "Secret: <redacted>" in text
    assert sandbox.secret not in text and sandbox.integration_code not in text


# ------------------------------------------------------------------------------------- secrets, status, unload


def test_no_secret_or_token_anywhere_after_a_session(
    ip: Any, magic: Any, shown: Shown, sandbox: Sandbox, capsys: Any
) -> None:
    magic._environ = sandbox.env("oauth")
    cells = [
        "%autotask_login",
        "%autotask_status",
        "%autotask query Tickets --limit 3 --labels",
        "%autotask query Tickets where nope = 1",
        "%autotask GET /Tickets/1",
        "%autotask_last_error",
        "%autotask query Tickets --dry-run",
    ]
    for cell in cells:
        run(ip, cell)
    text = all_output(capsys, shown)
    assert sandbox.issued_tokens
    for secret in [sandbox.client_secret, *sandbox.issued_tokens]:
        assert secret not in text
        assert secret not in repr(magic.last_error)
    assert run(ip, "%autotask_logout").success
    assert magic.client is None


def test_status_when_logged_out_says_how(ip: Any, magic: Any, shown: Shown) -> None:
    run(ip, "%autotask_status")
    assert "%autotask_login" in shown.text()


def test_unload_closes_clients_and_stops_threads(ip: Any, magic: Any) -> None:
    before = set(threading.enumerate())
    assert run(ip, "%autotask_login --sandbox --tickets 1200").success
    sb = magic.sandbox
    assert run(ip, "x = %autotask query Tickets").success
    ip.run_line_magic("reload_ext", "autotask_magic")
    assert not sb.running
    assert magic.client is None
    new = _magics.get_magic(ip)
    assert new is not magic and new.client is None
    ip.run_line_magic("unload_ext", "autotask_magic")
    for t in set(threading.enumerate()) - before:
        t.join(timeout=5)
    leftover = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == []
    ip.run_line_magic("load_ext", "autotask_magic")


# ------------------------------------------------------------------------------------- follow-ups


def test_page_size_100_pulls_1000_rows_in_10_query_requests(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    cut = [r["id"] for r in sandbox.ground_truth("Tickets")][999]
    truth = sandbox.ground_truth("Tickets", [{"op": "lte", "field": "id", "value": cut}])
    assert len(truth) == 1000
    assert run(ip, f"full = %autotask query Tickets where id <= {cut}").success
    sandbox.reset_stats()
    run(ip, "%config AutotaskMagic.page_size = 100")
    assert magic.client.page_size == 100
    assert run(ip, f"small = %autotask query Tickets where id <= {cut}").success
    counts = endpoint_counts(sandbox)
    assert counts["POST /Tickets/query"] + counts["POST /Tickets/query/next"] == 10
    assert ip.user_ns["small"].attrs["autotask"]["pages"] == 10
    pd.testing.assert_frame_equal(ip.user_ns["small"], ip.user_ns["full"])
    assert ip.user_ns["small"]["id"].tolist() == [r["id"] for r in truth]
    # A parallel pull plans its partitions in pages of that size too: same rows, 100 per page.
    sandbox.reset_stats()
    assert run(ip, f"par = %autotask query Tickets --parallel where id <= {cut}").success
    pd.testing.assert_frame_equal(ip.user_ns["par"], ip.user_ns["full"])
    queries = {k: v for k, v in endpoint_counts(sandbox).items() if k.startswith("POST /Tickets/query")}
    pages = queries.get("POST /Tickets/query", 0) + queries.get("POST /Tickets/query/next", 0)
    assert 10 <= pages <= 13  # 10 pages, plus at most one short page per extra partition


def test_login_sandbox_token_ttl_and_latency_options_and_config(ip: Any, magic: Any, shown: Shown) -> None:
    assert run(ip, "%autotask_login --sandbox --tickets 50 --token-ttl 4 --latency 5ms").success
    sb = magic.sandbox
    assert sb.token_ttl == 4.0 and sb.faults.latency_ms == 5
    status = magic.client.manager.status()
    assert status.expires_at is not None and status.label == "sandbox"
    line = shown.text().splitlines()[-1]
    assert "(sandbox)" in line and " s ·" in line and "expires in 0 min" not in line  # seconds, not "0 min"
    # The traits are the defaults of a plain --sandbox login; the running sandbox (and its data) is kept.
    run(ip, "%config AutotaskMagic.sandbox_token_ttl = 7")
    run(ip, "%config AutotaskMagic.sandbox_latency_ms = 0")
    assert run(ip, "%autotask_login --sandbox --tickets 50").success
    assert magic.sandbox is sb and sb.token_ttl == 7.0 and sb.faults.latency_ms == 0
    before = sb.stats.token_requests
    assert run(ip, "%autotask_login --sandbox --tickets 50 --token-ttl 3600").success
    assert sb.stats.token_requests == before + 1 and sb.token_ttl == 3600.0


def test_fields_lists_udfs_under_their_column_names(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    result = run(ip, "%autotask fields Companies")
    assert result.success
    df = result.result
    udf_rows = df[df["marks"].str.contains("udf")]
    assert len(udf_rows) > 0 and all(name.startswith("udf.") for name in udf_rows.index)
    frame = run(ip, "%autotask query Companies --limit 1").result
    assert set(udf_rows.index) <= set(frame.columns)  # the names a query's columns carry
    assert not df["reference"].isna().any()  # "" for non-references, not NaN
    assert df.loc["ownerResourceID", "reference"] == "Resource"


def test_login_no_check_says_not_checked_instead_of_logged_out(
    ip: Any, magic: Any, shown: Shown, sandbox: Sandbox
) -> None:
    magic._environ = sandbox.env("oauth")
    assert run(ip, "%autotask_login --no-check").success
    assert sandbox.stats.token_requests == 0
    line = shown.text().splitlines()[-1]
    assert line.startswith("Autotask: credentials not checked (--no-check)") and "logged out" not in line
    assert run(ip, "%autotask query Companies --limit 1").success
    assert sandbox.stats.token_requests == 1


def test_empty_single_page_under_limit_shows_no_progress(
    ip: Any, magic: Any, shown: Shown, sandbox: Sandbox, capsys: Any
) -> None:
    login(ip, magic, sandbox)
    shown.clear()
    capsys.readouterr()
    result = run(ip, "%autotask query Tickets --limit 2 where title contains 'no such words here'")
    assert result.success and len(result.result) == 0
    assert "records" not in capsys.readouterr().out and shown.text() == ""  # no "0% 0/2", no summary


def test_relogin_reuses_the_kernels_one_status_panel(ip: Any, magic: Any, shown: Shown) -> None:
    from autotask_magic.notebook import _widget

    magic._widget_factory = _widget.status_panel
    assert run(ip, "%autotask_login --sandbox --tickets 20").success
    panel = shown[-1]
    first = magic.client.manager
    assert isinstance(panel, _widget.StatusPanel) and panel.manager is first
    assert run(ip, "%autotask_logout --keep-sandbox").success
    assert run(ip, "%autotask_login --sandbox --tickets 20 --mode api_user").success
    assert shown[-1] is panel  # the same live panel, not a second one
    second = magic.client.manager
    assert second is not first and panel.manager is second
    assert first._subscribers == [] and len(second._subscribers) == 1
    assert panel.view.state_key == "VALID" and panel.ticking


def test_dry_run_shows_the_body_the_client_really_sends(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    sent: list[bytes] = []

    # Record the bodies the client's own httpx.Client puts on the wire.
    def record(request: Any) -> None:
        if request.url.path.endswith("/Tickets/query"):
            sent.append(request.read())

    magic.client._http.event_hooks["request"].append(record)

    # Without a limit the pull may span pages, so the client adds id to IncludeFields.
    assert run(ip, "%autotask query Tickets --fields title --dry-run where status = 5").success
    text = shown.text()
    shown_body = json.loads(text[text.index("\n{") : text.index("\n}") + 2])
    assert run(ip, "%autotask query Tickets --fields title --raw where status = 5").success
    assert shown_body == json.loads(sent[0]) and shown_body["IncludeFields"] == ["id", "title"]
    shown.clear()
    # A single-page limit needs no id.
    assert run(ip, "%autotask query Tickets --fields title --limit 10 --dry-run where status = 5").success
    assert '"id"' not in shown.text()


def test_config_refresh_margin_reaches_the_token_manager(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    try:
        ip.run_line_magic("config", "AutotaskMagic.refresh_margin = 5")
        login(ip, magic, sandbox)
        assert magic.client.manager.status().refresh_margin == 5.0
        # Never more than half the token's lifetime (the sandbox's default is 3600 s).
        ip.run_line_magic("config", "AutotaskMagic.refresh_margin = 100000")
        login(ip, magic, sandbox)
        assert magic.client.manager.status().refresh_margin == 1800.0
    finally:
        ip.run_line_magic("config", "AutotaskMagic.refresh_margin = None")


def test_single_record_is_a_clean_field_value_card(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    result = run(ip, "%autotask GET /Companies/0")
    assert result.success
    df = result.result
    assert isinstance(df, pd.DataFrame) and len(df) == 1  # still the data: one row, typed columns
    assert df.loc[0, "id"] == 0 and df.isna().any().any()  # the sandbox's company 0 has missing values
    html, text = df._repr_html_(), repr(df)
    for marker in ("NaN", "&lt;NA&gt;", "<NA>", "NaT", "<th>0</th>", "None"):
        assert marker not in html and marker not in text, marker
    assert '<th style="text-align:left">id</th><td style="text-align:left">0</td>' in html
    first = text.splitlines()[0]
    assert first.split() == ["id", "0"]  # field, value: no row number, no "0" header line above
    # Fields without a value are named once, together, below the filled ones (folded in HTML).
    empty = [c for c in df.columns if df[c].isna().all()]
    assert f"({len(empty)} empty field" in text and f"<summary>{len(empty)} empty field" in html
    rows = [line.split()[0] for line in text.splitlines() if not line.startswith(("(", " "))]
    assert rows == [c for c in df.columns if c not in empty]
    assert all(name in " ".join(text.split()) for name in empty)
    assert type(df.head()) is pd.DataFrame  # anything derived is a plain frame, drawn as usual
    run(ip, "%autotask GET /Companies/0 -o company")
    assert any(getattr(obj, "_autotask_card", False) for obj in shown)
