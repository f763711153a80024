"""The one-record match path (``cdq.leads.index``): a blocking index in the store's tables, candidates prepared
once at index time, scores equal to batch linkage's for the same pairs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from helpers import nightly

from cdq.golden import PAYLOAD_COLUMNS
from cdq.leads.index import MatchIndex, match_one
from cdq.linkage import compare_pairs, dedupe, load_settings
from cdq.linkage.prepare import prepare, prepare_one
from cdq.store import GoldenStore
from cdq.store.online import match_index_state, match_keys, match_prepared
from cdq.store.schema import source_records
from cdq.synthetic import generate_records

#: Batch scores without term-frequency adjustments: a pair's tf bits come from its file's (or the store's)
#: value counts, which a batch run over two records and the store do not share.
PLAIN = replace(load_settings(), tf_comparisons=frozenset())


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[GoldenStore, pd.DataFrame]:
    folder: Path = tmp_path_factory.mktemp("index")
    store = GoldenStore(f"sqlite:///{folder / 'golden.sqlite'}")
    records = generate_records(600, seed=21, duplicate_rate=0.0).drop(columns=["entity_id"])
    records["source"], records["source_key"] = "erp", records["record_id"].astype(str)
    nightly(store, records)
    return store, records


def _queries(records: pd.DataFrame) -> list[dict]:
    """Stored customers retyped: a dropped letter, another e-mail, a nickname; and a stranger."""
    out = []
    for i, row in enumerate(records.head(40).to_dict("records")):
        q = {k: v for k, v in row.items() if k in PAYLOAD_COLUMNS and isinstance(v, str) and v}
        if i % 3 == 0 and q.get("last_name"):
            q["last_name"] = q["last_name"][:-1]
        if i % 3 == 1:
            q.pop("email", None)
        out.append(q)
    out.append({"first_name": "Xerxes", "last_name": "Qwertyuiop", "postcode": "9999 ZZ", "house_number": "1"})
    return out


def test_match_one_scores_equal_batch_linkage_for_the_same_pairs(stored):
    store, records = stored
    model = dedupe(records, PLAIN).model
    index = MatchIndex(store, PLAIN, model)
    index.refresh()
    with store.engine.connect() as conn:
        by_ref = {ref: json.loads(p) for ref, p in conn.execute(sa.select(source_records.c.ref, source_records.c.payload))}
    checked = 0
    for query in _queries(records):
        found = match_one(query, index, limit=5)
        for candidate in found:
            row = by_ref[candidate.source_ref]
            right = pd.DataFrame([{**{c: row.get(c) for c in PAYLOAD_COLUMNS}, "record_id": "stored"}])
            left = pd.DataFrame([{**{c: query.get(c) for c in PAYLOAD_COLUMNS}, "record_id": "query"}])
            batch = compare_pairs(left, right, model, PLAIN).iloc[0]
            assert candidate.match_probability == pytest.approx(float(batch["match_probability"]), abs=1e-6)
            assert candidate.match_weight == pytest.approx(float(batch["match_weight"]), abs=1e-4)
            assert candidate.decision == batch["decision"]
            for name, part in candidate.explanation.items():
                assert part["level"] == str(batch[f"{name}_level"]), name
                assert part["weight"] == pytest.approx(float(batch[f"{name}_weight"]), abs=1e-3), name
            checked += 1
    assert checked >= 30
    firsts = [match_one(q, index, limit=1) for q in _queries(records)[:40]]
    assert sum(1 for f in firsts if f and f[0].decision == "match") >= 30  # the retyped customers are found
    assert match_one(_queries(records)[-1], index) == [] or match_one(_queries(records)[-1], index)[0].decision != "match"


def test_the_index_stores_each_records_prepared_values_and_keys(stored):
    store, records = stored
    index = MatchIndex(store, PLAIN)
    index.refresh()
    with store.engine.connect() as conn:
        data = dict(conn.execute(match_prepared.select()).all())
        keys = conn.execute(match_keys.select()).all()
        refs = dict(conn.execute(sa.select(source_records.c.id, source_records.c.ref)).all())
    assert len(data) == len(records) and len(keys) > len(records)
    rows = {i: json.loads(d) for i, d in data.items()}
    assert {i: row.pop() for i, row in rows.items()} == refs  # each row ends with its record's ref
    frame = index.frame(list(rows.values()))
    assert list(frame.columns) == list(prepare(records.head(1)).columns)
    assert frame.dtypes.equals(prepare(records.head(50)).dtypes)
    # the one-record keys are the ones the index holds for that record
    first = records.iloc[0].to_dict()
    block, tf = index.record_keys(prepare_one({c: first.get(c) for c in PAYLOAD_COLUMNS}))
    _, texts = index.key_texts(pd.DataFrame([{c: first.get(c) for c in PAYLOAD_COLUMNS}]))
    assert sorted(block + list(tf.values())) == sorted(texts)


def test_an_index_of_another_format_is_rebuilt(stored):
    store, records = stored
    index = MatchIndex(store, PLAIN)
    index.refresh()
    with store.begin() as conn:
        conn.execute(match_index_state.update().where(match_index_state.c.name == "format").values(value=1))
        conn.execute(match_prepared.delete())
        conn.exec_driver_sql("CREATE INDEX ix_match_keys_key_hash ON match_keys (key_hash)")  # version 2's index
    assert index.refresh() == len(records)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(match_prepared)).scalar() == len(records)
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("match_keys")}
        assert "ix_match_keys_key_record" in indexes and "ix_match_keys_key_hash" not in indexes
        # a key's records come from the covering index alone, without a table lookup per row
        plan = " ".join(str(r) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT source_record_id FROM match_keys WHERE key_hash = 1 LIMIT 5"))
        assert "COVERING INDEX ix_match_keys_key_record" in plan
    assert np.isfinite(match_one(_queries(records)[0], index)[0].match_probability)


def test_records_matched_together_get_the_answers_they_get_alone(stored):
    """``match_many`` compares several records' pairs in one call (the service batches requests): each record
    gets exactly its own ``match_one`` answer, tf adjustments included."""
    from cdq.leads.index import match_many

    store, records = stored
    index = MatchIndex(store)  # the default settings: term-frequency adjustments on
    index.refresh()
    queries = _queries(records)[:12] + [{}, _queries(records)[-1]]  # an empty record and a stranger among them
    alone = [match_one(q, index, limit=3) for q in queries]
    together = match_many(queries, index, limit=3)
    assert together == alone
    assert sum(1 for found in alone if found) >= 10 and alone[-2] == []


def test_a_blocking_key_shared_by_too_many_records_is_skipped(stored):
    """A key whose block is larger than ``key_limit`` adds no candidates (as batch blocking skips a block it
    cannot refine); the record's other keys still find its candidates."""
    store, records = stored
    row = {k: v for k, v in records.iloc[0].to_dict().items() if k in PAYLOAD_COLUMNS and isinstance(v, str) and v}
    index = MatchIndex(store, PLAIN)
    index.refresh()
    block, _ = index.record_keys(prepare_one({c: row.get(c) for c in PAYLOAD_COLUMNS}))
    with store.engine.connect() as conn:
        everything = index.candidates(conn, block)
        index.key_limit = 1  # every key shared by two or more records is now "too common"
        rare = index.candidates(conn, block)
    # only keys no other record shares are left: they find the stored record itself (the one sharing most keys)
    assert len(everything) > len(rare) == 1 and rare[0] == everything[0]


def test_term_frequency_counts_are_kept_until_the_store_or_index_changes(tmp_path):
    """:meth:`MatchIndex.frequencies` keeps counts per index state: equal to counting the index's rows, and
    counted again once a nightly run adds records with the same value (and not inside a write transaction)."""
    store = GoldenStore(f"sqlite:///{tmp_path / 'golden.sqlite'}")
    records = generate_records(150, seed=4, duplicate_rate=0.0).drop(columns=["entity_id"])
    records["source"], records["source_key"] = "erp", records["record_id"].astype(str)
    nightly(store, records)
    index = MatchIndex(store, load_settings())
    index.refresh()
    row = {k: v for k, v in records.iloc[0].to_dict().items() if k in PAYLOAD_COLUMNS and isinstance(v, str) and v}
    _, tf = index.record_keys(prepare_one({c: row.get(c) for c in PAYLOAD_COLUMNS}))
    assert "surname_core" in tf

    def counted() -> dict[str, int]:
        with store.engine.connect() as conn:
            return {c: conn.execute(sa.select(sa.func.count()).select_from(match_keys).where(
                match_keys.c.key_hash == int(pd.util.hash_array(np.array([t], dtype=object), categorize=False)
                                             .view(np.int64)[0]))).scalar() for c, t in tf.items()}

    with store.engine.connect() as conn:
        first, total = index.frequencies(conn, tf)
        assert (first, total) == index.frequencies(conn, tf) and index._tf_counts  # the second from the cache
    assert first == counted() and total == 150 and first["surname_core"] >= 1
    more = records.iloc[[0] * 5].copy()  # five more customers named so (other refs)
    more["record_id"] = more["source_key"] = [f"extra{i}" for i in range(5)]
    nightly(store, more.reset_index(drop=True))
    index.refresh()
    with store.engine.connect() as conn:
        after, total = index.frequencies(conn, tf)
    assert after == counted() and after["surname_core"] == first["surname_core"] + 5 and total == 155
    with store.begin() as conn:  # a write transaction neither reads nor fills the kept counts
        kept = index._tf_counts
        assert index.frequencies(conn, tf)[0] == after and index._tf_counts is kept


def test_erasing_a_customer_removes_its_rows_from_the_index(tmp_path):
    """The index keeps each record's prepared values and ref (personal data): an erasure removes them at once."""
    from cdq.privacy.erase import erase_golden
    from cdq.store.schema import xref

    store = GoldenStore(f"sqlite:///{tmp_path / 'golden.sqlite'}")
    records = generate_records(60, seed=5, duplicate_rate=0.0).drop(columns=["entity_id"])
    records["source"], records["source_key"] = "erp", records["record_id"].astype(str)
    nightly(store, records)
    MatchIndex(store, PLAIN).refresh()
    with store.engine.connect() as conn:
        golden_id, member = conn.execute(sa.select(xref.c.golden_id, xref.c.source_record_id).limit(1)).one()
    with store.begin() as conn:
        erase_golden(store, conn, [golden_id], tombstone=False)
    with store.engine.connect() as conn:
        for table in (match_keys, match_prepared):
            left = sa.select(sa.func.count()).select_from(table).where(table.c.source_record_id == member)
            assert conn.execute(left).scalar() == 0, table.name
        assert conn.execute(sa.select(sa.func.count()).select_from(match_prepared)).scalar() == len(records) - 1
