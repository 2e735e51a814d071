"""Magics without a server: loading, argument parsing, secrets refused, errors in one line, dry runs,
configuration, completion. Every test drives a real ``InteractiveShell``; nothing here needs a sandbox.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from autotask_magic import ConfigurationError, QuerySyntaxError
from autotask_magic.client._credentials import Secret
from autotask_magic.notebook import _display, _login, _magics
from tests._support.shell import Shown, run

# ------------------------------------------------------------------------------------- loading


def test_load_ext_is_light_and_offline() -> None:
    # A fresh interpreter: %load_ext must not import pandas or httpx (slow) nor touch the network.
    code = (
        "import sys, socket\n"
        "def no_net(*a, **k): raise AssertionError('network at load time')\n"
        "socket.socket.connect = no_net\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'autotask_magic')\n"
        "assert 'autotask' in ip.magics_manager.magics['cell']\n"
        "print(sorted(m for m in ('pandas', 'httpx', 'ipywidgets', 'autotask_magic.client._client') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_magics_registered_and_removed(ip: Any) -> None:
    line = ip.magics_manager.magics["line"]
    for name in ("autotask_login", "autotask_logout", "autotask_status", "autotask_last_error", "autotask"):
        assert name in line
    assert "autotask" in ip.magics_manager.magics["cell"]
    magic = _magics.get_magic(ip)
    assert magic in ip.configurables
    ip.run_line_magic("unload_ext", "autotask_magic")
    assert "autotask" not in ip.magics_manager.magics["line"]
    assert magic not in ip.configurables
    assert magic.complete not in ip.Completer.custom_matchers
    ip.run_line_magic("load_ext", "autotask_magic")  # the fixture unloads again


def test_config_magic_and_validation(ip: Any, magic: Any) -> None:
    ip.run_line_magic("config", "AutotaskMagic.timezone = 'Europe/Berlin'")
    ip.run_line_magic("config", "AutotaskMagic.summary_rows = 0")
    assert magic.timezone == "Europe/Berlin"
    assert magic.summary_rows == 0
    # %config logs a rejected value (it does not raise); the option keeps its old value.
    run(ip, "%config AutotaskMagic.page_size = 900")
    assert magic.page_size == 500
    run(ip, "%config AutotaskMagic.timezone = 'Mars/Olympus'")
    assert magic.timezone == "Europe/Berlin"


def test_config_from_ipython_config() -> None:
    from traitlets.config import Config

    cfg = Config()
    cfg.AutotaskMagic.timezone = "America/New_York"
    cfg.AutotaskMagic.progress = "none"
    magic = _magics.AutotaskMagic(shell=None, config=cfg)
    assert magic.timezone == "America/New_York"
    assert magic.progress == "none"


def test_usage_without_arguments(ip: Any, shown: Shown) -> None:
    assert run(ip, "%autotask").success
    assert "%autotask query ENTITY" in shown.text()


def test_unknown_command_suggests_query(ip: Any, capsys: Any) -> None:
    result = run(ip, "%autotask Tickets")
    assert not result.success
    assert "did you mean %autotask query Tickets" in capsys.readouterr().err
    run(ip, "%autotask tickets")  # close to an entity: the entity's spelling is suggested
    assert "did you mean %autotask query Tickets?" in capsys.readouterr().err
    run(ip, "%autotask frobnicate")  # not an entity: no "query frobnicate" suggestion
    err = capsys.readouterr().err
    assert "unknown %autotask command 'frobnicate'" in err and "did you mean" not in err


def test_login_help_shows_the_options(ip: Any, magic: Any, shown: Shown) -> None:
    for line in ("%autotask_login -h", "%autotask_login --sandbox --help"):
        assert run(ip, line).success
        text = shown.text()
        assert text.startswith("%autotask_login [--sandbox]") and "--token-ttl DURATION" in text
        assert "--latency DURATION" in text and "a bare number is seconds" in text and "::" not in text
        shown.clear()
    assert magic.client is None and magic.sandbox is None  # help logs nothing in


def test_progress_stays_silent_for_a_short_single_page_under_a_limit() -> None:
    import io

    stream = io.StringIO()
    p = _display.Progress("Tickets", mode="text", stream=stream, limit=2)
    p.update(SimpleNamespace(pages=1, records=0, total_estimate=None))  # an empty answer
    p.finish()
    assert stream.getvalue() == "" and not p.shown
    p = _display.Progress("Tickets", mode="text", stream=stream, limit=1000)
    p.update(SimpleNamespace(pages=1, records=500, total_estimate=1200))  # the server says more come
    assert p.shown and "500 of 1,000 records" in stream.getvalue()


# ------------------------------------------------------------------------------ failing in one line


def test_bad_operator_fails_cell_in_one_line(ip: Any, capsys: Any) -> None:
    result = run(ip, "%autotask query Tickets where status == 5")
    assert not result.success
    assert isinstance(result.error_in_exec, QuerySyntaxError)
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert lines[0].startswith("QuerySyntaxError: unknown operator '==' at column 8")
    # The error line plus the source line and a caret under column 8; no traceback.
    assert lines[1:] == ["    status == 5", "           ^"]
    assert "Traceback" not in out


def test_xmode_verbose_shows_the_traceback(ip: Any, capsys: Any) -> None:
    ip.run_line_magic("xmode", "Verbose")
    result = run(ip, "%autotask query Tickets where status == 5")
    assert not result.success
    out = capsys.readouterr().out
    assert "Traceback" in out or "most recent call last" in out
    assert "_magics.py" in out


def test_last_error_keeps_the_detail(ip: Any, shown: Shown) -> None:
    run(ip, "%%autotask query Tickets\nstatus = 5 and\n  (priority in (1, 2) or title contans 'x')")
    shown.clear()
    run(ip, "%autotask_last_error")
    text = shown.text()
    assert text.startswith("QuerySyntaxError:")
    assert "line 3" in text
    assert "Traceback (most recent call last)" in text
    assert "position:" in text


def test_last_error_when_none(ip: Any, shown: Shown) -> None:
    run(ip, "%autotask_last_error")
    assert "No Autotask error" in shown.text()


def test_usage_errors_are_usage_errors(ip: Any, capsys: Any) -> None:
    for line in (
        "%autotask query Tickets --limit 0",
        "%autotask query Tickets --limit many",
        "%autotask query Tick-ets",
        "%autotask query Tickets -o 1x",
        "%autotask query Tickets --tz Mars/Base",
        "%autotask query Tickets --bogus",
        "%autotask query Tickets --where 'id > 1' where id > 2",
        "%autotask GET",
        "%autotask POST /Tickets",
        "%autotask GET /Companies/0 --body nothing_here",
        "%autotask PATCH /Tickets/12 --body x",
    ):
        ip.user_ns["x"] = {"id": 1}
        result = run(ip, line)
        assert not result.success, line
        err = capsys.readouterr().err
        assert err.startswith("UsageError: "), (line, err)
        assert len(err.strip().splitlines()) == 1, (line, err)


def test_not_logged_in_says_how(ip: Any, magic: Any, capsys: Any) -> None:
    magic._environ = {}
    result = run(ip, "%autotask query Tickets")
    assert not result.success
    out = capsys.readouterr().out.strip()
    assert out == (
        "ConfigurationError: not logged in — run %autotask_login (it asks for what is missing) "
        "or %autotask_login --sandbox"
    )
    assert len(out) <= 120  # one line that does not wrap (issue 16); the variables are in the long form
    detail = _display.error_detail(magic.last_error, None)  # what %autotask_last_error shows
    assert "AUTOTASK_USERNAME" in detail and "AUTOTASK_CLIENT_ID" in detail and "before starting the kernel" in detail


# ------------------------------------------------------------------------------------- login


@pytest.mark.parametrize(
    "line",
    [
        "--client-secret hunter2hunter2",
        "--client-secret=hunter2hunter2",
        "--secret hunter2hunter2",
        "--password hunter2",
        "--integration-code ABCD1234",
        "--token eyJhbGciOi",
        "--api-key k",
        "hunter2hunter2",
        "--username someone@example.com hunter2hunter2",
        "--client-id Zx9Qm2Lp7Rt4Vw8Ks3Nd6Hf1",
        "--base-url https://user:pw@example.com/ATServicesRest/V1.0/",
        "--token-url https://example.com/token?client_secret=abc",
    ],
)
def test_login_refuses_secrets_on_the_line(ip: Any, magic: Any, capsys: Any, line: str) -> None:
    asked: list[str] = []
    magic._can_prompt = lambda: True
    magic._getpass = lambda p: asked.append(p) or "x"
    result = run(ip, f"%autotask_login {line}")
    assert not result.success
    assert isinstance(result.error_in_exec, ConfigurationError)
    out = capsys.readouterr().out
    assert "saved in IPython history" in out
    for secret in ("hunter2", "ABCD1234", "eyJhbGciOi", "Zx9Qm2Lp7Rt4Vw8Ks3Nd6Hf1", "pw@", "client_secret=abc"):
        assert secret not in out
        assert secret not in str(result.error_in_exec)
    assert asked == []  # refused before anything else happens


def test_login_unknown_option_is_not_echoed(ip: Any, capsys: Any) -> None:
    result = run(ip, "%autotask_login --clientsecrt=abcdef123456")
    assert not result.success
    err = capsys.readouterr().err
    assert "--clientsecrt" in err and "abcdef123456" not in err


def test_login_without_a_person_fails_at_once_naming_variables(ip: Any, magic: Any, capsys: Any) -> None:
    magic._environ = {}
    magic._can_prompt = lambda: False
    magic._getpass = magic._input = lambda p: pytest.fail("must not prompt")
    result = run(ip, "%autotask_login --mode oauth")
    assert not result.success
    out = capsys.readouterr().out
    assert "AUTOTASK_CLIENT_ID, AUTOTASK_CLIENT_SECRET not set" in out
    result = run(ip, "%autotask_login --mode api_user")
    out = capsys.readouterr().out
    assert "AUTOTASK_USERNAME, AUTOTASK_INTEGRATION_CODE, AUTOTASK_SECRET not set" in out


def test_login_with_nothing_set_and_nobody_to_ask_names_both_modes(ip: Any, magic: Any, capsys: Any) -> None:
    magic._environ = {}
    magic._can_prompt = lambda: False
    magic._getpass = magic._input = lambda p: pytest.fail("must not prompt")
    result = run(ip, "%autotask_login")
    assert not result.success
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1  # one readable line, no traceback
    line = lines[0]
    assert line.startswith("ConfigurationError: not logged in: no Autotask credentials are set")
    # The default mode (API user) is only a default: both modes' variables are named, and the sandbox.
    for var in (
        "AUTOTASK_USERNAME",
        "AUTOTASK_INTEGRATION_CODE",
        "AUTOTASK_SECRET",
        "AUTOTASK_CLIENT_ID",
        "AUTOTASK_CLIENT_SECRET",
    ):
        assert var in line
    assert "(API user) or AUTOTASK_CLIENT_ID and AUTOTASK_CLIENT_SECRET (OAuth)" in line
    assert "%autotask_login --sandbox" in line


def test_usage_lines_are_aligned(ip: Any, shown: Shown) -> None:
    assert run(ip, "%autotask").success
    lines = shown.text().splitlines()
    assert lines[0].startswith("%autotask query ENTITY") and lines[1].startswith("%autotask GET")


def test_sandbox_only_login_options_need_sandbox(ip: Any, magic: Any, capsys: Any) -> None:
    magic._environ = {}
    for line, words in (
        ("--tickets 5", "--tickets needs --sandbox"),
        ("--token-ttl 4 --latency 10ms", "--token-ttl, --latency need --sandbox"),
        ("--sandbox --token-ttl 0", "--token-ttl needs a positive duration"),
        ("--sandbox --latency -1", "expected a duration such as 500ms, 0.5s or 2s, got '-1'"),
        ("--sandbox --latency 500", "write 500ms for milliseconds"),
    ):
        assert not run(ip, f"%autotask_login {line}").success
        out = capsys.readouterr()
        assert words in out.out + out.err
    assert magic.sandbox is None  # nothing was started


def test_page_size_config_reaches_the_client(ip: Any, magic: Any) -> None:
    from autotask_magic import AutotaskClient, ConfigurationError, OAuthCredentials
    from autotask_magic.client import query_body

    client = AutotaskClient(
        OAuthCredentials("id", "secret"),
        base_url="https://example.invalid/V1.0/",
        token_url="https://example.invalid/token",
        page_size=100,
    )
    try:
        assert client.page_size == 100
        assert query_body(None, ["title"], None, client.page_size) == {
            "filter": [{"op": "gte", "field": "id", "value": 0}],
            "IncludeFields": ["id", "title"],
            "MaxRecords": 100,
        }
        assert query_body(None, ["title"], 50, client.page_size)["MaxRecords"] == 50
        for bad in (0, 501, 2.5, True, "100"):
            with pytest.raises(ConfigurationError) as info:
                client.page_size = bad  # type: ignore[assignment]
            assert "page_size must be an integer from 1 to 500" in str(info.value)
            assert "\n" not in str(info.value)
        magic.client = client
        ip.run_line_magic("config", "AutotaskMagic.page_size = 250")  # after login: applies at once
        assert client.page_size == 250
    finally:
        magic.client = None
        client.close()
    with pytest.raises(ConfigurationError):
        AutotaskClient(OAuthCredentials("id", "secret"), page_size=0)


def test_can_prompt_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    kernel_shell = SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=False))
    assert _login.can_prompt(kernel_shell) is False
    kernel_shell.kernel._allow_stdin = True
    assert _login.can_prompt(kernel_shell) is True
    tty = SimpleNamespace(isatty=lambda: True, closed=False)
    pipe = SimpleNamespace(isatty=lambda: False, closed=False)
    assert _login.can_prompt(SimpleNamespace(), stdin=tty) is True
    assert _login.can_prompt(SimpleNamespace(), stdin=pipe) is False
    monkeypatch.setenv("CI", "true")
    assert _login.can_prompt(SimpleNamespace(), stdin=tty) is False
    assert _login.can_prompt(kernel_shell) is False


def test_plan_login_prompts_secrets_with_getpass_only() -> None:
    asked: list[tuple[str, str]] = []
    plan = _login.plan_login(
        mode=None,
        overrides={"AUTOTASK_USERNAME": "api@example.com"},
        environ={"AUTOTASK_ZONE_URL": "https://z.example/zoneInformation", "PATH": "/bin"},
        prompt_allowed=True,
        ask=lambda p: asked.append(("input", p)) or "unused",
        ask_secret=lambda p: asked.append(("getpass", p)) or "s3cret-value",
    )
    assert plan.mode == "api_user"
    assert [kind for kind, _ in asked] == ["getpass", "getpass"]
    assert plan.env["AUTOTASK_USERNAME"] == "api@example.com"
    secret = plan.env["AUTOTASK_SECRET"]
    assert isinstance(secret, Secret) and secret.reveal() == "s3cret-value"  # wrapped the moment it is read
    assert "PATH" not in plan.env
    assert plan.prompted == ["AUTOTASK_INTEGRATION_CODE", "AUTOTASK_SECRET"]


def test_plan_login_oauth_asks_id_with_input() -> None:
    asked: list[str] = []
    plan = _login.plan_login(
        mode="oauth",
        overrides={},
        environ={},
        prompt_allowed=True,
        ask=lambda p: asked.append("input") or "my-client",
        ask_secret=lambda p: asked.append("getpass") or "sec",
    )
    assert asked == ["input", "getpass"]
    assert plan.env == {"AUTOTASK_CLIENT_ID": "my-client", "AUTOTASK_CLIENT_SECRET": Secret("sec")}


def test_plan_login_empty_answer_cancels() -> None:
    with pytest.raises(ConfigurationError, match="no value given for AUTOTASK_CLIENT_SECRET"):
        _login.plan_login(
            mode="oauth",
            overrides={"AUTOTASK_CLIENT_ID": "x"},
            environ={},
            prompt_allowed=True,
            ask=lambda p: "",
            ask_secret=lambda p: "",
        )


def test_stdin_not_implemented_becomes_configuration_error() -> None:
    from IPython.core.error import StdinNotImplementedError

    def refuse(prompt: str) -> str:
        raise StdinNotImplementedError("no stdin")

    with pytest.raises(ConfigurationError, match="does not allow input"):
        _login.plan_login(
            mode="oauth",
            overrides={"AUTOTASK_CLIENT_ID": "x"},
            environ={},
            prompt_allowed=True,
            ask=refuse,
            ask_secret=refuse,
        )


# ------------------------------------------------------------------------------------- dry runs


def test_dry_run_query_sends_nothing_and_shows_the_body(ip: Any, shown: Shown) -> None:
    ip.user_ns["tier"] = "Gold"
    result = run(
        ip,
        (
            "%%autotask query Tickets --fields id,title --limit 501 --dry-run\n"
            "status != 5 and (priority in (1, 2) or title contains 'printer')\n"
            '  and udf."Customer Tier" = :tier'
        ),
    )
    assert result.success and result.result is None
    text = shown.text()
    first, _, rest = text.partition("\n")
    assert first == "POST <API root>/Tickets/query"
    assert "Authorization: <redacted>" in rest
    body = json.loads(rest[rest.index("{") : rest.rindex("}") + 1])
    assert body["MaxRecords"] == 500
    assert body["IncludeFields"] == ["id", "title"]
    assert body["filter"][0] == {"op": "noteq", "field": "status", "value": 5}
    assert {"op": "eq", "field": "Customer Tier", "value": "Gold", "udf": True} in body["filter"]
    assert "nothing was sent" in text


def test_dry_run_raw_request(ip: Any, shown: Shown) -> None:
    ip.user_ns["patch"] = {"id": 7, "title": "new"}
    assert run(ip, "%autotask PATCH /Tickets --body patch --dry-run").success
    text = shown.text()
    assert text.startswith("PATCH <API root>/Tickets\n")
    assert '"title": "new"' in text
    shown.clear()
    assert run(ip, "%autotask GET /Companies/query?search=abc --dry-run").success
    assert shown.text().startswith("GET <API root>/Companies/query?search=abc\n")


def test_cell_body_must_be_json(ip: Any, capsys: Any) -> None:
    result = run(ip, '%%autotask POST /Tickets --dry-run\n{"title": "x",}')
    assert not result.success
    out = capsys.readouterr().out
    assert out.startswith("QuerySyntaxError: the cell is not valid JSON")


def test_render_dry_run_redacts_credentials() -> None:
    text = _display.render_dry_run(
        "POST",
        "https://h/ATServicesRest/V1.0/Tickets",
        {
            "Authorization": "Bearer abc.def.ghi",
            "ApiIntegrationCode": "CODE123",
            "Secret": "S3cr3t!",
            "Content-Type": "application/json",
        },
        {"title": "t"},
        secrets=["S3cr3t!"],
    )
    assert "abc.def.ghi" not in text and "CODE123" not in text and "S3cr3t!" not in text
    assert "Content-Type: application/json" in text


# ------------------------------------------------------------------------------------- helpers


def test_split_where() -> None:
    assert _magics._split_where("Tickets --limit 5 where status != 5") == ("Tickets --limit 5 ", "status != 5")
    assert _magics._split_where("Tickets --where 'a where b'") == ("Tickets --where 'a where b'", None)
    assert _magics._split_where("Tickets") == ("Tickets", None)


def test_progress_text_line() -> None:
    import io

    stream = io.StringIO()
    now = [0.0]
    p = _display.Progress("Tickets", mode="text", stream=stream, clock=lambda: now[0])
    p.update(SimpleNamespace(pages=1, records=500, total_estimate=None))
    assert stream.getvalue() == ""  # one page: nothing shown yet
    now[0] = 1.0
    p.update(SimpleNamespace(pages=2, records=1000, total_estimate=1200))
    assert "Tickets:  83% 1,000 of 1,200 records · 1,000 records/s · 0 s left · 2 pages" in stream.getvalue()
    now[0] = 1.2
    p.update(SimpleNamespace(pages=3, records=1200, total_estimate=1200))
    line = "Tickets: 100% 1,200 of 1,200 records · 1,000 records/s · 3 pages"
    assert stream.getvalue().rstrip(" ").endswith("\r" + line)  # done: no time left is shown
    p.finish()
    width = len("Tickets:  83% 1,000 of 1,200 records · 1,000 records/s · 0 s left · 2 pages")
    assert stream.getvalue().endswith("\r" + " " * width + "\r")  # the longest line is erased


def test_progress_shows_rate_and_time_left_like_tqdm() -> None:
    import io

    stream = io.StringIO()
    now = [0.0]
    p = _display.Progress("Tickets", mode="text", stream=stream, clock=lambda: now[0])
    p.update(SimpleNamespace(pages=1, records=500, total_estimate=None))
    now[0] = 5.0
    p.update(SimpleNamespace(pages=23, records=11_500, total_estimate=20_000))
    assert (
        stream.getvalue()
        .rstrip(" ")
        .endswith("Tickets:  57% 11,500 of 20,000 records · 2,300 records/s · 4 s left · 23 pages")
    )
    now[0] = 2.0  # without a total: records and rate only
    q = _display.Progress("Tickets", mode="text", stream=io.StringIO(), clock=lambda: now[0])
    now[0] = 4.0
    q.update(SimpleNamespace(pages=2, records=1000, total_estimate=None))
    assert q.summary() == "Tickets: 1,000 records · 500 records/s · 2 pages"
    assert _display._left(125) == "2 min 05 s" and _display._left(7300) == "2 h 01 min"


def test_progress_limit_caps_the_total() -> None:
    import io

    p = _display.Progress("Tickets", mode="text", stream=io.StringIO(), limit=1500, clock=lambda: 0.0)
    p.update(SimpleNamespace(pages=2, records=1000, total_estimate=20_000))
    assert p.total == 1500 and "1,000 of 1,500 records" in p.summary()


def test_progress_bar_ends_full_when_the_count_differs() -> None:
    shown: list[Any] = []
    p = _display.Progress("Tickets", display=shown.append, widgets=True, clock=lambda: 1.0)
    p.update(SimpleNamespace(pages=2, records=1000, total_estimate=5000))
    box = shown[0]
    bar = box.children[0]
    assert (bar.value, bar.max) == (1000, 5000)  # the bar's maximum is the count, not the records so far
    p.update(SimpleNamespace(pages=3, records=1200, total_estimate=5000))  # records were deleted meanwhile
    p.finish()
    assert (bar.value, bar.max) == (1200, 1200) and p.summary().startswith("Tickets: 1,200 records in 3 pages")


def test_error_line_scrubs_registered_secrets() -> None:
    from autotask_magic import _redact

    _redact.register("very-secret-value-123")
    try:
        err = ConfigurationError("server echoed very-secret-value-123 back")
        assert "very-secret-value-123" not in _display.error_line(err)
    finally:
        _redact.forget("very-secret-value-123")


# ------------------------------------------------------------------------------------- completion


def _complete(ip: Any, text: str) -> list[str]:
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, len(text))]


def test_complete_entities_after_query_and_in_paths(ip: Any) -> None:
    assert "Tickets" in _complete(ip, "%autotask query Tick")
    assert "TicketNotes" in _complete(ip, "%autotask query Tick")
    assert "Companies" in _complete(ip, "%%autotask query Comp")
    assert "/Companies" in _complete(ip, "%autotask GET /Comp")
    assert "query" in _complete(ip, "%autotask qu")


def test_complete_fields_once_known(ip: Any, magic: Any) -> None:
    from autotask_magic.entities._metadata import EntityFields

    assert _complete(ip, "%%autotask query Tickets\nsta") == [] or "status" not in _complete(
        ip, "%%autotask query Tickets\nsta"
    )
    fields = EntityFields.from_api(
        "Tickets",
        {
            "fields": [
                {"name": "id", "dataType": "long"},
                {"name": "status", "dataType": "integer"},
                {"name": "title", "dataType": "string"},
            ]
        },
        {"fields": [{"name": "Customer Tier", "dataType": "string"}]},
    )
    magic._fields_cache[("h", "tickets")] = fields
    assert "status" in _complete(ip, "%%autotask query Tickets\nsta")
    assert "title" in _complete(ip, "%autotask query Tickets --fields id,ti")
    assert "status" in _complete(ip, "%autotask query Tickets where id > 1 and sta")


def test_summary_line_says_the_time_zone_once() -> None:
    import pandas as pd

    from autotask_magic.client._frames import to_frame

    df = to_frame([{"id": 1, "createDate": "2016-02-22T03:35:46.691Z"}], tz="Europe/Berlin")
    df.attrs["autotask"] = {"entity": "Tickets", "pages": 1, "elapsed_s": 0.25}
    assert _display.frame_summary("t", df) == "t: 1 row × 2 columns — Tickets, 1 page, 0.25 s, times in Europe/Berlin"
    assert "times in" not in _display.frame_summary("t", pd.DataFrame({"id": [1]}))
