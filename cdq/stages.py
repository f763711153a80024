"""The pipeline's stages as ``(RunContext) -> None`` steps; each one makes one library call.

Keeping these adapters in one place keeps :mod:`cdq.pipeline` free of stage details and every stage
module free of pipeline details: each library stage stays callable on its own frames.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from cdq.export import write_table
from cdq.headers import load_mapping
from cdq.staging import import_inputs

if TYPE_CHECKING:  # the pipeline imports this module to run the stages; the stages only annotate with it
    from cdq.pipeline import RunContext

logger = logging.getLogger(__name__)


#: Record-level frames: each stage that produces one makes it the run's ``current`` frame.
RECORD_FRAMES = ("staging", "normalized", "addressed", "checked", "gated")


def _keep(ctx: RunContext, name: str, frame: pd.DataFrame) -> None:
    ctx.frames[name] = frame
    if name in RECORD_FRAMES:
        ctx.current_name = name
    if ctx.keep_intermediates:
        write_table(frame, ctx.workdir / "intermediates" / f"{name}.parquet")


def stage_import(ctx: RunContext) -> None:
    """Read every input of the pipeline into one staging frame (+ quarantine)."""
    stagings, quarantines, tables, used_sources = [], [], [], set()
    for spec in ctx.spec.inputs:
        mapping = load_mapping(ctx.path(spec.mapping)) if spec.mapping else None
        if spec.source and mapping is None:
            from cdq.headers import MappingFile

            mapping = MappingFile(source=spec.source)
        options = {"sheet": spec.sheet} if spec.sheet else {}
        result = import_inputs([ctx.path(spec.path)], mapping=mapping, used_sources=used_sources, **options)
        if spec.full_extract:
            ctx.results.setdefault("full_sources", set()).update(t["source"] for t in result.tables)
        stagings.append(result.staging)
        quarantines.append(result.quarantine)
        tables.extend(result.tables)
    staging = pd.concat(stagings, ignore_index=True)
    _keep(ctx, "staging", staging)
    ctx.frames["quarantine"] = pd.concat(quarantines, ignore_index=True)
    ctx.results["quarantined_at_import"] = len(ctx.frames["quarantine"])
    ctx.results["import"] = tables


def stage_normalize(ctx: RunContext) -> None:
    """Normalize names, phones, e-mails, postcodes, organisations and dates."""
    from cdq.normalize import normalize

    frame, findings = normalize(ctx.current)
    _keep(ctx, "normalized", frame)
    ctx.findings.append(findings)


STAGES: dict[str, Callable[[RunContext], None]] = {
    "import": stage_import,
    "normalize": stage_normalize,
}


def _address_store(ctx: RunContext):
    """The run's address reference: a flat BAG CSV is built into a store in the workdir (once per run)."""
    from cdq.address import AddressStore, default_store_path, load_demo_reference

    reference = ctx.path(ctx.spec.reference) if ctx.spec.reference else None
    if reference and reference.lower().endswith((".csv", ".txt")):
        built = ctx.workdir / "address_reference.sqlite"
        if ctx.results.get("address_reference_built"):
            return AddressStore.open(built)
        ctx.results["address_reference_built"] = True
        return load_demo_reference(built, source=reference)
    return AddressStore.open(reference or default_store_path())


def stage_printouts(ctx: RunContext) -> None:
    """One verification PDF and Excel return form per adviser, from the golden records in the store."""
    from cdq.printouts import printouts_from

    store = _address_store(ctx) if ctx.spec.reference else None
    try:
        run = printouts_from(ctx.expand(ctx.spec.store), "adviser", ctx.workdir / "printouts", reference=store)
    finally:
        if store is not None:
            store.close()
    ctx.results.setdefault("outputs", {})["printouts"] = ctx.workdir / "printouts"
    ctx.results["printouts"] = run


def stage_address(ctx: RunContext) -> None:
    """Complete and verify addresses against the pipeline's reference (a flat BAG CSV or a built store)."""
    from cdq.address import complete

    store = _address_store(ctx)
    try:
        frame, findings = complete(ctx.current, store)
    finally:
        store.close()
    _keep(ctx, "addressed", frame)
    ctx.findings.append(findings)


def _store(ctx: RunContext):
    from cdq.store import GoldenStore

    if "store" not in ctx.results:
        ctx.results["store"] = GoldenStore(ctx.expand(ctx.spec.store))
    return ctx.results["store"]


def stage_linkage(ctx: RunContext) -> None:
    """Match the batch: everything on a first run; later only new/changed records against the store.

    Steward decisions from earlier review workbooks are applied to the scored pairs (they always win),
    and the remaining review band is exported to ``WORKDIR/review.xlsx``. Produces ``pairs``,
    ``clusters`` and ``merge_input`` (batch + the stored records it was matched against).
    """
    from cdq.golden import batch_status, record_refs, stored_records
    from cdq.linkage import dedupe, link

    store = _store(ctx)
    frame = _hold_erased_subjects(ctx, store)
    status = batch_status(frame, store)
    stored = stored_records(store, exclude_refs=set(record_refs(frame)))
    # A full extract is the whole truth of its source: its stored records missing from it were deleted.
    stored = stored[~stored["source"].isin(ctx.results.get("full_sources", set()))]
    if (status == "new").all() and stored.empty:
        records, result = frame, dedupe(frame, progress=ctx.progress)
    else:
        changed = frame[status != "same"]
        records = _stack([frame[status == "same"], stored, changed])
        existing = records.iloc[: len(records) - len(changed)]
        result = link(changed, existing, progress=ctx.progress) if len(changed) else None
    pairs = result.pairs if result is not None else pd.DataFrame(
        columns=["record_id_l", "record_id_r", "match_weight", "match_probability", "decision"])
    clusters = result.clusters if result is not None else pd.DataFrame(columns=["record_id", "cluster_id"])
    pairs, clusters = _steward_decisions(ctx, pairs, clusters, records)
    frame, clusters = _hold(ctx, frame, clusters)
    _keep(ctx, "pairs", pairs)
    _keep(ctx, "clusters", clusters)
    ctx.frames["merge_input"] = _stack([frame, _sharing_a_cluster(stored, clusters, frame)])
    ctx.results["batch_status"] = status.value_counts().to_dict()
    ctx.results.setdefault("headline", {}).update({
        "new or changed records": int((status != "same").sum()),
        "pairs for review": int((pairs["decision"] == "review").sum()) if len(pairs) else 0,
    })
    if result is not None:
        ctx.results["blocking_report"] = result.report
        # the model this run matched with: `cdq why` / `cdq explain` explain pairs with it later
        result.model.save(ctx.workdir / "linkage_model.json")


def _hold(ctx: RunContext, frame: pd.DataFrame, clusters: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold junk names and unmatched nameless mail correspondents in the quarantine (``hold:`` in the YAML)."""
    from cdq.names.hold import HoldPolicy, held_records

    policy = HoldPolicy(ctx.spec.hold.junk_names, ctx.spec.hold.nameless_mail)
    held = held_records(frame, clusters, policy)
    if held.empty:
        return frame, clusters
    ids = set(held["record_id"])
    _add_held(ctx, held.drop(columns=["record_id"]))
    ctx.results.setdefault("headline", {})["held out of the golden records"] = len(held)
    keep = ~frame["record_id"].astype(str).isin(ids)
    return frame[keep], clusters[~clusters["record_id"].astype(str).isin(ids)]


def _hold_erased_subjects(ctx: RunContext, store) -> pd.DataFrame:
    """Records of people erased on request go to the quarantine (``SUBJECT_ERASED``), not to linkage."""
    from cdq.golden import record_refs
    from cdq.privacy import hold_erased

    kept, held = hold_erased(ctx.current, store, record_refs(ctx.current))
    if len(held):
        ctx.frames[ctx.current_name] = kept
        ctx.frames["quarantine"] = _stack([ctx.frames.get("quarantine", held.iloc[:0]), held])
        ctx.results.setdefault("headline", {})["held: erased data subjects"] = len(held)
    return kept


def _sharing_a_cluster(stored: pd.DataFrame, clusters: pd.DataFrame, batch: pd.DataFrame) -> pd.DataFrame:
    """The stored records in a cluster with a batch record: the merge needs their golden ids.

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
    wanted = set(clusters.loc[ids.isin(set(batch["record_id"].astype(str))), "cluster_id"])
    members = set(ids[clusters["cluster_id"].isin(wanted)])
    return stored[stored["record_id"].astype(str).isin(members)]


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate record frames, leaving out empty ones (their all-NA columns would decide dtypes)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True)


def _steward_decisions(ctx: RunContext, pairs: pd.DataFrame, clusters: pd.DataFrame, records: pd.DataFrame):
    """Apply remembered review decisions on top of the clusters; keep the review band for the workbook.

    With a golden stage the open pairs (this run's band and every earlier undecided one) are exported after
    the store is written, with each record's current golden record; without one, this run's band now.
    """
    from cdq.review import apply_decisions, export_review, load_decisions, steward_clusters

    decisions = load_decisions(ctx.expand(ctx.spec.store))
    if len(decisions) and len(pairs):
        pairs = apply_decisions(pairs, decisions, records)
        clusters = steward_clusters(clusters, pairs)
    ctx.frames["review_records"] = records
    if "golden" not in ctx.spec.stages and len(pairs) and (pairs["decision"] == "review").any():
        path = export_review(pairs, records, ctx.workdir / "review.xlsx")
        ctx.results.setdefault("outputs", {})["review workbook"] = path
    return pairs, clusters


def _export_open_pairs(ctx: RunContext) -> None:
    """Store this run's review band and write every undecided pair to ``WORKDIR/review.xlsx``."""
    from cdq.review.steward import export_open, save_open_pairs

    store = _store(ctx)
    pairs = ctx.frames.get("pairs")
    if pairs is not None and len(pairs):
        save_open_pairs(store, pairs, ctx.frames["review_records"])
    path, count = export_open(store, ctx.workdir / "review.xlsx")
    if path is not None:
        ctx.results.setdefault("outputs", {})["review workbook"] = path
    ctx.results.setdefault("headline", {})["pairs for review"] = count


def stage_golden(ctx: RunContext) -> None:
    """Map clusters onto stable golden ids and re-survive the touched golden records.

    With the ``gates`` stage in the pipeline, the golden and accounting suites check the batch inside its
    transaction: a failure rolls it back (the store is as it was, the run is not recorded), or, with gate
    policy ``hold_failing``, the batch records of the failing golden records are held and the batch is
    merged again without them.
    """
    from cdq.golden import merge_batch
    from cdq.survivorship import load_rules

    store = _store(ctx)
    rules = load_rules()
    for attempt in (1, 2):
        run_id = store.start_run(ctx.spec.name)
        try:
            result = merge_batch(ctx.frames["merge_input"], ctx.frames["clusters"], store, rules, run_id,
                                 pairs=ctx.frames["pairs"], full_sources=sorted(ctx.results.get("full_sources", ())),
                                 check=_golden_gate(ctx, last=attempt == 2) if "gates" in ctx.spec.stages else None)
            break
        except _HoldGolden as held:
            store.discard_run(run_id)
            _hold_golden_members(ctx, held)
        except BaseException:
            store.discard_run(run_id)
            raise
    store.finish_run(run_id, counts=result.counts)
    ctx.results["golden"] = result
    _export_open_pairs(ctx)
    ctx.results.setdefault("headline", {}).update({
        "golden records touched": result.counts.get("golden_touched", 0),
        "merges": result.counts.get("merges", 0),
    })


class _HoldGolden(Exception):
    """Raised inside the merge transaction: roll back, hold these golden records' batch records, retry."""

    def __init__(self, result, failing: pd.DataFrame):
        super().__init__("golden gate: hold failing records")
        self.result, self.failing = result, failing


def _golden_gate(ctx: RunContext, *, last: bool):
    """The check merge_batch runs before it commits: golden + accounting suites on what it would write."""
    from cdq.gates import accounting, run_gates

    def gate(result) -> None:
        golden = result.golden[result.golden["status"].eq("active")] if len(result.golden) else result.golden
        batch_ids = set(ctx.current["record_id"].astype(str))
        members = int(result.xref["record_id"].astype(str).isin(batch_ids).sum())
        rows_in = sum(t["rows_in"] for t in ctx.results.get("import", []))
        # the staging suite again (on the records as they came in) so the one Data Docs site shows every suite
        full = run_gates(staging=ctx.frames.get("gate_input"), golden=golden.reset_index(drop=True),
                         accounting_frame=accounting(rows_in, members, len(ctx.frames.get("quarantine", []))),
                         docs_dir=ctx.workdir / "data_docs")
        gates = full.only(("golden", "accounting"))
        _record_gates(ctx, gates)
        if gates.passed:
            return
        if ctx.spec.gate_policy == "hold_failing" and gates.holdable and not last:
            raise _HoldGolden(result, gates.failing_rows)
        _stop(ctx, gates)

    return gate


def _hold_golden_members(ctx: RunContext, held: _HoldGolden) -> None:
    """Hold the batch records of the golden records that failed the golden suite; drop them from the batch."""
    from cdq.gates.hold import hold_rows

    xref = held.result.xref.astype({"record_id": str})
    by_golden = xref.merge(held.failing.rename(columns={"row_id": "golden_id"}), on="golden_id")
    failing = by_golden.rename(columns={"record_id": "row_id"})[["suite", "expectation", "column", "row_id"]]
    kept, quarantine = hold_rows(ctx.current, failing)
    _keep(ctx, "gated", kept)
    _add_held(ctx, quarantine)
    gone = set(failing["row_id"])
    ctx.frames["merge_input"] = ctx.frames["merge_input"][~ctx.frames["merge_input"]["record_id"].astype(str).isin(gone)]
    logger.warning("gates: %d records held (golden suite); merging the batch again without them", len(quarantine))


def stage_load(ctx: RunContext) -> None:
    """Load the golden records into the CRM (delta, one transaction); compares every golden record."""
    from cdq.crm import load_from_store
    from cdq.crm.registry import target_from_url

    if not ctx.crm:
        return
    # Remote CRMs keep their own ids (our cross-reference to them) and ledger beside the golden store.
    crm = target_from_url(ctx.expand(ctx.crm), state=ctx.expand(ctx.spec.store))
    result, _plan = load_from_store(_store(ctx), crm, dry_run=ctx.dry_run, full=True)
    ctx.results["load"] = result


def _golden_records(ctx: RunContext) -> pd.DataFrame:
    """Every active golden record in the store, one column per value."""
    from cdq.golden import golden_frame

    rows = _store(ctx).changes_since(0, full=True)
    if rows.empty:
        return pd.DataFrame(columns=["golden_id"])
    golden = golden_frame(rows.drop(columns=["seq"]))
    return golden[golden["status"] == "active"].reset_index(drop=True)


def stage_gates(ctx: RunContext) -> None:
    """Quality gates BEFORE anything is written: the staging suite on the cleaned records, here.

    Every suite is checked against Great Expectations' definitions first (a typo stops the run with a
    clear error). A failed critical expectation stops the run (gate policy ``stop``), or, with
    ``hold_failing`` (the default), holds the failing records in the quarantine and lets the rest go on.
    The golden and accounting suites run later, inside the golden stage's transaction (before it commits).
    """
    from cdq.gates import check_suites, run_gates
    from cdq.gates.hold import hold_rows

    check_suites()
    ctx.frames["gate_input"] = ctx.current
    result = run_gates(staging=ctx.current, docs_dir=ctx.workdir / "data_docs", suites=("staging",))
    _record_gates(ctx, result)
    if result.passed:
        return
    if ctx.spec.gate_policy != "hold_failing" or not result.holdable or \
            set(ctx.current["record_id"].astype(str)) <= set(result.failing_rows["row_id"]):
        _stop(ctx, result)  # a failure of the whole table, or of every row (a shifted export), stops the run
    kept, quarantine = hold_rows(ctx.current, result.failing_rows)
    _keep(ctx, "gated", kept)
    _add_held(ctx, quarantine)
    logger.warning("gates: %d records held in the quarantine (staging suite)", len(quarantine))


def _add_held(ctx: RunContext, quarantine: pd.DataFrame) -> None:
    """Add held records to the run's quarantine and write it to ``WORKDIR/quarantine.csv``."""
    ctx.frames["quarantine"] = _stack([ctx.frames.get("quarantine", pd.DataFrame()), quarantine])
    outputs = ctx.results.setdefault("outputs", {})
    outputs["quarantine"] = write_table(ctx.frames["quarantine"], ctx.workdir / "quarantine.csv")


def _record_gates(ctx: RunContext, result) -> None:
    """Keep every gate outcome of the run (the report shows them all)."""
    ctx.results.setdefault("gate_runs", []).append(result)
    ctx.results["gates"] = _combined_gates(ctx.results["gate_runs"])
    if result.docs_index:
        ctx.results.setdefault("outputs", {})["data docs"] = result.docs_index


def _combined_gates(runs: list):
    from cdq.gates import GateResult

    return GateResult(pd.concat([r.results for r in runs], ignore_index=True),
                      {k: sum(r.timings.get(k, 0.0) for r in runs) for k in ("gx_import", "validate")},
                      next((r.docs_index for r in reversed(runs) if r.docs_index), None),
                      pd.concat([r.failing_rows for r in runs], ignore_index=True))


def _stop(ctx: RunContext, result) -> None:
    """Write the report (the store is untouched) and raise CheckFailed (exit 1)."""
    from cdq.gates import check

    ctx.results["stopped"] = True
    stage_report(ctx)
    check(result)


def stage_report(ctx: RunContext) -> None:
    """Write the self-contained HTML run report to ``WORKDIR/run_report.html``."""
    from cdq.reporting import write_run_report

    load = ctx.results.get("load")
    path = write_run_report(
        ctx.workdir / "run_report.html", title=f"cdq run: {ctx.spec.name}", staging=ctx.frames.get("staging"),
        quarantine=ctx.frames.get("quarantine"), checked=ctx.current, findings=ctx.all_findings(),
        pairs=ctx.frames.get("pairs"), clusters=ctx.frames.get("clusters"),
        golden=_report_golden(ctx), gates=ctx.results.get("gates"), timings=ctx.timings,
        loaded=load.line() if load is not None else None, held=_held(ctx), changes=_changes(ctx),
        headline=ctx.results.get("headline"),
    )
    ctx.results.setdefault("outputs", {})["run report"] = path


def _report_golden(ctx: RunContext) -> pd.DataFrame | None:
    """Every active golden record after the run (None when the run stopped before the store was opened)."""
    if "golden" in ctx.frames:
        return ctx.frames["golden"]
    if "store" not in ctx.results and ctx.results.get("stopped"):
        return None
    ctx.frames["golden"] = _golden_records(ctx)
    return ctx.frames["golden"]


def _changes(ctx: RunContext) -> pd.DataFrame | None:
    """What this run changed in the golden store (None when it wrote nothing)."""
    from cdq.reporting.changes import run_changes

    merged = ctx.results.get("golden")
    return run_changes(_store(ctx), merged.run_id) if merged is not None else None


def _held(ctx: RunContext) -> pd.DataFrame | None:
    """The records the gates held in this run (quarantine rows with reason GATE_HELD)."""
    from cdq.reasons import GATE_HELD

    quarantine = ctx.frames.get("quarantine")
    if quarantine is None or quarantine.empty:
        return None
    return quarantine[quarantine["reason_code"].eq(GATE_HELD)].reset_index(drop=True)


def stage_export(ctx: RunContext) -> None:
    """Write the clean customer list (golden records), the cross-reference and the quarantine to the workdir."""
    from cdq.store.schema import source_records, xref

    golden = ctx.frames.get("golden") if "golden" in ctx.frames else _golden_records(ctx)
    store = _store(ctx)
    with store.engine.connect() as conn:
        links = pd.read_sql(
            select_xref(source_records, xref), conn,
        )
    outputs = ctx.results.setdefault("outputs", {})
    outputs["golden records"] = write_table(golden, ctx.workdir / "golden_records.xlsx", sheet_name="klanten")
    outputs["cross-reference"] = write_table(links, ctx.workdir / "xref.csv")
    outputs["quarantine"] = write_table(ctx.frames.get("quarantine", pd.DataFrame()), ctx.workdir / "quarantine.csv")


def select_xref(source_records, xref):
    """Source record ref -> golden id, match score and rule."""
    import sqlalchemy as sa

    return sa.select(source_records.c.ref, source_records.c.source, xref.c.golden_id, xref.c.match_score,
                     xref.c.rule).select_from(source_records.join(xref, xref.c.source_record_id == source_records.c.id))


STAGES.update({
    "address": stage_address,
    "printouts": stage_printouts,
    "export": stage_export,
    "linkage": stage_linkage,
    "golden": stage_golden,
    "gates": stage_gates,
    "load": stage_load,
    "report": stage_report,
})


def stage_names(ctx: RunContext) -> None:
    """Name plausibility: score, verdict and reason codes per record; companies move to company_name."""
    from cdq.names import check

    frame, findings = check(ctx.current)
    _keep(ctx, "checked", frame)  # the name the pipeline's `current` looks for
    ctx.findings.append(findings)


STAGES.update({"names": stage_names})


def stage_retention(ctx: RunContext) -> None:
    """Apply ``rules/retention.yaml`` to the golden store and the work directory (counted in the report)."""
    from cdq.privacy.retention import apply_retention, load_retention

    purged = apply_retention(_store(ctx), load_retention(), workdir=ctx.workdir, dry_run=ctx.dry_run)
    ctx.results["retention"] = purged
    ctx.results.setdefault("headline", {})["purged by retention"] = len(purged)


STAGES.update({"retention": stage_retention})
