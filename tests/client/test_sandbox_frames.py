"""to_frame on real sandbox records and real field metadata, checked against the sandbox's ground truth."""

from __future__ import annotations

import pandas as pd

from autotask_magic import AutotaskClient
from autotask_magic.client._frames import to_frame
from autotask_magic.query import parse_where, validate_filter
from autotask_magic.sandbox import Sandbox


def test_to_frame_matches_ground_truth(sandbox: Sandbox) -> None:
    with AutotaskClient.from_env(sandbox.env(mode="oauth")) as client:
        meta = client.fields("Tickets")
        flt = validate_filter(parse_where("status != 5 or priority in (1, 2, 4)"), meta, entity="Tickets")
        records = list(client.records("Tickets", flt))
    truth = sandbox.ground_truth("Tickets", flt)
    assert len(truth) > 500  # more than one page, so paging is part of what is checked
    df = to_frame(records, fields=meta, labels=True, tz="Europe/Berlin")

    assert len(df) == len(truth)
    assert df["id"].tolist() == [r["id"] for r in truth]
    std = [c for c in df.columns if not c.startswith("udf.") and not c.endswith("_label")]
    assert std == meta.names
    assert [c for c in df.columns if c.startswith("udf.") and not c.endswith("_label")] == [
        "udf." + n for n in meta.udf_names
    ]
    dates = set(meta.date_fields)
    for name in meta.names:
        want = [r.get(name) for r in truth]
        got = df[name]
        if name in dates:
            assert str(got.dt.tz) == "Europe/Berlin"
            want_ts = pd.to_datetime(pd.Series(want, dtype=object), utc=True, format="ISO8601")
            # Compared at one resolution: an all-null column (a published field the seed leaves empty)
            # parses to seconds on one side and microseconds on the other.
            unit = "datetime64[s, UTC]"
            got_utc = got.dt.tz_convert("UTC").astype(unit).reset_index(drop=True)
            assert got_utc.equals(want_ts.astype(unit).reset_index(drop=True)), name
        else:
            assert [None if pd.isna(v) else v for v in got.tolist()] == want, name
    for name in meta.picklist_fields:
        labels = meta.picklist(name)
        got_labels = [None if pd.isna(v) else v for v in df[f"{name}_label"].tolist()]
        assert got_labels == [labels.get(r.get(name)) for r in truth], name
    for udf in meta.udfs:
        want = [
            next((u["value"] for u in (r.get("userDefinedFields") or []) if u["name"] == udf.name), None) for r in truth
        ]
        got = df["udf." + udf.name]
        if udf.kind == "datetime":
            want_ts = pd.to_datetime(pd.Series(want, dtype=object), utc=True, format="ISO8601")
            unit = "datetime64[s, UTC]"  # whole seconds, as every date column (issue 16)
            assert got.dt.tz_convert("UTC").reset_index(drop=True).equals(want_ts.astype(unit)), udf.name
        else:
            # UDF values arrive as text ("4", "20.6400", "Yes"): the column holds them parsed by the UDF's type.
            parse = {"integer": int, "float": float, "boolean": lambda v: v in ("Yes", "True")}.get(udf.kind, str)
            assert [None if pd.isna(v) else v for v in got.tolist()] == [
                None if v is None else parse(v) for v in want
            ], udf.name
            assert any(isinstance(v, str) for v in want if v is not None) or all(v is None for v in want)
