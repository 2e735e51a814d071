"""Reference expansion against the sandbox: names equal the referenced records, batches of 500 ids,
only the needed fields, parallel within 3 per endpoint, a time-limited cache, missing ids stay missing."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from autotask_magic._exceptions import ConfigurationError
from autotask_magic.client import _expand
from autotask_magic.sandbox import Sandbox
from tests._support.clients import oauth_client


def _by_id(sb: Sandbox, entity: str) -> dict[int, dict[str, Any]]:
    return {int(r["id"]): r for r in sb.ground_truth(entity)}


def test_names_equal_the_referenced_records(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        df = client.query("Tickets", "status != 5", expand=["companyID", "assignedResourceID", "contactID"])
    companies, resources, contacts = (_by_id(sandbox, e) for e in ("Companies", "Resources", "Contacts"))
    cols = list(df.columns)
    assert cols[cols.index("companyID") + 1] == "companyID_name"
    assert cols[cols.index("assignedResourceID") + 1] == "assignedResourceID_name"
    for row in df.itertuples(index=False):
        d = row._asdict()
        assert d["companyID_name"] == companies[d["companyID"]]["companyName"]
        if pd.isna(d["assignedResourceID"]):
            assert pd.isna(d["assignedResourceID_name"])
        else:
            r = resources[int(d["assignedResourceID"])]
            assert d["assignedResourceID_name"] == f"{r['firstName']} {r['lastName']}"
        if not pd.isna(d["contactID"]):
            c = contacts[int(d["contactID"])]
            assert d["contactID_name"] == f"{c['firstName']} {c['lastName']}"
    assert df.attrs["autotask"]["expand"] == ["companyID", "assignedResourceID", "contactID"]


def test_batches_of_500_only_needed_fields_and_the_cache(sandbox: Sandbox) -> None:
    sent_bodies: list[dict[str, Any]] = []
    with oauth_client(sandbox) as client:
        send = client._send

        def recording(method: str, url: str, **kw: Any) -> Any:
            if url.endswith("Companies/query"):
                sent_bodies.append(kw["json"])
            return send(method, url, **kw)

        client._send = recording  # type: ignore[method-assign]
        df = client.query("Contacts", expand="companyID=Companies.companyNumber")
        companies = _by_id(sandbox, "Companies")
        distinct = df["companyID"].nunique()
        assert df.attrs["autotask"]["expand_requests"] == {"companyID": math.ceil(distinct / 500)}
        assert (df["companyID_name"] == df["companyID"].map(lambda i: companies[i]["companyNumber"])).all()
        assert sent_bodies
        for body in sent_bodies:
            assert body["IncludeFields"] == ["id", "companyNumber"]
            assert body["filter"][0]["op"] == "in" and len(body["filter"][0]["value"]) <= 500
        sandbox.reset_stats()
        again = client.query("Contacts", expand="companyID=Companies.companyNumber")
        assert again.attrs["autotask"]["expand_requests"] == {"companyID": 0}  # cached: nothing sent
        assert not any("Companies" in k for k in sandbox.stats.requests_by_endpoint)
        client.expand_ttl = 0
        third = client.query("Contacts", expand="companyID=Companies.companyNumber")
        assert third.attrs["autotask"]["expand_requests"] == {"companyID": math.ceil(distinct / 500)}


def test_many_ids_go_in_batches_in_parallel_within_three(sandbox_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = sandbox_factory(tickets=2000)
    monkeypatch.setattr(_expand, "BATCH", 40)  # 250+ companies in batches of 40: several requests
    with oauth_client(sb) as client:
        df = client.query("Tickets", fields=["id", "companyID"], expand=["companyID"], parallel=True)
    distinct = df["companyID"].nunique()
    assert df.attrs["autotask"]["expand_requests"] == {"companyID": math.ceil(distinct / 40)}
    assert sb.stats.max_concurrency.get("POST /Companies/query", 0) <= 3
    companies = _by_id(sb, "Companies")
    assert (df["companyID_name"] == df["companyID"].map(lambda i: companies[i]["companyName"])).all()


def test_unresolved_ids_give_missing_values(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        df = client.query("Tickets", "id < 10011", fields=["id", "companyID"])
        df.loc[0, "companyID"] = 999_999  # no such company
        _expand.expand_frame(client, df, client.fields("Tickets"), ["companyID"])
    assert pd.isna(df.loc[0, "companyID_name"])
    assert df["companyID_name"].iloc[1:].notna().all()


def test_display_field_chosen_from_metadata_and_mistakes_refused(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        assert _expand.display_fields(client.fields("Projects")) == ("projectName",)
        assert _expand.entity_of("Company") == "Companies"
        assert _expand.entity_of("ConfigurationItem") == "ConfigurationItems"
        with pytest.raises(ConfigurationError, match="not a reference field of Tickets"):
            client.query("Tickets", "id < 10003", expand=["title"])
        with pytest.raises(ConfigurationError, match="did you mean companyNumber"):
            client.query("Tickets", "id < 10003", expand=["companyID=Companies.companyNumbr"])
        with pytest.raises(ConfigurationError, match="cannot read expand"):
            client.query("Tickets", "id < 10003", expand=["companyID=Companies"])
