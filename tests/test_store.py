"""Golden store + merge_batch: stable ids, merges, unmerge to the exact prior state, idempotence, deletions.

Every test runs on a SQLite file and on PostgreSQL (a fresh schema per test).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cdq.golden import merge_batch, set_override, split_record, unmerge
from cdq.store import GoldenStore
from cdq.store.schema import MIGRATIONS
from cdq.survivorship import load_rules

RULES = load_rules()


def rec(key, first="Jan", last="Vries", email=None, source="erp", updated="2024-01-01"):
    return {"record_id": f"{source}-{key}", "source": source, "source_key": key, "first_name": first,
            "last_name": last, "email": email, "source_updated_at": updated}


def run(store, rows, clusters, **kw):
    staging = pd.DataFrame(rows)
    cl = pd.DataFrame(clusters, columns=["record_id", "cluster_id"])
    run_id = store.start_run("nightly")
    return merge_batch(staging, cl, store, RULES, run_id, **kw)


def state(store):
    """Everything unmerge must restore: golden values/lineage/status and each record's link."""
    golden = store.table("golden_records")[["golden_id", "status", "merged_into", "data", "lineage"]]
    xref = store.table("xref")[["source_record_id", "golden_id", "match_score", "rule"]]
    return (golden.sort_values("golden_id").reset_index(drop=True),
            xref.sort_values("source_record_id").reset_index(drop=True))


def golden_of(store, ref):
    src = store.table("source_records").set_index("ref")["id"]
    return store.table("xref").set_index("source_record_id").loc[int(src[ref]), "golden_id"]


def test_new_clusters_get_monotonic_ids_and_same_batch_twice_is_a_noop(store_url):
    store = GoldenStore(store_url)
    rows = [rec("1"), rec("2", first="Jan"), rec("3", first="Piet", last="Bakker")]
    clusters = [("erp-1", "a"), ("erp-2", "a"), ("erp-3", "b")]
    first = run(store, rows, clusters)
    assert sorted(first.golden["golden_id"]) == ["G0000001", "G0000002"]
    assert first.counts["records_new"] == 3
    before = state(store)
    again = run(store, rows, clusters)
    assert again.counts["records_unchanged"] == 3 and again.golden.empty and again.merges.empty
    after = state(store)
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])
    assert store.table("golden_versions").shape[0] == 2


def test_changed_record_resurvives_only_its_golden_record(store_url):
    store = GoldenStore(store_url)
    run(store, [rec("1", email="a@x.nl"), rec("2", first="Piet")], [("erp-1", "a"), ("erp-2", "b")])
    result = run(store, [rec("1", email="new@x.nl", updated="2024-02-01")], [("erp-1", "z")])
    assert result.counts["records_changed"] == 1
    assert result.golden["golden_id"].tolist() == ["G0000001"]
    assert result.golden.loc[0, "email"] == "new@x.nl" and result.golden.loc[0, "version"] == 2
    lineage = json.loads(store.table("golden_records").set_index("golden_id").loc["G0000001", "lineage"])
    assert ["email", "new@x.nl", "erp|1", "only_candidate"] in lineage


def test_merge_keeps_oldest_id_and_unmerge_restores_exact_prior_state(store_url):
    store = GoldenStore(store_url)
    run(store, [rec("1", email="jan@x.nl"), rec("2", first="Jan", email="j@work.nl", source="crm")],
        [("erp-1", "a"), ("crm-2", "b")])
    set_override(store, "G0000002", "email", "steward@x.nl", "piet", RULES)  # must come back too
    run(store, [rec("1", email="jan@x.nl"), rec("2", email="j@work.nl", source="crm")],
        [("erp-1", "a"), ("crm-2", "b")])
    prior = state(store)
    merged = run(store, [rec("3", first="Jan", source="excel"), rec("1", email="jan@x.nl"),
                         rec("2", email="j@work.nl", source="crm")],
                 [("excel-3", "m"), ("erp-1", "m"), ("crm-2", "m")],
                 pairs=pd.DataFrame({"record_id_l": ["excel-3"], "record_id_r": ["erp-1"],
                                     "match_probability": [0.97]}))
    assert merged.merges.values.tolist() == [["G0000002", "G0000001"]]
    assert store.resolve("G0000002") == "G0000001"
    assert golden_of(store, "crm|2") == golden_of(store, "excel|3") == "G0000001"
    xref = store.table("xref").set_index("source_record_id")
    assert xref["match_score"].max() == pytest.approx(0.97)
    survivor = json.loads(store.table("golden_records").set_index("golden_id").loc["G0000001", "data"])
    assert survivor["email"] == "steward@x.nl"  # the retired record's steward value moved along
    unmerge(store, "G0000002", RULES)
    golden_now, xref_now = state(store)
    golden_prior, xref_prior = prior
    # the record that arrived with the merge stays with the survivor; everything else is as before
    excel_id = int(store.table("source_records").set_index("ref").loc["excel|3", "id"])
    pd.testing.assert_frame_equal(golden_now[golden_now.golden_id == "G0000002"].reset_index(drop=True),
                                  golden_prior[golden_prior.golden_id == "G0000002"].reset_index(drop=True))
    pd.testing.assert_frame_equal(xref_now[xref_now.source_record_id != excel_id].reset_index(drop=True),
                                  xref_prior, check_dtype=False)
    kinds = store.events()["kind"].tolist()
    assert kinds == ["merge", "unmerge"]


def test_merge_then_unmerge_without_new_records_is_exact(store_url):
    store = GoldenStore(store_url)
    rows = [rec("1", email="jan@x.nl"), rec("2", email="j@work.nl", source="crm")]
    run(store, rows, [("erp-1", "a"), ("crm-2", "b")])
    prior = state(store)
    run(store, rows, [("erp-1", "m"), ("crm-2", "m")])
    assert state(store)[0].set_index("golden_id").loc["G0000002", "status"] == "retired"
    unmerge(store, "G0000002", RULES)
    now = state(store)
    pd.testing.assert_frame_equal(now[0], prior[0])
    pd.testing.assert_frame_equal(now[1], prior[1])
    again = run(store, rows, [("erp-1", "m"), ("crm-2", "m")])  # pinned: the split sticks
    assert again.merges.empty


def test_deleted_source_records_policy(store_url):
    store = GoldenStore(store_url)
    run(store, [rec("1", email="a@x.nl"), rec("2", email="b@x.nl", updated="2025-01-01"), rec("3", first="Piet")],
        [("erp-1", "a"), ("erp-2", "a"), ("erp-3", "b")])
    assert store.table("golden_records").set_index("golden_id").loc["G0000001", "data"].count("b@x.nl")
    result = run(store, [rec("1", email="a@x.nl")], [("erp-1", "a")], full_sources=["erp"])
    golden = store.table("golden_records").set_index("golden_id")
    assert json.loads(golden.loc["G0000001", "data"])["email"] == "a@x.nl"
    assert golden.loc["G0000002", "status"] == "deleted"
    assert set(result.golden["golden_id"]) == {"G0000001", "G0000002"}
    back = run(store, [rec("1", email="a@x.nl"), rec("3", first="Piet")], [("erp-1", "a"), ("erp-3", "b")])
    assert store.table("golden_records").set_index("golden_id").loc["G0000002", "status"] == "active"
    assert back.counts["records_changed"] == 1


def test_unmerge_of_unknown_id_is_a_usage_error(store_url):
    from cdq.errors import UsageError

    store = GoldenStore(store_url)
    with pytest.raises(UsageError, match="G0000009 was not merged"):
        unmerge(store, "G0000009", RULES)


def test_schema_is_migrated_once(store_url):
    GoldenStore(store_url)
    store = GoldenStore(store_url)
    assert store.table("_cdq_migrations")["name"].tolist() == [name for name, _ in MIGRATIONS]
    assert GoldenStore(store_url).table("_cdq_migrations")["name"].tolist() == [name for name, _ in MIGRATIONS]


def test_steward_override_wins_until_removed(store_url):
    store = GoldenStore(store_url)
    run(store, [rec("1", email="a@x.nl")], [("erp-1", "a")])
    result = set_override(store, "G0000001", "email", "steward@x.nl", "piet", RULES)
    assert result.golden.loc[0, "email"] == "steward@x.nl"
    run(store, [rec("1", email="b@x.nl", updated="2025-01-01")], [("erp-1", "a")])  # the source changes
    data = store.table("golden_records").set_index("golden_id").loc["G0000001", "data"]
    assert json.loads(data)["email"] == "steward@x.nl"
    result = set_override(store, "G0000001", "email", None, "piet", RULES)
    assert result.golden.loc[0, "email"] == "b@x.nl"


def test_split_record_takes_one_record_out_and_a_rerun_keeps_it_apart(store_url):
    store = GoldenStore(store_url)
    rows = [rec("1", email="jan@x.nl"), rec("2", first="Piet", email="piet@x.nl", source="crm"),
            rec("3", email="jan@x.nl", source="excel")]
    together = [("erp-1", "m"), ("crm-2", "m"), ("excel-3", "m")]
    run(store, rows, together)
    assert golden_of(store, "crm|2") == golden_of(store, "erp|1") == "G0000001"
    result = split_record(store, "crm|2", RULES)
    new = result.xref["golden_id"].iloc[0]
    assert new != "G0000001" and golden_of(store, "crm|2") == new
    data = store.table("golden_records").set_index("golden_id")["data"].map(json.loads)
    assert data[new]["first_name"] == "Piet" and data["G0000001"]["first_name"] == "Jan"
    # the same night again, with the linkage still putting all three together: the split holds
    run(store, rows, together)
    assert golden_of(store, "crm|2") == new and golden_of(store, "excel|3") == "G0000001"
    assert store.events()["kind"].tolist() == ["split"]


@pytest.mark.parametrize("ref,message", [("crm|404", "no stored source record"), ("erp|1", "nothing to split off")])
def test_split_record_refuses_unknown_or_lone_records(store_url, ref, message):
    from cdq.errors import UsageError

    store = GoldenStore(store_url)
    run(store, [rec("1")], [("erp-1", "a")])
    with pytest.raises(UsageError, match=message):
        split_record(store, ref, RULES)
