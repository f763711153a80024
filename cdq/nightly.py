"""Match a batch against the golden store, and merge it without racing another writer.

The nightly run (and any other writer, e.g. the HTTP service taking leads) does two things:

1. :func:`match_batch` — which batch records are new/changed, which stored records they are matched
   against, linkage, steward decisions, clusters. Slow (linkage), so it runs *without* the store's
   writer lock, and notes the store's generation it read (see :meth:`cdq.store.GoldenStore.generation`).
2. :func:`merge_match` — takes the writer lock, and inside that one transaction checks that nobody wrote
   since step 1; if someone did (another run, a lead, a steward's unmerge), it matches again *inside the
   transaction*, so the merge always writes what was matched against the store as it is. Two batches
   can never both create a golden record for one person.

Examples:
    >>> from cdq.store import GoldenStore
    >>> from cdq.survivorship import load_rules
    >>> store = GoldenStore("sqlite://")
    >>> batch = pd.DataFrame({"record_id": ["r1"], "source": ["erp"], "source_key": ["K1"], "last_name": ["Bos"]})
    >>> match = match_batch(batch, store)
    >>> result, match = merge_match(match, store, load_rules(), store.start_run("doc"))
    >>> result.counts["records_new"]
    1
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import pandas as pd

from cdq.golden import MergeResult, batch_status, merge_batch, record_refs, stored_records
from cdq.linkage import FSModel, LinkageResult
from cdq.linkage.settings import Settings
from cdq.store import GoldenStore
from cdq.survivorship import Rules

__all__ = ["Match", "match_batch", "merge_match"]

logger = logging.getLogger(__name__)
PAIR_COLUMNS = ["record_id_l", "record_id_r", "match_weight", "match_probability", "decision"]


@dataclass
class Match:
    """What :func:`match_batch` found; :func:`merge_match` writes it.

    ``merge_input``: the batch plus the stored records sharing a cluster with it (the merge needs their
    golden ids). ``records``: every record the pairs refer to (for the review workbook). ``generation``:
    the store's write generation before anything was read.
    """

    batch: pd.DataFrame
    status: pd.Series
    pairs: pd.DataFrame
    clusters: pd.DataFrame
    merge_input: pd.DataFrame
    records: pd.DataFrame
    generation: int
    full_sources: frozenset[str] = frozenset()
    blocking_report: pd.DataFrame | None = None
    settings: Settings | None = field(default=None, repr=False)
    #: The linkage model the batch was scored with (``cdq why`` / ``cdq explain`` use it later).
    model: FSModel | None = field(default=None, repr=False)
    rematched: bool = False


def match_batch(frame: pd.DataFrame, store: GoldenStore, settings: Settings | None = None, *,
                full_sources: Collection[str] = (), progress: Callable[[int, int], None] | None = None,
                engine: str = "pandas", spark_master: str | None = None) -> Match:
    """Match a batch against the store: everything on a first run; later only new/changed records.

    Steward decisions from earlier review workbooks are applied to the scored pairs (they always win).

    Args:
        frame: the batch (canonical staging columns, cleaned).
        store: the golden store. settings: linkage settings (default: the bundled rules).
        full_sources: sources delivered as full extracts: their stored records missing from the batch were
            deleted, so they are not matched against.
        progress: a ``(done, total)`` callback for linkage.
        engine: ``spark`` dedupes a first run's batch on Spark (:func:`cdq.engines.spark.linkage.dedupe_frame`,
            on ``spark_master``); later runs link only new and changed records, which one machine does.
    """
    from cdq.linkage import dedupe, link

    # Before any read: a writer committing after this point shows up as a newer generation.
    generation = store.locked_generation()
    generation = store.generation() if generation is None else generation
    status = batch_status(frame, store)
    stored = stored_records(store, exclude_refs=set(record_refs(frame)))
    stored = stored[~stored["source"].isin(set(full_sources))]
    result: LinkageResult | None
    if (status == "new").all() and stored.empty:
        if engine == "spark":
            from cdq.engines.spark.linkage import dedupe_frame

            records, result = frame, dedupe_frame(frame, settings, progress, master=spark_master)
        else:
            records, result = frame, dedupe(frame, settings, progress=progress)
    else:
        changed = frame[status != "same"]
        records = _stack([frame[status == "same"], stored, changed])
        existing = records.iloc[: len(records) - len(changed)]
        result = link(changed, existing, settings, progress=progress) if len(changed) else None
    pairs = result.pairs if result is not None else pd.DataFrame(columns=PAIR_COLUMNS)
    clusters = result.clusters if result is not None else pd.DataFrame(columns=["record_id", "cluster_id"])
    pairs, clusters = _steward_decisions(store, pairs, clusters, records)
    return Match(frame, status, pairs, clusters, _stack([frame, _sharing_a_cluster(stored, clusters, frame)]),
                 records, generation, frozenset(full_sources), result.report if result is not None else None,
                 settings, result.model if result is not None else None)


def merge_match(match: Match, store: GoldenStore, rules: Rules, run_id: int, *, wait: float | None = None,
                progress: Callable[[int, int], None] | None = None,
                check: Callable[[MergeResult], None] | None = None) -> tuple[MergeResult, Match]:
    """Merge a match into the store under the writer lock; match again first if the store changed.

    Returns the merge result and the match that was merged (``rematched`` when it had to be redone).
    ``check`` is :func:`cdq.golden.merge_batch`'s check (the gates, before the commit). Raises
    :class:`cdq.store.StoreBusy` when the lock is not free within ``wait`` seconds.
    """
    with store.begin(wait):
        if store.locked_generation() != match.generation:
            logger.info("golden store was written since matching (generation %s, now %s): matching again "
                        "inside the merge transaction", match.generation, store.locked_generation())
            match = dataclasses.replace(
                match_batch(match.batch, store, match.settings, full_sources=match.full_sources, progress=progress),
                rematched=True)
        result = merge_batch(match.merge_input, match.clusters, store, rules, run_id, pairs=match.pairs,
                             full_sources=sorted(match.full_sources), check=check, progress=progress)
    return result, match


def _sharing_a_cluster(stored: pd.DataFrame, clusters: pd.DataFrame, batch: pd.DataFrame) -> pd.DataFrame:
    """The stored records in a cluster (or an organisation) with a batch record: the merge needs their golden
    ids (and golden organisations).

    Every other stored record keeps its golden record untouched, and re-reading and re-hashing the whole
    store for it each night would be most of a nightly merge against a million golden records.

    Examples:
        >>> stored = pd.DataFrame({"record_id": ["stored:a", "stored:b"]})
        >>> clusters = pd.DataFrame({"record_id": ["n1", "stored:a", "stored:b"], "cluster_id": ["x", "x", "y"]})
        >>> _sharing_a_cluster(stored, clusters, pd.DataFrame({"record_id": ["n1"]}))["record_id"].tolist()
        ['stored:a']
    """
    if stored.empty or clusters.empty:
        return stored.iloc[:0]
    ids = clusters["record_id"].astype(str)
    mine = ids.isin(set(batch["record_id"].astype(str)))
    together = clusters["cluster_id"].isin(set(clusters.loc[mine, "cluster_id"]))
    if "organisation_id" in clusters.columns:
        organisations = set(clusters.loc[mine, "organisation_id"].dropna())
        together |= clusters["organisation_id"].isin(organisations)
    members = set(ids[together])
    return stored[stored["record_id"].astype(str).isin(members)]


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate record frames, leaving out empty ones (their all-NA columns would decide dtypes)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True)


def _steward_decisions(store: GoldenStore, pairs: pd.DataFrame, clusters: pd.DataFrame,
                       records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply remembered review decisions on top of the clusters (a steward always wins)."""
    from cdq.review import apply_decisions, load_decisions, steward_clusters

    decisions = load_decisions(store.url)
    if len(decisions) and len(pairs):
        pairs = apply_decisions(pairs, decisions, records)
        organisation = clusters.get("organisation_id")
        decided = steward_clusters(clusters, pairs)
        if organisation is not None:  # a steward decides about people and locations, not organisations
            decided["organisation_id"] = decided["record_id"].map(
                dict(zip(clusters["record_id"].astype(str), organisation)))
        clusters = decided
    return pairs, clusters
