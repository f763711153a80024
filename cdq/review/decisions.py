"""Steward decisions on record pairs, kept in the golden store's ``review_decisions`` table.

A decision is keyed by the UNORDERED pair of stable record refs (``source|source_key``, else
``source|file#row``, see :func:`cdq.golden.record_refs`), so it survives reruns where record ids change.
:func:`apply_decisions` forces decided pairs to ``match``/``non_match`` (the model never overrides a
steward) and :func:`recluster` rebuilds clusters with steward matches as must-links and steward
non-matches as cannot-links.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cdq.errors import UsageError
from cdq.review.tables import DECISION_COLUMNS, DECISIONS, review_decisions

logger = logging.getLogger(__name__)

#: A steward's match outranks any model weight when clustering.
STEWARD_WEIGHT = 1e6


def pair_key(ref_l: pd.Series, ref_r: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The unordered pair as (smaller ref, larger ref).

    Examples:
        >>> a, b = pair_key(pd.Series(["x|2", "x|1"]), pd.Series(["x|1", "x|3"]))
        >>> list(zip(a, b))
        [('x|1', 'x|2'), ('x|1', 'x|3')]
    """
    l, r = ref_l.astype(str), ref_r.astype(str)
    swap = l > r
    return l.where(~swap, r), r.where(~swap, l)


def _engine(store_url: str) -> sa.Engine:
    from cdq.store.schema import migrate

    try:
        engine = sa.create_engine(store_url)
        migrate(engine)
    except (sa.exc.ArgumentError, sa.exc.OperationalError, ImportError) as e:
        from cdq.store import masked_url

        raise UsageError(f"cannot open golden store {masked_url(store_url)}: {type(e).__name__}",
                         hint="use a SQLAlchemy URL like sqlite:///golden.sqlite") from e
    return engine


def save_decisions(store_url: str, decisions: pd.DataFrame) -> int:
    """Upsert decisions (:data:`DECISION_COLUMNS`); a later decision on the same pair replaces the earlier."""
    if decisions.empty:
        return 0
    bad = sorted(set(decisions["decision"]) - set(DECISIONS))
    if bad:
        raise UsageError(f"unknown decision(s) {bad}; use {', '.join(DECISIONS)}")
    a, b = pair_key(decisions["ref_a"], decisions["ref_b"])
    rows = decisions.assign(ref_a=a, ref_b=b).drop_duplicates(["ref_a", "ref_b"], keep="last")
    rows = rows.reindex(columns=DECISION_COLUMNS).astype(object).where(rows.notna(), None).to_dict("records")
    engine = _engine(store_url)
    with engine.begin() as conn:
        for row in rows:
            conn.execute(review_decisions.delete().where(
                (review_decisions.c.ref_a == row["ref_a"]) & (review_decisions.c.ref_b == row["ref_b"])))
        conn.execute(review_decisions.insert(), rows)
    engine.dispose()
    logger.info("review: %d decisions stored", len(rows))
    return len(rows)


def load_decisions(store_url: str) -> pd.DataFrame:
    """Every stored decision: ``ref_a, ref_b, decision, decided_by, decided_at, workbook``."""
    engine = _engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(review_decisions)).all()
    engine.dispose()
    return pd.DataFrame([tuple(r) for r in rows], columns=DECISION_COLUMNS)


def _refs(records: pd.DataFrame) -> pd.Series:
    from cdq.golden import record_refs

    return pd.Series(record_refs(records).to_numpy(), index=records["record_id"].astype(str).to_numpy())


def apply_decisions(pairs: pd.DataFrame, decisions: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """``pairs`` with steward decisions forced; decided pairs the model did not score are appended.

    Adds ``steward_decision`` (match / non_match / None). A decided pair leaves the review band for good.

    Args:
        pairs: linkage pairs (``record_id_l, record_id_r, decision, ...``).
        decisions: :func:`load_decisions`.
        records: the run's records (``record_id`` plus lineage columns, to compute the stable refs).
    """
    refs = _refs(records)
    out = pairs.copy()
    out["decision"] = out["decision"].astype(object)
    out["steward_decision"] = None
    if decisions.empty:
        return out
    a, b = pair_key(out["record_id_l"].astype(str).map(refs), out["record_id_r"].astype(str).map(refs))
    stored = decisions.set_index(["ref_a", "ref_b"])["decision"]
    found = pd.Series(list(zip(a, b)), index=out.index).map(stored.to_dict())
    out.loc[found.notna(), "steward_decision"] = found[found.notna()]
    out.loc[found.notna(), "decision"] = found[found.notna()]
    extra = _unscored(decisions, refs, set(zip(a, b)))
    logger.info("review: %d pairs decided by a steward (%d not scored this run)", int(found.notna().sum()),
                len(extra))
    return pd.concat([out, extra], ignore_index=True) if len(extra) else out


def _unscored(decisions: pd.DataFrame, refs: pd.Series, scored: set) -> pd.DataFrame:
    """Decided pairs whose two records are both in this run but that blocking did not produce."""
    ids = pd.Series(refs.index, index=refs.to_numpy())
    ids = ids[~ids.index.duplicated()]
    present = decisions[decisions["ref_a"].isin(ids.index) & decisions["ref_b"].isin(ids.index)]
    present = present[[(x, y) not in scored for x, y in zip(present["ref_a"], present["ref_b"])]]
    return pd.DataFrame({"record_id_l": present["ref_a"].map(ids).to_numpy(),
                         "record_id_r": present["ref_b"].map(ids).to_numpy(),
                         "decision": present["decision"].to_numpy(), "steward_decision": present["decision"].to_numpy()})


def recluster(pairs: pd.DataFrame, record_ids: pd.Series) -> pd.DataFrame:
    """Clusters (``record_id, cluster_id``) from match pairs, steward matches first, steward non-matches split.

    Examples:
        >>> p = pd.DataFrame({"record_id_l": ["a", "b"], "record_id_r": ["b", "c"], "match_weight": [9.0, 3.0],
        ...                   "decision": ["match", "match"], "steward_decision": [None, None]})
        >>> recluster(p, pd.Series(["a", "b", "c", "d"]))["cluster_id"].tolist()
        ['a', 'a', 'a', 'd']
        >>> p.loc[2] = ["a", "c", None, "non_match", "non_match"]
        >>> recluster(p, pd.Series(["a", "b", "c", "d"]))["cluster_id"].tolist()
        ['a', 'a', 'c', 'd']
    """
    from cdq.linkage.cluster import guarded_clusters

    ids = record_ids.astype(str).to_numpy()
    index = pd.Series(np.arange(len(ids)), index=ids)
    l = pairs["record_id_l"].astype(str).map(index)
    r = pairs["record_id_r"].astype(str).map(index)
    known = l.notna() & r.notna()
    steward = pairs.get("steward_decision", pd.Series(None, index=pairs.index))
    match = known & pairs["decision"].astype(str).eq("match")
    weight = pd.to_numeric(pairs.get("match_weight"), errors="coerce").fillna(0.0)
    weight = weight.where(steward.ne("match"), STEWARD_WEIGHT)
    cannot = known & steward.eq("non_match")
    labels = guarded_clusters(len(ids), l[match].astype(int).to_numpy(), r[match].astype(int).to_numpy(),
                              weight[match].to_numpy(dtype=float), l[cannot].astype(int).to_numpy(),
                              r[cannot].astype(int).to_numpy())
    return pd.DataFrame({"record_id": ids, "cluster_id": ids[labels]})


def steward_clusters(clusters: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The linkage's clusters with steward decisions on top (its cannot-link guards are kept as they are).

    A steward match joins the two records' clusters; a steward non-match on two records of one cluster
    takes out the one with fewer match links inside it (the other records stay), so a third record that
    links them cannot keep them together.

    Examples:
        >>> cl = pd.DataFrame({"record_id": ["a", "b", "c", "d"], "cluster_id": ["a", "a", "a", "d"]})
        >>> p = pd.DataFrame({"record_id_l": ["a", "c", "a", "b"], "record_id_r": ["c", "b", "b", "d"],
        ...                   "decision": ["match", "match", "non_match", "match"],
        ...                   "steward_decision": [None, None, "non_match", "match"]})
        >>> steward_clusters(cl, p)["cluster_id"].tolist()  # b out of a's cluster, then joined with d
        ['a', 'steward_apart:b', 'a', 'steward_apart:b']
    """
    out = clusters[["record_id", "cluster_id"]].astype({"record_id": str}).reset_index(drop=True)
    steward = pairs.get("steward_decision", pd.Series(None, index=pairs.index))
    decided = pairs[steward.notna()]
    if decided.empty:
        return out
    cid = dict(zip(out["record_id"], out["cluster_id"]))
    matches = pairs[pairs["decision"].astype(str).eq("match")]
    for l, r, d in zip(decided["record_id_l"].astype(str), decided["record_id_r"].astype(str),
                       decided["steward_decision"]):
        if l not in cid or r not in cid:
            continue
        if d == "match" and cid[l] != cid[r]:
            old, new = cid[r], cid[l]
            cid = {k: (new if v == old else v) for k, v in cid.items()}
        elif d == "non_match" and cid[l] == cid[r]:
            inside = {k for k, v in cid.items() if v == cid[l]}

            def links(x: str, inside: set[str] = inside) -> int:
                m = matches[(matches["record_id_l"].astype(str) == x) | (matches["record_id_r"].astype(str) == x)]
                return int((m["record_id_l"].astype(str).isin(inside) & m["record_id_r"].astype(str).isin(inside)).sum())

            out_id = min((l, r), key=lambda x: (links(x), x != r))
            cid[out_id] = f"steward_apart:{out_id}"
    return out.assign(cluster_id=out["record_id"].map(cid))
