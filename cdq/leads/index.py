"""Matching ONE record against the golden store without scanning it: a blocking index in the store's tables.

``match_keys`` holds, for every live stored source record, one 64-bit hash per blocking pass of
``rules/matching.yaml`` (the same passes and derived keys as batch linkage, from
:func:`cdq.linkage.prepare.prepare`) plus one per term-frequency value (``tf|surname_core|jansen``): the
number of rows under a tf hash is that value's frequency in the store, so the term-frequency adjustment
of a single match uses store-wide frequencies, as batch linkage does over its frame.

:class:`MatchIndex` builds the index on first use and keeps it current from ``source_records`` by the
store's write generation (:meth:`MatchIndex.refresh`): a lead's transaction brings it up to date before it
matches and again after it stored the lead, so a lead is always matched against every committed record —
a nightly run that released the store a moment ago included, background round or not. :func:`match_one` looks up the candidates sharing a key (bounded), compares the
record with each of them with the batch model (the same comparisons, vetoes, model weights and per-field
explanation), and ranks golden records by match probability. Cost per request depends on the block sizes,
not on the store size.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cdq.golden import PAYLOAD_COLUMNS

# one-record scoring uses batch linkage's own decision and veto rules (private there: see the report)
from cdq.linkage import FSModel, Settings, _decide, _vetoes, dedupe, load_settings
from cdq.linkage.compare import compare as _compare
from cdq.linkage.model import score
from cdq.linkage.prepare import prepare as _prepare
from cdq.store import GoldenStore, chunks
from cdq.store.online import match_index_state, match_keys
from cdq.store.schema import source_records, xref

logger = logging.getLogger(__name__)

#: Candidates read per request (records sharing most keys first): bounds the cost of a common name.
MAX_CANDIDATES = 200
#: Records sampled from the store to train the model when none is given.
TRAIN_SAMPLE = 20_000
#: Below this many stored records the model is trained with synthetic customers added.
MIN_TRAIN = 1_500
_BUILD_CHUNK = 50_000


def _hash(texts: list[str]) -> np.ndarray:
    """Stable 64-bit hashes (pandas' SipHash with its fixed key: the same on every machine and run)."""
    if not texts:
        return np.array([], dtype=np.int64)
    return pd.util.hash_array(np.asarray(texts, dtype=object)).view(np.int64)


@dataclass
class Candidate:
    """One golden record a typed record may be: probability, decision and the per-field explanation."""

    golden_id: str
    match_probability: float
    match_weight: float
    decision: str
    explanation: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_ref: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"golden_id": self.golden_id, "match_probability": round(self.match_probability, 6),
                "match_weight": round(self.match_weight, 3), "decision": self.decision,
                "explanation": self.explanation}


class MatchIndex:
    """The blocking index of one golden store plus the model that scores one record (see module doc)."""

    def __init__(self, store: GoldenStore, settings: Settings | None = None, model: FSModel | None = None,
                 *, max_candidates: int = MAX_CANDIDATES):
        self.store = store
        self.settings = settings or load_settings()
        self.max_candidates = max_candidates
        self.passes = [(name, tuple(keys)) for name, keys, *_ in self.settings.passes]
        self.tf_columns = sorted({self.settings.tf_column(c) for c in self.settings.tf_comparisons})
        self._model = model
        self._given = model is not None
        self._lock = threading.Lock()
        #: Stored records the model was trained on (0: given, or not trained yet).
        self.trained_on = 0

    # -- keys ------------------------------------------------------------------------------------------
    def key_texts(self, frame: pd.DataFrame) -> tuple[list[int], list[str]]:
        """(row position, key text) of every blocking and tf key of a (canonical) record frame."""
        prepared = _prepare(frame.reset_index(drop=True), self.settings.extras)
        rows: list[int] = []
        texts: list[str] = []
        for name, keys in self.passes:
            parts = prepared.reindex(columns=list(keys)).astype("object")
            ok = parts.notna().all(axis=1).to_numpy()
            if not ok.any():
                continue
            joined = parts[ok].astype(str).agg("\x1f".join, axis=1) if len(keys) > 1 else parts[ok].iloc[:, 0].astype(str)
            rows += np.flatnonzero(ok).tolist()
            texts += (name + "\x1f" + joined).tolist()
        for column in self.tf_columns:
            values = prepared[column] if column in prepared else pd.Series(dtype=object)
            ok = values.notna().to_numpy()
            rows += np.flatnonzero(ok).tolist()
            texts += ("tf\x1f" + column + "\x1f" + values[ok].astype(str)).tolist()
        return rows, texts

    def _state(self, conn: sa.Connection) -> dict[str, int]:
        return dict(conn.execute(sa.select(match_index_state.c.name, match_index_state.c.value)).all())

    def _set_state(self, conn: sa.Connection, values: dict[str, int]) -> None:
        for name, value in values.items():
            done = conn.execute(match_index_state.update().where(match_index_state.c.name == name)
                                .values(value=value)).rowcount
            if not done:
                conn.execute(match_index_state.insert().values(name=name, value=value))

    def _index_rows(self, conn: sa.Connection, rows: list[tuple[int, str, Any]], *, fresh: bool = False) -> int:
        """(Re)index ``(id, payload, deleted_run)`` rows: old keys out (unless ``fresh``), live records' keys in."""
        if not fresh:
            for part in chunks([int(r[0]) for r in rows]):
                conn.execute(match_keys.delete().where(match_keys.c.source_record_id.in_(part)))
        live = [(i, p) for i, p, deleted in rows if deleted is None]
        if not live:
            return 0
        frame = pd.DataFrame([json.loads(p) for _, p in live], columns=PAYLOAD_COLUMNS)
        positions, texts = self.key_texts(frame)
        record_ids = np.asarray([i for i, _ in live], dtype=np.int64)[np.asarray(positions, dtype=np.int64)]
        pairs = list(zip(_hash(texts).tolist(), record_ids.tolist()))
        if conn.dialect.name == "sqlite":  # the DB-API executemany: ~10x SQLAlchemy's per-row dicts at 16M rows
            conn.exec_driver_sql("INSERT INTO match_keys (key_hash, source_record_id) VALUES (?, ?)", pairs)
        else:
            conn.execute(match_keys.insert(), [{"key_hash": h, "source_record_id": i} for h, i in pairs])
        return len(live)

    def _indexes(self, conn: sa.Connection, present: bool) -> None:
        """Drop the index's B-tree indexes for a first build (one sort at the end beats 16M random inserts)."""
        for index in match_keys.indexes:
            if present:
                index.create(conn, checkfirst=True)
            else:
                index.drop(conn, checkfirst=True)

    def refresh(self, conn: sa.Connection | None = None, *, settled: bool = True) -> int:
        """Index every source record written since the last refresh; returns how many were (re)indexed.

        Follows the store by its write generation (``source_records.generation``, stamped by every write
        under the store's writer lock, so in commit order): after a refresh in ``conn``, every source record
        ``conn`` can see is indexed. A lead's transaction refreshes before it matches (the nightly run that
        just released the store is then in the index, whether or not a background round came first) and
        again after it stored the lead; ``settled=False`` when the transaction may still write source
        records (the next refresh then looks at them again). Without ``conn``: in a write transaction of
        its own. The cost is the number of records written since, not the size of the store.
        """
        if conn is None:
            with self.store.begin(advance=False) as own:  # writes only the index: nothing to match again
                return self.refresh(own)
        started, done, seen_rows = time.perf_counter(), 0, 0
        upto = self._visible_generation(conn, settled)
        state = self._state(conn)
        max_id, seen = state.get("max_id", 0), state.get("generation", -1)
        sr = source_records.c
        top_id = conn.execute(sa.select(sa.func.max(sr.id))).scalar() or 0
        query = sa.select(sr.id, sr.payload, sr.deleted_run).where((sr.id > max_id) | (sr.generation > seen))
        fresh = max_id == 0 and conn.execute(sa.select(match_keys.c.key_hash).limit(1)).first() is None
        if fresh:
            self._indexes(conn, present=False)
        result = conn.execute(query.order_by(sr.id).execution_options(yield_per=_BUILD_CHUNK))
        for part in result.partitions(_BUILD_CHUNK):
            seen_rows += len(part)
            done += self._index_rows(conn, [tuple(r) for r in part], fresh=fresh)
            if done:
                logger.info("match index: %d records indexed (%.0f s)", done, time.perf_counter() - started)
        if fresh:
            self._indexes(conn, present=True)
        values = {"max_id": max(int(top_id), int(max_id)), "generation": upto}
        if seen_rows or "records" not in state:  # the live count (term frequencies' total) only when it can move
            values["records"] = conn.execute(sa.select(sa.func.count()).select_from(source_records)
                                             .where(sr.deleted_run.is_(None))).scalar() or 0
        if values != {k: state.get(k) for k in values}:
            self._set_state(conn, values)
        return done

    def _visible_generation(self, conn: sa.Connection, settled: bool) -> int:
        """The generation up to which ``conn`` sees every write (read before the rows, so none is missed).

        Inside the store's write transaction that is the generation it took the lock at, or its own (if it
        has one) when ``settled`` (it writes no more source records); outside one, the last committed one.
        """
        locked = self.store.locked_generation(conn)
        return self.store.generation(conn) if locked is None or settled else locked

    # -- model -----------------------------------------------------------------------------------------
    @property
    def model(self) -> FSModel:
        """The Fellegi-Sunter model: given, or trained once by EM on a sample of the stored records."""
        with self._lock:
            if self._model is None:
                self._model = self._train()
            return self._model

    def _train(self) -> FSModel:
        sr = source_records.c
        with self.store.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(source_records)).scalar() or 0
            step = max(1, total // TRAIN_SAMPLE)
            rows = conn.execute(sa.select(sr.ref, sr.payload).where(sr.deleted_run.is_(None), sr.id % step == 0)
                                .limit(TRAIN_SAMPLE)).all()
        frame = pd.DataFrame([json.loads(p) for _, p in rows], columns=PAYLOAD_COLUMNS)
        frame["record_id"] = [r for r, _ in rows]
        if len(frame) < MIN_TRAIN:
            # A new or small store has too few pairs to learn from (a service started before the first
            # nightly run): add seeded synthetic Dutch customers with duplicates; retrained once it grows.
            from cdq.synthetic import generate_records

            synthetic = generate_records(MIN_TRAIN * 2, seed=7).drop(columns=["entity_id"])
            synthetic["record_id"] = "synthetic:" + synthetic["record_id"].astype(str)
            frame = pd.concat([frame, synthetic.reindex(columns=frame.columns)], ignore_index=True)
        model = dedupe(frame, self.settings).model
        self.trained_on = len(rows)
        logger.info("match model trained on %d stored records", len(frame))
        return model

    def retrain_if_grown(self) -> bool:
        """Retrain when the model was trained here on a store that has since grown past twice its sample
        (a service started on an empty store before its first nightly run)."""
        if self._given or self.trained_on >= TRAIN_SAMPLE:
            return False
        with self.store.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(source_records)).scalar() or 0
        if total <= 2 * max(self.trained_on, 1):
            return False
        with self._lock:
            self._model = self._train()
        return True

    # -- candidates ------------------------------------------------------------------------------------
    def candidates(self, conn: sa.Connection, record: pd.DataFrame) -> pd.DataFrame:
        """Stored live records sharing a blocking key with ``record`` (most shared keys first, bounded)."""
        _, texts = self.key_texts(record)
        block = [t for t in texts if not t.startswith("tf\x1f")]
        if not block:
            return pd.DataFrame(columns=["source_record_id", "ref", "payload", "golden_id"])
        mk = match_keys.c
        shared = (sa.select(mk.source_record_id, sa.func.count().label("n"))
                  .where(mk.key_hash.in_([int(h) for h in _hash(block)])).group_by(mk.source_record_id)
                  .order_by(sa.desc("n")).limit(self.max_candidates).subquery())
        sr = source_records.c
        query = (sa.select(sr.id, sr.ref, sr.payload, xref.c.golden_id)
                 .select_from(shared.join(source_records, sr.id == shared.c.source_record_id)
                              .join(xref, xref.c.source_record_id == sr.id))
                 .where(sr.deleted_run.is_(None)))
        return pd.DataFrame([tuple(r) for r in conn.execute(query).all()],
                            columns=["source_record_id", "ref", "payload", "golden_id"])

    def frequencies(self, conn: sa.Connection, prepared: pd.DataFrame) -> tuple[dict[str, int], int]:
        """Store-wide count of the query's value in each tf column, and the number of indexed records."""
        texts = {c: f"tf\x1f{c}\x1f{prepared.at[0, c]}" for c in self.tf_columns
                 if c in prepared and pd.notna(prepared.at[0, c])}
        if not texts:
            return {}, 1
        hashes = dict(zip(texts, (int(h) for h in _hash(list(texts.values())))))
        mk = match_keys.c
        counts: dict[int, int] = {int(h): int(n) for h, n in conn.execute(
            sa.select(mk.key_hash, sa.func.count()).where(mk.key_hash.in_(list(hashes.values())))
            .group_by(mk.key_hash)).all()}
        total = self._state(conn).get("records", 0) or 1  # live records, kept by refresh() and add()
        return {c: counts.get(h, 0) for c, h in hashes.items()}, int(total)


def _tf(index: MatchIndex, vectors: pd.DataFrame, counts: dict[str, int], total: int) -> dict[str, np.ndarray]:
    """Term-frequency bits for exact agreements, from store-wide frequencies (as ``tf_adjustments``)."""
    s, model, out = index.settings, index.model, {}
    for comparison in s.tf_comparisons:
        column = s.tf_column(comparison)
        if comparison not in vectors.columns or column not in counts:
            continue
        top = len(model.levels[comparison]) - 1
        share = max(counts[column], 1) / max(total, 1)
        bits = float(np.clip(np.log2(model.u[comparison][top] / max(share, 1e-6)), s.tf_min_weight, s.tf_max_weight))
        out[comparison] = np.where(vectors[comparison].to_numpy() == top, bits, 0.0).astype(np.float32)
    return out


def match_one(record: dict[str, Any], index: MatchIndex, *, limit: int = 5,
              conn: sa.Connection | None = None) -> list[Candidate]:
    """Rank the golden records ``record`` (canonical field names) may be, best first.

    Args:
        record: one customer record, e.g. ``{"first_name": "Jan", "last_name": "Jansen", "postcode": ...}``.
        index: the store's :class:`MatchIndex`.
        limit: at most this many golden records.
        conn: read within this connection (a lead's transaction); default: a fresh one.

    Returns:
        One :class:`Candidate` per golden record with a non-negligible probability: its best pair with the
        record, the batch ``decision`` (``match`` / ``review`` / ``non_match``) and the per-field explanation.
    """
    if conn is None:
        with index.store.engine.connect() as own:
            return match_one(record, index, limit=limit, conn=own)
    query = pd.DataFrame([{c: record.get(c) for c in PAYLOAD_COLUMNS}])
    found = index.candidates(conn, query)
    if found.empty:
        return []
    stored = pd.DataFrame([json.loads(p) for p in found["payload"]], columns=PAYLOAD_COLUMNS)
    s, model = index.settings, index.model
    prepared = _prepare(pd.concat([query, stored], ignore_index=True), s.extras)
    n = len(stored)
    l, r = np.zeros(n, dtype=np.int64), np.arange(1, n + 1, dtype=np.int64)
    vectors = _compare(prepared, l, r, s)
    veto = _vetoes(vectors, s, prepared, l, r)
    counts, total = index.frequencies(conn, prepared)
    scored = score(model, vectors, _tf(index, vectors, counts, total))
    decision = _decide(scored["match_probability"].to_numpy(), veto, s)
    out: dict[str, Candidate] = {}
    for k in np.argsort(-scored["match_probability"].to_numpy(), kind="stable"):
        gid = str(found.at[k, "golden_id"])
        p = float(scored.at[k, "match_probability"])
        if gid in out or p < 0.01:
            continue
        explanation = {c: {"level": (["missing", *s.levels(c)])[int(vectors.at[k, c]) + 1],
                           "weight": round(float(scored.at[k, f"{c}_weight"]), 3)} for c in vectors.columns}
        out[gid] = Candidate(gid, p, float(scored.at[k, "match_weight"]), str(decision[k]), explanation,
                             str(found.at[k, "ref"]))
        if len(out) >= limit:
            break
    return list(out.values())
