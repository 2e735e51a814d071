"""query() builds its DataFrame chunk by chunk while it pulls: same frame as converting everything at
the end, and a stopped pull (error or Ctrl-C) still hands over every record fetched."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from autotask_magic import AutotaskClient, IncompletePullError
from autotask_magic.client._frames import FrameBuilder, to_frame
from autotask_magic.client._paging import PageInfo
from autotask_magic.client._pull import QUERY_CHUNK_PAGES
from autotask_magic.sandbox import Sandbox

TICKETS = 3000
PAGE = 100  # small pages: 30 pages, three chunks of QUERY_CHUNK_PAGES pages
CHUNK = QUERY_CHUNK_PAGES * PAGE


@pytest.fixture
def sb(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory(tickets=TICKETS, seed=5)


@pytest.fixture
def client(sb: Sandbox) -> Iterator[AutotaskClient]:
    with AutotaskClient.from_env(sb.env("api_user")) as c:
        c.page_size = PAGE
        c.retry.base = 0.01  # keep back-offs short; the attempts stay bounded
        c.retry.cap = 0.05
        yield c


def _expected(client: AutotaskClient, records: list[dict[str, Any]], **kw: Any) -> pd.DataFrame:
    return to_frame(records, fields=client.fields("Tickets"), **kw)


@pytest.mark.parametrize("parallel", [False, True])
def test_chunked_frame_equals_one_conversion(sb: Sandbox, client: AutotaskClient, parallel: bool) -> None:
    truth = sb.ground_truth("Tickets")
    assert len(truth) > 2 * CHUNK  # several chunks and a short last one
    df = client.query("Tickets", labels=True, tz="Europe/Berlin", parallel=parallel)
    expected = _expected(client, truth, labels=True, tz="Europe/Berlin")
    pd.testing.assert_frame_equal(df, expected, check_like=False)
    assert df.attrs["autotask"]["records"] == len(truth)


def test_limit_and_fields_across_chunks(sb: Sandbox, client: AutotaskClient) -> None:
    truth = sb.ground_truth("Tickets")
    df = client.query("Tickets", fields=["id", "title", "createDate"], limit=CHUNK + 250)
    assert df["id"].tolist() == [r["id"] for r in truth[: CHUNK + 250]]
    assert list(df.columns) == ["id", "title", "createDate"]
    assert str(df["createDate"].dtype).startswith("datetime64")


def test_ctrl_c_after_chunks_were_converted_keeps_everything(sb: Sandbox, client: AutotaskClient) -> None:
    truth = sb.ground_truth("Tickets")
    stop_at = 2 * QUERY_CHUNK_PAGES + 3  # two chunks converted, three pages still raw

    def on_page(info: PageInfo) -> None:
        if info.pages == stop_at:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as ki:
        client.query("Tickets", on_page=on_page)
    exc: Any = ki.value
    assert exc.pages == stop_at
    assert len(exc.frame) == stop_at * PAGE  # the page shown when Ctrl-C came is kept too
    pd.testing.assert_frame_equal(exc.frame, _expected(client, truth[: stop_at * PAGE]))
    assert exc.frame.attrs["autotask"]["partial"] is True
    # .records: the raw records not yet converted, which are the last rows of .frame
    assert [r["id"] for r in exc.records] == exc.frame["id"].tolist()[-len(exc.records) :]
    assert 0 < len(exc.records) <= CHUNK


def test_ctrl_c_in_the_first_chunk_keeps_raw_records_too(sb: Sandbox, client: AutotaskClient) -> None:
    truth = sb.ground_truth("Tickets")

    def on_page(info: PageInfo) -> None:
        if info.pages == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as ki:
        client.query("Tickets", on_page=on_page)
    exc: Any = ki.value
    assert exc.records == truth[: 3 * PAGE]  # nothing converted yet: every record, as the API sent it
    assert exc.frame["id"].tolist() == [r["id"] for r in truth[: 3 * PAGE]]


@pytest.mark.parametrize("parallel", [False, True])
def test_server_failure_after_chunks_keeps_everything(sb: Sandbox, client: AutotaskClient, parallel: bool) -> None:
    truth = sb.ground_truth("Tickets")
    by_id = {r["id"]: r for r in truth}
    page, at = PAGE, 2 * QUERY_CHUNK_PAGES + 2
    if parallel:
        # Three partitions pull side by side: smaller pages and some latency, so they are still
        # pulling when the consumer has converted a chunk and the server breaks.
        page, at = 50, QUERY_CHUNK_PAGES + 2
        client.page_size = page
        sb.faults.latency_ms = 20

    def break_server(info: PageInfo) -> None:
        if info.pages == at:
            sb.faults.error_rate = 1.0  # every later request fails with 500/502/503

    with pytest.raises(IncompletePullError) as caught:
        client.query("Tickets", parallel=parallel, on_page=break_server)
    err: Any = caught.value
    ids = err.frame["id"].tolist()
    assert len(ids) >= at * page and len(ids) < len(truth)
    assert ids == sorted(set(ids)), "id order, no duplicates"
    if not parallel:
        assert ids == [r["id"] for r in truth[: len(ids)]]
    pd.testing.assert_frame_equal(err.frame, _expected(client, [by_id[i] for i in ids]))
    assert all(by_id[r["id"]] == r for r in err.records)
    assert {r["id"] for r in err.records} <= set(ids)
    assert err.cause is not None and "\n" not in str(err)
    assert f"{len(ids)} record(s)" in str(err) or parallel  # the message counts everything fetched


def test_frame_builder_unifies_chunks_that_differ() -> None:
    base = [
        {"id": i, "n": i * 2, "createDate": f"2024-01-{i % 28 + 1:02d}T10:00:00Z", "flag": True, "name": f"x{i}"}
        for i in range(1, 31)
    ]
    records = [dict(r) for r in base]
    for r in records[10:20]:  # a chunk where every value of some columns is null
        r.update(n=None, createDate=None, flag=None, name=None)
    for r in records[20:]:  # a chunk with a key the others lack
        r["extra"] = 1.5
    builder = FrameBuilder()
    for i in range(0, 30, 10):
        builder.add(records[i : i + 10])
    builder.add([])
    got = builder.frame()
    expected = to_frame(records)
    pd.testing.assert_frame_equal(got, expected)
    assert str(got["n"].dtype) == "Int64" and str(got["createDate"].dtype).startswith("datetime64")
    assert builder.frame().empty  # the builder is empty after frame()
