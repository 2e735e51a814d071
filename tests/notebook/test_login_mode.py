"""The three login paths make one decision: ``%autotask_login``, the automatic login on the first
``%autotask`` and ``AutotaskClient.from_env()`` agree on the mode, and refuse alike when both
credential sets are complete and nothing says which to use.
"""

from __future__ import annotations

from typing import Any

import pytest

from autotask_magic import AutotaskClient, ConfigurationError
from autotask_magic.client._mode import infer_mode
from tests._support.shell import run

OAUTH = {"AUTOTASK_CLIENT_ID": "cid-1", "AUTOTASK_CLIENT_SECRET": "oauth-secret-value"}
API_USER = {
    "AUTOTASK_USERNAME": "api@example.com",
    "AUTOTASK_INTEGRATION_CODE": "INTEGRATIONCODE1",
    "AUTOTASK_SECRET": "api-secret-value",
}
BOTH = {**OAUTH, **API_USER, "AUTOTASK_BASE_URL": "https://webservices.example.com/ATServicesRest/V1.0/"}


class _RecordingClient(AutotaskClient):
    """A real client (real manager and status) whose requests answer locally: no network here."""

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return {"ok": True}


def _three_paths(ip: Any, magic: Any, capsys: Any, env: dict[str, str], login_line: str = "") -> list[str]:
    """The mode each path picks, or the refusal each path prints (as one text)."""
    made: list[_RecordingClient] = []

    def factory(credentials: Any, **kwargs: Any) -> _RecordingClient:
        made.append(_RecordingClient(credentials, **kwargs))
        return made[-1]

    magic._environ = env
    magic._client_factory = factory
    magic._can_prompt = lambda: False
    answers: list[str] = []

    capsys.readouterr()
    result = run(ip, f"%autotask_login --no-check {login_line}".strip())
    answers.append(made[-1].manager.mode if result.success else capsys.readouterr().out.strip())
    run(ip, "%autotask_logout --keep-sandbox")

    capsys.readouterr()
    count = len(made)
    result = run(ip, "%autotask GET /Companies/0 --raw")
    if result.success:
        assert len(made) == count + 1
        answers.append(made[-1].manager.mode)
    else:
        answers.append(capsys.readouterr().out.strip())
    run(ip, "%autotask_logout --keep-sandbox")

    mode = {"--mode oauth": "oauth", "--mode api-user": "api_user"}.get(login_line)
    try:
        client = AutotaskClient.from_env(env, mode=mode)
    except ConfigurationError as exc:
        answers.append(f"ConfigurationError: {exc}")
    else:
        answers.append(client.manager.mode)
        client.close()
    return answers


def test_both_sets_complete_all_three_paths_refuse_alike(ip: Any, magic: Any, capsys: Any) -> None:
    answers = _three_paths(ip, magic, capsys, dict(BOTH))
    assert len(set(answers)) == 1, answers
    line = answers[0]
    assert "\n" not in line
    assert line.startswith("ConfigurationError: both OAuth (AUTOTASK_CLIENT_ID, AUTOTASK_CLIENT_SECRET)")
    assert "--mode oauth|api-user" in line and "AUTOTASK_MODE" in line
    for secret in ("oauth-secret-value", "api-secret-value", "INTEGRATIONCODE1"):
        assert secret not in line


@pytest.mark.parametrize("mode", ["oauth", "api_user"])
def test_autotask_mode_variable_picks_for_all_three(ip: Any, magic: Any, capsys: Any, mode: str) -> None:
    env = {**BOTH, "AUTOTASK_MODE": mode.replace("_", "-")}
    assert _three_paths(ip, magic, capsys, env) == [mode, mode, mode]


@pytest.mark.parametrize("mode", ["oauth", "api_user"])
def test_mode_option_picks_for_login_and_from_env(ip: Any, magic: Any, capsys: Any, mode: str) -> None:
    answers = _three_paths(ip, magic, capsys, dict(BOTH), login_line=f"--mode {mode.replace('_', '-')}")
    # --mode is an option of %autotask_login (and from_env(mode=...)); the automatic login has none,
    # so with both sets complete it refuses as before.
    assert answers[0] == answers[2] == mode
    assert answers[1].startswith("ConfigurationError: both OAuth")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({**OAUTH, "AUTOTASK_USERNAME": "api@example.com"}, "oauth"),  # complete beats partial
        ({**API_USER, "AUTOTASK_CLIENT_ID": "cid-1"}, "api_user"),
        (dict(OAUTH), "oauth"),
        (dict(API_USER), "api_user"),
    ],
)
def test_a_complete_set_wins_on_every_path(
    ip: Any, magic: Any, capsys: Any, env: dict[str, str], expected: str
) -> None:
    assert infer_mode(env) == expected
    assert _three_paths(ip, magic, capsys, env) == [expected] * 3


def test_unknown_mode_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigurationError, match="unknown AUTOTASK_MODE 'basic'"):
        infer_mode({**OAUTH, "AUTOTASK_MODE": "basic"})
    assert infer_mode({}) is None
