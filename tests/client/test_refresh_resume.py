"""Refresh and resume against the sandbox: the result always equals a fresh pull of the same resolved query
(rows, values, dtypes, column order) after records were changed, added and deleted, or a pull was stopped."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from autotask_magic._exceptions import ConfigurationError
from autotask_magic.client._refresh import last_modified_field
from autotask_magic.sandbox import Sandbox
from tests._support.clients import oauth_client

WHERE = "status != 5 and createDate >= today - 3000d"
EXPAND = ["companyID", "assignedResourceID"]
RECENT = "createDate >= today - 3000d"


def _fresh(client: Any, df: pd.DataFrame) -> pd.DataFrame:
    info = df.attrs["autotask"]
    return client.query(info["entity"], filter=info["filter"], fields=info["fields"], expand=info["expand"] or None)


def _delete(sb: Sandbox, entity: str, rid: int) -> None:
    # Tickets cannot be deleted through the API; the sandbox's store can (as another user's cleanup would).
    del sb.store[entity][rid]


def _new_ticket(client: Any) -> int:
    body = {"title": "new", "companyID": 0, "status": 1, "priority": 1, "dueDateTime": "2026-12-01T00:00:00Z"}
    return int(client.request("POST", "Tickets", json=body)["itemId"])


def test_refresh_after_changes_and_additions_equals_a_fresh_pull(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        df = client.query("Tickets", WHERE, expand=EXPAND)
        ids = df["id"].tolist()
        client.request("PATCH", "Tickets", json={"id": ids[0], "title": "changed", "assignedResourceID": None})
        client.request("PATCH", "Tickets", json={"id": ids[1], "status": 5})  # no longer matches
        added = _new_ticket(client)
        sandbox.reset_stats()
        out = client.refresh(df)
        stats = out.attrs["autotask"]["refresh"]
        by = sandbox.stats.requests_by_endpoint
        assert stats["updated"] == 1 and stats["added"] == 1 and stats["dropped"] == 1
        # (a) changed rows that match, (c) the count, (b) changed ids because the count said so.
        assert by["POST /Tickets/query/count"] == 1 and by["POST /Tickets/query"] == 2
        assert added in out["id"].tolist() and ids[1] not in out["id"].tolist()
        assert out.loc[out["id"] == ids[0], "title"].item() == "changed"
        pd.testing.assert_frame_equal(out, _fresh(client, df))


def test_refresh_without_changes_sends_one_query_and_one_count(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        df = client.query("Tickets", WHERE)
        sandbox.reset_stats()
        out = client.refresh(df)
        assert sandbox.stats.requests_by_endpoint == {"POST /Tickets/query": 1, "POST /Tickets/query/count": 1}
        pd.testing.assert_frame_equal(out, _fresh(client, df))


@pytest.mark.parametrize("fallback", [True, False])
def test_a_deletion_falls_back_to_a_full_pull_or_reports_stale_rows(sandbox: Sandbox, fallback: bool) -> None:
    with oauth_client(sandbox) as client:
        df = client.query("Tickets", WHERE, expand=EXPAND)
        client.request("PATCH", "Tickets", json={"id": int(df["id"].iloc[3]), "title": "changed"})
        _delete(sandbox, "Tickets", int(df["id"].iloc[5]))
        out = client.refresh(df, fallback=fallback)
        stats = out.attrs["autotask"]["refresh"]
        assert stats["deleted"] == 1
        if fallback:
            assert stats["fallback"] == "full pull"
            pd.testing.assert_frame_equal(out, _fresh(client, df))
        else:
            assert stats["stale"] == 1 and len(out) == len(df)


def test_relative_dates_keep_the_first_pulls_values(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        df = client.query("Tickets", "createDate >= today - 3000d", fields=["id", "createDate", "title"])
        out = client.refresh(df)
        assert out.attrs["autotask"]["filter"] == df.attrs["autotask"]["filter"]
        assert out.attrs["autotask"]["where"] == "createDate >= today - 3000d"
        assert df.attrs["autotask"]["relative"] is True and out.attrs["autotask"]["relative"] is True
        # Decided from the parsed query, not the text: an anchor word inside a quoted value is not a date.
        plain = client.query("Tickets", "title contains 'now' or title contains 'today'", fields=["id", "title"])
        assert "relative" not in plain.attrs["autotask"]


def test_entities_without_a_last_modified_field_refuse(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        assert last_modified_field(client.fields("Resources")) is None
        assert last_modified_field(client.fields("Tickets")) == "lastActivityDate"
        df = client.query("Resources")
        with pytest.raises(ConfigurationError, match="Resources has no last-modified field"):
            client.refresh(df)
        with pytest.raises(ConfigurationError, match="with a limit"):
            client.refresh(client.query("Tickets", limit=3))


@pytest.mark.parametrize("parallel", [False, True])
def test_resume_after_ctrl_c_returns_the_whole_frame(sandbox_factory: Any, parallel: bool) -> None:
    sb = sandbox_factory(tickets=3000)
    with oauth_client(sb) as client:
        client.page_size = 100

        def stop(info: Any) -> None:
            if info.pages == 12:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt) as info:
            client.query("Tickets", RECENT, parallel=parallel, on_page=stop, expand=["companyID"])
        assert 0 < len(info.value.frame) < 3000  # type: ignore[attr-defined]
        with pytest.raises(ConfigurationError, match="query differs"):
            client.query("Tickets", RECENT + " and id > 0", resume=True)
        pages_before = sum(
            sb.stats.requests_by_endpoint.get(k, 0) for k in ("POST /Tickets/query", "POST /Tickets/query/next")
        )
        df = client.query("Tickets", RECENT, parallel=parallel, resume=True, expand=["companyID"])
        total = sum(
            sb.stats.requests_by_endpoint.get(k, 0) for k in ("POST /Tickets/query", "POST /Tickets/query/next")
        )
        assert df.attrs["autotask"]["resumed"] is True
        fresh = _fresh(client, df)
        pd.testing.assert_frame_equal(df, fresh)
        if not parallel:
            assert total - pages_before + 12 <= math.ceil(len(fresh) / 100) + 1  # full pull + 1 at most
        with pytest.raises(ConfigurationError, match="no stopped pull"):
            client.query("Tickets", RECENT, resume=True)


def test_a_stopped_resume_can_be_resumed_again(sandbox_factory: Any) -> None:
    sb = sandbox_factory(tickets=2000)
    with oauth_client(sb) as client:
        client.page_size = 100
        for at in (4, 6):

            def stop(info: Any, at: int = at) -> None:
                if info.pages == at:
                    raise KeyboardInterrupt

            with pytest.raises(KeyboardInterrupt):
                client.query("Tickets", on_page=stop, resume=at == 6)
        df = client.query("Tickets", resume=True)
        pd.testing.assert_frame_equal(df, client.query("Tickets"))


def test_a_failed_parallel_pull_resumes_each_partition_from_its_own_last_id(sandbox_factory: Any) -> None:
    from autotask_magic import IncompletePullError

    sb = sandbox_factory(tickets=4000)
    with oauth_client(sb, max_retry_sleep=0.01) as client:
        client.page_size = 100

        def break_server(info: Any) -> None:
            if info.pages == 8:  # the partitions are under way: every request from now on fails
                sb.faults.error_rate = 1.0

        with pytest.raises(IncompletePullError) as caught:
            client.query("Tickets", RECENT, parallel=True, on_page=break_server)
        assert len(caught.value.partitions) >= 2  # type: ignore[attr-defined]
        held = len(caught.value.frame)  # type: ignore[attr-defined]
        sb.faults.error_rate = 0.0
        sb.reset_stats()
        df = client.query("Tickets", RECENT, parallel=True, resume=True)
        by = sb.stats.requests_by_endpoint
        sent = by.get("POST /Tickets/query", 0) + by.get("POST /Tickets/query/next", 0)
        pd.testing.assert_frame_equal(df, _fresh(client, df))
        # Only what was missing is fetched again: its pages, plus a short page per partition at most.
        assert sent <= math.ceil((len(df) - held) / 100) + 4


def test_rest_of_partitions_filter() -> None:
    from autotask_magic.client._resume import _rest_of_partitions

    ids = pd.Series([1, 2, 3, 10, 11, 20, 21, 22, 29], dtype="int64")
    got = _rest_of_partitions(ids, [(10, 20), (20, 30), (30, None)])
    assert got == {
        "op": "or",
        "items": [
            {
                "op": "and",
                "items": [{"op": "gt", "field": "id", "value": 11}, {"op": "lt", "field": "id", "value": 20}],
            },
            {"op": "gt", "field": "id", "value": 29},
        ],
    }
