"""`cdq explain GOLDEN_ID`, `cdq why REF_A REF_B` and the run report's "what changed tonight"."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.explain import explain_golden, why
from cdq.golden import merge_batch
from cdq.reporting import render_run_report
from cdq.reporting.changes import run_changes
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

runner = CliRunner()
ROWS = [
    ("erp", "K1", "J.", None, "Bakker", "M", "1970-03-04", "1234 AB", "1", "jan.bakker@x.nl", "a"),
    ("xls", "A7", "J.", "Jan", "Bakker", None, "1970-03-04", "1234 AB", "1", None, "a"),
    ("erp", "K2", "P.", "Petra", "Smit", "F", "1980-01-02", "9711 LM", "5", None, "b"),
]


def batch(rows=ROWS) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.DataFrame([r[:-1] for r in rows], columns=["source", "source_key", "initials", "first_name",
                                                          "last_name", "gender", "birth_date", "postcode",
                                                          "house_number", "email"])
    frame.insert(0, "record_id", [f"r{i}" for i in range(len(frame))])
    return frame, pd.DataFrame({"record_id": frame["record_id"], "cluster_id": [r[-1] for r in rows]})


@pytest.fixture()
def store(tmp_path) -> GoldenStore:
    store = GoldenStore(f"sqlite:///{tmp_path / 'golden.sqlite'}")
    frame, clusters = batch()
    merge_batch(frame, clusters, store, load_rules(), store.start_run("test"))
    return store


def test_explain_names_source_and_rule_of_every_value_and_why_members_matched(store):
    gid = store.table("xref").sort_values("source_record_id")["golden_id"].iloc[0]
    found = explain_golden(store, gid)
    values = found.values.set_index("column")
    assert values.loc["first_name", ["value", "record", "rule"]].tolist() == ["Jan", "xls|A7", "most_complete"]
    assert values.loc["email", "source"] == "erp" and values.loc["birth_date", "rule"] == "all_agree"
    assert sorted(found.members["ref"]) == ["erp|K1", "xls|A7"] and set(found.members["rule"]) == {"linkage"}
    pair = found.pairs.iloc[0]
    assert {pair["ref_a"], pair["ref_b"]} == {"erp|K1", "xls|A7"}
    assert "birth_date: exact" in pair["explanation"] and pair["match_probability"] > 0.5


def test_why_gives_each_fields_level_and_weight(store):
    table = why(store, "erp|K1", "erp|K2").set_index("field")
    assert table.loc["birth_date", "level"] == "different" and table.loc["birth_date", "weight"] < 0
    assert table.loc["decision", "level"].startswith("non_match")
    result = runner.invoke(app, ["why", "erp|K1", "xls|A7", "--store", store.url])
    assert result.exit_code == 0 and "birth_date" in result.output and "probability" in result.output
    missing = runner.invoke(app, ["why", "erp|K1", "erp|NOPE", "--store", store.url])
    assert missing.exit_code == 2 and "no stored source record 'erp|NOPE'" in missing.output


def test_explain_cli_and_unknown_id(store):
    gid = store.table("xref").sort_values("source_record_id")["golden_id"].iloc[0]
    result = runner.invoke(app, ["explain", gid, "--store", store.url])
    assert result.exit_code == 0 and "most_complete" in result.output and "member records" in result.output
    unknown = runner.invoke(app, ["explain", "G9999999", "--store", store.url])
    assert unknown.exit_code == 2 and "no golden record" in unknown.output


def test_what_changed_tonight_lists_changes_by_column_without_values(store):
    rows = [(*ROWS[0][:9], "jan@nieuw.nl", "a"), ROWS[1], ROWS[2]]
    frame, clusters = batch(rows)
    run = store.start_run("night")
    merge_batch(frame, clusters, store, load_rules(), run)
    changes = run_changes(store, run)
    assert changes[["change", "columns"]].values.tolist() == [["updated", "all_emails, email"]]
    html = render_run_report(changes=changes)
    assert "What changed tonight" in html and "all_emails, email" in html and "jan@nieuw.nl" not in html
