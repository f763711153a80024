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
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cdq.golden import PAYLOAD_COLUMNS

# one-record scoring uses batch linkage's own comparisons, vetoes, model weights and decision rule
from cdq.linkage import FSModel, Settings, dedupe, load_settings
from cdq.linkage.compare import Columns, compare_levels
from cdq.linkage.few import FEW_ROWS, FewColumns
from cdq.linkage.model import score_levels
from cdq.linkage.prepare import prepare as _prepare
from cdq.linkage.prepare import prepare_one
from cdq.linkage.vetoes import decide, vetoes
from cdq.store import GoldenStore, chunks
from cdq.store.online import LEGACY_MATCH_KEY_INDEXES, match_index_state, match_keys, match_prepared
from cdq.store.schema import counters, source_records, xref

logger = logging.getLogger(__name__)

#: Candidates compared per request (records sharing most keys first): bounds the cost of a common name.
MAX_CANDIDATES = 200
#: Records read per blocking key: a key shared by more stored records is skipped (see ``candidates``).
KEY_LIMIT = 200
#: Records sampled from the store to train the model when none is given.
TRAIN_SAMPLE = 20_000
#: Below this many stored records the model is trained with synthetic customers added.
MIN_TRAIN = 1_500
_BUILD_CHUNK = 50_000
#: Term-frequency counts kept per worker (:meth:`MatchIndex.frequencies`; about 100 bytes each).
TF_CACHE = 200_000
#: What the index stores, in version form: an index written in another format (or for other blocking passes,
#: term-frequency columns or prepared columns) is dropped and rebuilt at the next refresh.
INDEX_VERSION = 4


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _hash(texts: list[str]) -> np.ndarray:
    """Stable 64-bit hashes (pandas' SipHash with its fixed key: the same on every machine and run)."""
    if not texts:
        return np.array([], dtype=np.int64)
    # categorize=False: the same hashes (categorizing only hashes repeated values once), without its set-up
    return pd.util.hash_array(np.asarray(texts, dtype=object), categorize=False).view(np.int64)


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
                 *, max_candidates: int = MAX_CANDIDATES, key_limit: int = KEY_LIMIT):
        self.store = store
        self.settings = settings or load_settings()
        self.max_candidates = max_candidates
        self.key_limit = key_limit
        self.passes = [(name, tuple(keys)) for name, keys, *_ in self.settings.passes]
        self.tf_columns = sorted({self.settings.tf_column(c) for c in self.settings.tf_comparisons})
        #: The prepared columns, in :func:`~cdq.linkage.prepare.prepare`'s order (``match_prepared`` rows).
        self.columns = list(_prepare(pd.DataFrame(), self.settings.extras).columns)
        shape = repr((self.columns, self.passes, self.tf_columns)).encode()
        self.format = INDEX_VERSION * 10**9 + zlib.crc32(shape) % 10**9
        self._model = model
        self._given = model is not None
        self._lock = threading.Lock()
        #: index state -> key hash -> rows (:meth:`frequencies`): the current state's term-frequency counts
        self._tf_counts: dict[tuple, dict[int, int]] = {}
        #: Stored records the model was trained on (0: given, or not trained yet).
        self.trained_on = 0

    # -- keys ------------------------------------------------------------------------------------------
    def key_texts(self, frame: pd.DataFrame) -> tuple[list[int], list[str]]:
        """(row position, key text) of every blocking and tf key of a (canonical) record frame."""
        return self._texts(_prepare(frame.reset_index(drop=True), self.settings.extras))

    def _texts(self, prepared: pd.DataFrame) -> tuple[list[int], list[str]]:
        rows: list[int] = []
        texts: list[str] = []
        for name, keys in self.passes:
            parts = prepared.reindex(columns=list(keys)).astype("object")
            ok = parts.notna().all(axis=1).to_numpy()
            if not ok.any():
                continue
            text = parts[ok].astype(str)
            joined = text.iloc[:, 0]
            for k in range(1, len(keys)):  # column-wise: a row-wise join is a Python call per record
                joined = joined + "\x1f" + text.iloc[:, k]
            rows += np.flatnonzero(ok).tolist()
            texts += (name + "\x1f" + joined).tolist()
        for column in self.tf_columns:
            values = prepared[column] if column in prepared else pd.Series(dtype=object)
            ok = values.notna().to_numpy()
            rows += np.flatnonzero(ok).tolist()
            texts += ("tf\x1f" + column + "\x1f" + values[ok].astype(str)).tolist()
        return rows, texts

    def record_keys(self, prepared: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        """One prepared record's (blocking key texts, tf column -> tf key text): what :meth:`key_texts` gives
        its one-row frame, without a frame."""
        block = []
        for name, keys in self.passes:
            parts = [prepared.get(k) for k in keys]
            if not any(_absent(p) for p in parts):
                block.append(name + "\x1f" + "\x1f".join(str(p) for p in parts))
        tf = {c: f"tf\x1f{c}\x1f{prepared[c]}" for c in self.tf_columns if not _absent(prepared.get(c))}
        return block, tf

    def _rows_data(self, prepared: pd.DataFrame) -> list[str]:
        """Every row's prepared values: JSON lists in :attr:`columns` order."""
        columns: list[list[Any]] = []
        for c in self.columns:
            values = prepared[c]
            if values.dtype == bool:
                columns.append([bool(v) for v in values.to_numpy()])
            elif values.dtype.kind in "iu":
                columns.append([int(v) for v in values.to_numpy()])
            else:
                columns.append([None if _absent(v) else v for v in values.to_numpy(dtype=object)])
        return [json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in zip(*columns)]

    def frame(self, rows: list[list[Any]]) -> pd.DataFrame:
        """Prepared rows (lists in :attr:`columns` order) as the frame ``prepare`` gives (same dtypes)."""
        dtypes = {"first_name_variant_id": np.int64, "email_role": bool}
        columns = zip(*rows) if rows else ([] for _ in self.columns)
        return pd.DataFrame({c: np.array(v, dtype=dtypes.get(c, object)) for c, v in zip(self.columns, columns)},
                            columns=self.columns, copy=False)

    def _state(self, conn: sa.Connection) -> dict[str, int]:
        return dict(conn.execute(sa.select(match_index_state.c.name, match_index_state.c.value)).all())

    def _set_state(self, conn: sa.Connection, values: dict[str, int]) -> None:
        for name, value in values.items():
            done = conn.execute(match_index_state.update().where(match_index_state.c.name == name)
                                .values(value=value)).rowcount
            if not done:
                conn.execute(match_index_state.insert().values(name=name, value=value))

    def _index_rows(self, conn: sa.Connection, rows: list[tuple[int, str, str, Any]], *, fresh: bool = False) -> int:
        """(Re)index ``(id, ref, payload, deleted_run)`` rows: old keys out (unless ``fresh``), live records' keys
        in, and their ``match_prepared`` rows: the prepared values with the record's ref last (so a candidate is
        read in one lookup, see :meth:`candidates`)."""
        if not fresh:
            for part in chunks([int(r[0]) for r in rows]):
                conn.execute(match_keys.delete().where(match_keys.c.source_record_id.in_(part)))
                conn.execute(match_prepared.delete().where(match_prepared.c.source_record_id.in_(part)))
        live = [(i, ref, p) for i, ref, p, deleted in rows if deleted is None]
        if not live:
            return 0
        frame = pd.DataFrame([json.loads(p) for _, _, p in live], columns=PAYLOAD_COLUMNS)
        prepared = _prepare(frame, self.settings.extras)
        positions, texts = self._texts(prepared)
        ids = [int(i) for i, _, _ in live]
        record_ids = np.asarray(ids, dtype=np.int64)[np.asarray(positions, dtype=np.int64)]
        pairs = list(zip(_hash(texts).tolist(), record_ids.tolist()))
        data = [(i, f"{values[:-1]},{json.dumps(str(ref), ensure_ascii=False)}]")
                for i, (_, ref, _), values in zip(ids, live, self._rows_data(prepared))]
        if conn.dialect.name == "sqlite":  # the DB-API executemany: ~10x SQLAlchemy's per-row dicts at 16M rows
            conn.exec_driver_sql("INSERT INTO match_keys (key_hash, source_record_id) VALUES (?, ?)", pairs)
            conn.exec_driver_sql("INSERT INTO match_prepared (source_record_id, data) VALUES (?, ?)", data)
        else:
            conn.execute(match_keys.insert(), [{"key_hash": h, "source_record_id": i} for h, i in pairs])
            conn.execute(match_prepared.insert(), [{"source_record_id": i, "data": d} for i, d in data])
        return len(live)

    def _indexes(self, conn: sa.Connection, present: bool) -> None:
        """Drop the index's B-tree indexes for a first build (one sort at the end beats 16M random inserts), and
        those of earlier index versions for good."""
        for name in LEGACY_MATCH_KEY_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
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
        if state.get("format") != self.format and (state or self._any_key(conn)):
            logger.info("match index: written in another format; rebuilding it")
            conn.execute(match_keys.delete())
            conn.execute(match_prepared.delete())
            state = {}
        max_id, seen = state.get("max_id", 0), state.get("generation", -1)
        sr = source_records.c
        top_id = conn.execute(sa.select(sa.func.max(sr.id))).scalar() or 0
        query = sa.select(sr.id, sr.ref, sr.payload, sr.deleted_run).where((sr.id > max_id) | (sr.generation > seen))
        fresh = max_id == 0 and not self._any_key(conn)
        if fresh:
            conn.execute(match_prepared.delete())  # left by an index an older migration emptied
            self._indexes(conn, present=False)
        result = conn.execute(query.order_by(sr.id).execution_options(yield_per=_BUILD_CHUNK))
        for part in result.partitions(_BUILD_CHUNK):
            seen_rows += len(part)
            done += self._index_rows(conn, [tuple(r) for r in part], fresh=fresh)
            if done:
                logger.info("match index: %d records indexed (%.0f s)", done, time.perf_counter() - started)
        if fresh:
            self._indexes(conn, present=True)
        values = {"max_id": max(int(top_id), int(max_id)), "generation": upto, "format": self.format}
        if seen_rows or "records" not in state:  # the live count (term frequencies' total) only when it can move
            values["records"] = conn.execute(sa.select(sa.func.count()).select_from(source_records)
                                             .where(sr.deleted_run.is_(None))).scalar() or 0
        if values != {k: state.get(k) for k in values}:
            self._set_state(conn, values)
        return done

    @staticmethod
    def _any_key(conn: sa.Connection) -> bool:
        return conn.execute(sa.select(match_keys.c.key_hash).limit(1)).first() is not None

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
    def candidates(self, conn: sa.Connection, block: list[str]) -> list[tuple[int, str, str]]:
        """``(source record id, data, golden id)`` of the stored live records sharing a blocking key text of
        ``block`` (:meth:`record_keys`), most shared keys first, at most ``max_candidates``; ``data`` is the
        JSON list of the record's prepared values in :attr:`columns` order, then its ref.

        One lookup per candidate in ``match_prepared`` (and its ``xref`` row for the golden id, which a nightly
        run may change without touching the record): live means live as of the index's last refresh, as for
        the keys themselves (a record written or deleted since is seen at the next refresh, within
        ``refresh_seconds``, and before a lead is matched); an erased record's rows go at once.

        Each key's block is read up to ``key_limit`` records: a key shared by more (a common first name in
        a big city, a common surname and a birth year) is skipped, as batch blocking skips a block it
        cannot refine below its size limit: it costs reads and comparisons, and tells nothing the
        record's other keys do not (the records it would add share no other key). So the rows read per
        request are bounded by ``len(block) x key_limit``, whatever the store's size.
        """
        if not block:
            return []
        hashes = [int(h) for h in _hash(block)]
        rows = conn.execute(_per_key(len(hashes)), {**{f"h{i}": h for i, h in enumerate(hashes)},
                                                     "cap": self.key_limit + 1}).all()
        sizes = Counter(k for k, _ in rows)
        shared = Counter(int(i) for k, i in rows if sizes[k] <= self.key_limit)
        best = sorted(shared, key=lambda i: (-shared[i], i))[: self.max_candidates]
        if not best:
            return []
        details = {int(i): (str(data), str(gid)) for i, data, gid in conn.execute(_DETAILS, {"ids": best})}
        return [(i, *details[i]) for i in best if i in details]

    def frequencies(self, conn: sa.Connection, texts: dict[str, str]) -> tuple[dict[str, int], int]:
        """Store-wide count of the query's value in each tf column (``texts``: :meth:`record_keys`' tf keys),
        and the number of indexed records.

        Outside a write transaction the counts are kept per index state (``match_index_state`` and the
        store's generation, read with them): a common value ("jan": thousands of index rows to count at 1M
        records) is counted once until the index or the store changes. A write transaction (a lead's) may
        hold writes it rolls back: it counts afresh.
        """
        if not texts:
            return {}, 1
        hashes = dict(zip(texts, (int(h) for h in _hash(list(texts.values())))))
        state = tuple(sorted((str(n), int(v)) for n, v in conn.execute(_STATE).all()))
        total = dict(state).get("records", 0) or 1  # live records, kept by refresh()
        cached = self.store.locked_generation(conn) is None
        known = self._tf_counts.get(state, {}) if cached else {}
        wanted = [h for h in hashes.values() if h not in known]
        if wanted:
            counts = dict.fromkeys(wanted, 0)
            counts.update((int(h), int(n)) for h, n in conn.execute(_COUNTS, {"hashes": wanted}).all())
            if cached:
                if len(known) + len(counts) > TF_CACHE:
                    known = {}
                known = {**known, **counts}  # a new dict: another thread may be reading the old one
                self._tf_counts = {state: known}  # only the current state's counts are kept
            else:
                known = {**known, **counts}
        return {c: known[h] for c, h in hashes.items()}, int(total)


@lru_cache(maxsize=64)
def _per_key(n: int) -> sa.TextClause:
    """Rows ``(key number, source record id)`` of each of ``n`` key hashes ``:h0``..., at most ``:cap`` per key
    (one statement: a round trip per key would cost more than the reads)."""
    part = "SELECT {i} AS k, source_record_id FROM match_keys WHERE key_hash = :h{i} LIMIT :cap"
    return sa.text(" UNION ALL ".join(f"SELECT * FROM ({part.format(i=i)}) AS q{i}" for i in range(n)))


#: A candidate's prepared values and ref (one row) and its golden id. Not ``source_records``: its rows hold the
#: payload, and reading them was a third of this query's time at 1M records.
_DETAILS = (sa.select(match_prepared.c.source_record_id, match_prepared.c.data, xref.c.golden_id)
            .select_from(match_prepared.join(xref, xref.c.source_record_id == match_prepared.c.source_record_id))
            .where(match_prepared.c.source_record_id.in_(sa.bindparam("ids", expanding=True))))
#: The number of index rows under each of some key hashes (a tf key's: its value's frequency).
_COUNTS = (sa.select(match_keys.c.key_hash, sa.func.count())
           .where(match_keys.c.key_hash.in_(sa.bindparam("hashes", expanding=True))).group_by(match_keys.c.key_hash))
#: What the index holds, as of now: its state rows (``records``: the live records) and the store's generation.
_STATE = sa.union_all(sa.select(match_index_state.c.name, match_index_state.c.value),
                      sa.select(sa.literal("store_generation", sa.String), counters.c.value)
                      .where(counters.c.name == "generation"))


def _tf_bits(index: MatchIndex, counts: dict[str, int], total: int) -> dict[str, float]:
    """Term-frequency bits of one query's values for exact agreements, from store-wide frequencies (as
    ``tf_adjustments``): comparison -> bits."""
    s, model, out = index.settings, index.model, {}
    for comparison in s.tf_comparisons:
        column = s.tf_column(comparison)
        if comparison not in model.u or column not in counts:
            continue
        top = len(model.levels[comparison]) - 1
        share = max(counts[column], 1) / max(total, 1)
        out[comparison] = float(np.clip(np.log2(model.u[comparison][top] / max(share, 1e-6)),
                                        s.tf_min_weight, s.tf_max_weight))
    return out


def _tf(index: MatchIndex, vectors: dict[str, np.ndarray], bits: list[dict[str, float]], query: np.ndarray
        ) -> dict[str, np.ndarray]:
    """Per pair: its query's tf bits where the pair agrees exactly (``query``: the pair's query number)."""
    out = {}
    for comparison in {c for b in bits for c in b}:
        if comparison not in vectors:
            continue
        top = len(index.model.levels[comparison]) - 1
        per_query = np.array([b.get(comparison, 0.0) for b in bits], dtype=np.float32)
        out[comparison] = np.where(vectors[comparison] == top, per_query[query], 0.0).astype(np.float32)
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
    return match_many([record], index, limit=limit, conn=conn)[0]


def match_many(records: list[dict[str, Any]], index: MatchIndex, *, limit: int = 5,
               conn: sa.Connection | None = None) -> list[list[Candidate]]:
    """:func:`match_one` for several records at once: each record's candidates are its own, and so are its
    scores (every comparison, veto and weight is a function of one pair), but the pairs of all records are
    compared in one call of the batch comparison. That call's cost is mostly fixed (the comparison of one
    record against 20 candidates costs ~80% of one against 800), so the service answers requests that
    arrive together in one call (:mod:`cdq.service.batching`)."""
    if conn is None:
        with index.store.engine.connect() as own:
            return match_many(records, index, limit=limit, conn=own)
    s, model = index.settings, index.model
    rows: list[list[Any]] = []
    left: list[int] = []
    query_of: list[int] = []
    found: list[list[tuple[int, str, str]]] = []
    refs: list[str] = []
    bits: list[dict[str, float]] = []
    for q, record in enumerate(records):
        prepared_one = prepare_one({c: record.get(c) for c in PAYLOAD_COLUMNS}, s.extras)
        block, tf_texts = index.record_keys(prepared_one)
        these = index.candidates(conn, block)
        found.append(these)
        if not these:
            bits.append({})
            continue
        bits.append(_tf_bits(index, *index.frequencies(conn, tf_texts)))
        position = len(rows)
        rows.append([prepared_one[c] for c in index.columns])
        parsed = json.loads("[" + ",".join(f[1] for f in these) + "]")  # one parse for all candidates
        refs += [row.pop() for row in parsed]  # each row ends with its record's ref
        rows += parsed
        left += [position] * len(these)
        query_of += [q] * len(these)
    if not rows:
        return [[] for _ in records]
    # a few hundred rows: their arrays in plain Python, never a frame (pandas' set-up per call would be most
    # of the cost); batch linkage's comparisons, vetoes and weights take them as they take a frame
    prepared: Columns = (FewColumns.of_rows(index.columns, rows) if len(rows) <= FEW_ROWS
                         else Columns(index.frame(rows)))
    l = np.asarray(left, dtype=np.int64)
    r = np.flatnonzero(~np.isin(np.arange(len(rows)), l)).astype(np.int64)  # every row that is no query
    pair_query = np.asarray(query_of, dtype=np.int64)
    vectors = compare_levels(prepared, l, r, s)
    veto = vetoes(vectors, s, prepared, l, r)
    scored = score_levels(model, vectors, _tf(index, vectors, bits, pair_query))
    probability = scored["match_probability"]
    decision = decide(probability, veto, s)
    out: list[list[Candidate]] = []
    start = 0
    for these in found:
        k = np.arange(start, start + len(these))
        out.append(_ranked(index, these, refs[start:start + len(these)], vectors, scored, decision, k, limit))
        start += len(these)
    return out


def _ranked(index: MatchIndex, found: list[tuple[int, str, str]], refs: list[str], vectors: dict[str, np.ndarray],
            scored: dict[str, np.ndarray], decision: np.ndarray, pairs: np.ndarray, limit: int) -> list[Candidate]:
    """One record's golden records, best first: each with its best pair (``pairs``: that record's pair rows,
    in the order of ``found`` and of ``refs``, the candidates' refs)."""
    columns = list(vectors)
    names = [["missing", *index.settings.levels(c)] for c in columns]
    probability = scored["match_probability"][pairs]
    total = scored["match_weight"][pairs]
    levels = [vectors[c][pairs].tolist() for c in columns]
    weights = [scored[f"{c}_weight"][pairs].tolist() for c in columns]
    out: dict[str, Candidate] = {}
    for k in np.argsort(-probability, kind="stable").tolist():
        gid = str(found[k][2])
        p = float(probability[k])
        if gid in out or p < 0.01:
            continue
        explanation = {c: {"level": names[j][levels[j][k] + 1], "weight": round(weights[j][k], 3)}
                       for j, c in enumerate(columns)}
        out[gid] = Candidate(gid, p, float(total[k]), str(decision[pairs[k]]), explanation, str(refs[k]))
        if len(out) >= limit:
            break
    return list(out.values())
