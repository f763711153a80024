"""``cdq.linkage.few.FewColumns``: the per-column arrays of a small frame from plain Python, equal to
``Columns``' (pandas) arrays, and so equal comparison levels and vetoes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdq.linkage import load_settings
from cdq.linkage.compare import Columns, compare
from cdq.linkage.few import FEW_ROWS, FewColumns, use_few_columns
from cdq.linkage.measures import _plain
from cdq.linkage.prepare import prepare
from cdq.linkage.vetoes import vetoes
from cdq.synthetic import generate_records

DERIVED = {"stem3": lambda v: v.where(v.str.len() >= 3).str[:3], "end3": lambda v: v.where(v.str.len() >= 3).str[-3:],
           "prefix4": lambda v: v.str[:4], "long6": lambda v: v.where(v.str.len() >= 6),
           "edge_start3": lambda v: v.where(v.str.len() >= 8).str[:3], "edge_end3": lambda v: v.where(v.str.len() >= 8).str[-3:]}


@pytest.fixture(scope="module")
def prepared() -> pd.DataFrame:
    # synthetic Dutch customers with duplicates (typos, swaps, partial dates, missing values) and a few odd rows
    records = generate_records(600, seed=3).drop(columns=["entity_id"])
    odd = pd.DataFrame([{"first_name": "Ed", "last_name": "de la Cruz", "birth_date": "1980"},
                        {"first_name": "Jo", "initials": "J.P.", "birth_date": "1975-03"},
                        {"company_name": "Bakkerij Jansen B.V.", "email": "info@bakkerij-jansen.nl"},
                        {"last_name": "Pocknee"}])
    return prepare(pd.concat([records, odd], ignore_index=True))


def _copy(prepared: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    return prepared.iloc[rows].reset_index(drop=True)


def test_every_array_equals_the_pandas_one(prepared):
    rng = np.random.default_rng(0)
    for _ in range(5):
        rows = rng.choice(len(prepared), 200, replace=False)
        rows[-4:] = np.arange(len(prepared) - 4, len(prepared))  # the odd rows in every sample
        batch, few = Columns(_copy(prepared, rows)), FewColumns(_copy(prepared, rows))
        for column in prepared.columns:
            if prepared[column].dtype != object:
                continue
            assert np.array_equal(batch.codes(column), few.codes(column)), column
            assert np.array_equal(batch.text(column), few.text(column)), column
            assert np.array_equal(batch.text(f"{column}_distinct_or_empty"), few.text(f"{column}_distinct_or_empty")), column
            assert np.array_equal(batch.spaced(column), few.spaced(column)), column
            assert np.array_equal(batch.first_letter(column), few.first_letter(column)), column
            for name, fn in DERIVED.items():
                assert np.array_equal(batch.derived_codes(column, name, fn), few.derived_codes(column, name, fn)), name
        plain2 = lambda v: v.map(_plain, na_action="ignore").str[:2]  # noqa: E731 - as _truncation asks
        assert np.array_equal(batch.derived_codes("first_name", "plain2", plain2),
                              few.derived_codes("first_name", "plain2", plain2))
        for a, b in zip(batch.date_parts() + batch.any_date_parts(), few.date_parts() + few.any_date_parts()):
            assert np.array_equal(a, b)
    # the sample has what the arrays are about: partial dates, double surnames, missing values
    assert prepared["birth_partial"].notna().any() and prepared["surname_core"].str.contains(" ", na=False).any()


def test_an_unknown_derivation_goes_through_pandas(prepared):
    few = FewColumns(_copy(prepared, np.arange(50)))
    fn = lambda v: v.str[1:3]  # noqa: E731
    assert np.array_equal(few.derived_codes("surname_core", "middle2", fn),
                          Columns(_copy(prepared, np.arange(50))).derived_codes("surname_core", "middle2", fn))


def test_comparison_levels_and_vetoes_equal_batch(prepared):
    s = load_settings()
    rng = np.random.default_rng(1)
    for _ in range(4):
        rows = rng.choice(len(prepared), 300, replace=False)
        # one record against the others (the service's shape) and random pairs (several records at once),
        # and the true duplicates of the sample: every level is reached
        one = (np.zeros(299, dtype=np.int64), np.arange(1, 300, dtype=np.int64))
        pairs = (rng.integers(0, 300, 600), rng.integers(0, 300, 600))
        for l, r in (one, pairs):
            plain, fast = _copy(prepared, rows), _copy(prepared, rows)
            assert isinstance(use_few_columns(fast), FewColumns) and Columns.of(fast).__class__ is FewColumns
            v_plain, v_fast = compare(plain, l, r, s), compare(fast, l, r, s)
            pd.testing.assert_frame_equal(v_plain, v_fast)
            assert np.array_equal(vetoes(v_plain, s, plain, l, r), vetoes(v_fast, s, fast, l, r))
    entity = generate_records(600, seed=3)["entity_id"].to_numpy()
    l, r = np.nonzero(np.triu(entity[:, None] == entity[None, :], 1))
    plain, fast = prepared.iloc[:600].reset_index(drop=True), prepared.iloc[:600].reset_index(drop=True)
    use_few_columns(fast)
    v_plain, v_fast = compare(plain, l, r, s), compare(fast, l, r, s)
    pd.testing.assert_frame_equal(v_plain, v_fast)
    assert len(l) > 50 and (v_plain["first_name"] == 4).any() and (v_plain["birth_date"] == 6).any()


def test_a_large_frame_keeps_the_pandas_columns(prepared):
    big = pd.concat([prepared] * (FEW_ROWS // len(prepared) + 1), ignore_index=True)
    assert type(use_few_columns(big)) is Columns


def test_the_service_path_equals_the_batch_path_levels_vetoes_and_scores(shared_data):
    """The service's path: prepared rows as the match index stores them (JSON), their columns in plain Python
    (:meth:`FewColumns.of_rows`, never a frame), levels as arrays, vetoes on those columns and weights as
    arrays. The batch path: the prepared frame, pandas' columns, the comparison frame, the score frame. Equal
    on every level, veto, weight, total and probability, with term-frequency bits, on persons and
    organisations with duplicates, missing values, partial dates and real organisation names."""
    import json

    from cdq.leads.index import MatchIndex
    from cdq.linkage import dedupe
    from cdq.linkage.compare import compare_levels
    from cdq.linkage.model import score, score_levels, tf_adjustments

    s = load_settings()
    records = generate_records(600, seed=5).drop(columns=["entity_id"])
    firms = pd.read_csv(shared_data / "patstat_nl" / "records.csv", nrows=60)["applicant_name"].str.strip("* ")
    odd = pd.DataFrame([{"first_name": "Ed", "last_name": "de la Cruz", "birth_date": "1980"},
                        {"first_name": "Jo", "initials": "J.P.", "birth_date": "1975-03"},
                        {"first_name": "Jo", "initials": "J.P.", "birth_date": "1975-02-30"},
                        {"company_name": "Bakkerij Jansen B.V.", "email": "info@bakkerij-jansen.nl"},
                        {"last_name": "Pocknee"}, {}])
    frame = pd.concat([records, pd.DataFrame({"company_name": firms}), odd], ignore_index=True)
    frame["record_id"] = np.arange(len(frame)).astype(str)
    model = dedupe(frame, s).model
    prepared = prepare(frame.drop(columns=["record_id"]), s.extras)
    index = MatchIndex(None, s, model)  # type: ignore[arg-type]  # only its row format: no store needed
    rows = [json.loads(data) for data in index._rows_data(prepared)]
    rng = np.random.default_rng(2)
    n = len(frame)
    entity = generate_records(600, seed=5)["entity_id"].to_numpy()
    dup_l, dup_r = np.nonzero(np.triu(entity[:, None] == entity[None, :], 1))
    one = (np.zeros(n - 1, dtype=np.int64), np.arange(1, n, dtype=np.int64))  # one record against all (the service)
    random = (rng.integers(0, n, 3000), rng.integers(0, n, 3000))
    vetoed = tf_pairs = 0
    for l, r in ((dup_l, dup_r), one, random):
        batch = compare(prepared, l, r, s)
        tf = {c: tf_adjustments(model, c, batch[c].to_numpy(), Columns.of(prepared).codes(s.tf_column(c)), l,
                                (s.tf_min_weight, s.tf_max_weight)) for c in s.tf_comparisons}
        few = FewColumns.of_rows(index.columns, rows)
        levels = compare_levels(few, l, r, s)
        assert list(levels) == list(batch.columns)
        for name in batch.columns:
            assert np.array_equal(levels[name], batch[name].to_numpy()), name
        veto = vetoes(batch, s, prepared, l, r)
        assert np.array_equal(vetoes(levels, s, few, l, r), veto)
        scored, fast = score(model, batch, tf), score_levels(model, levels, tf)
        assert list(fast) == list(scored.columns)
        for name in scored.columns:
            assert np.array_equal(fast[name], scored[name].to_numpy()), name
        vetoed += int(veto.sum())
        tf_pairs += int(sum(np.count_nonzero(t) for t in tf.values()))
    assert vetoed > 50 and tf_pairs > 50
    assert prepared["company_key"].notna().sum() > 100 and prepared["birth_partial"].notna().any()


@pytest.mark.parametrize("share", [Columns.of, use_few_columns], ids=["Columns.of", "use_few_columns"])
def test_the_shared_columns_do_not_keep_their_frame_alive(prepared, share):
    """One process compares many frames (a Spark Python worker: every batch; ``cdq serve``: every request). The
    shared instance must go with its frame: the process-wide cache held every frame ever compared (a Spark
    worker grew to 3.9 GB at 1M records)."""
    import gc
    import weakref

    frame = _copy(prepared, np.arange(50))
    ref, key = weakref.ref(frame), id(frame)
    cols = share(frame)
    assert cols.codes("first_name").shape == (50,) and Columns.of(frame) is cols
    del frame, cols
    gc.collect()
    assert ref() is None
    assert key not in Columns._cache
