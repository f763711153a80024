"""The pipeline's stages as ``(RunContext) -> None`` steps; each one makes one library call.

Keeping these adapters in one place keeps :mod:`cdq.pipeline` free of stage details and every stage
module free of pipeline details: each library stage stays callable on its own frames.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cdq.errors import UsageError
from cdq.export import write_table
from cdq.headers import load_mapping
from cdq.registry import Registry
from cdq.staging import import_inputs

if TYPE_CHECKING:  # the pipeline imports this module to run the stages; the stages only annotate with it
    import sqlalchemy as sa

    from cdq.address import AddressStore
    from cdq.gates import GateResult
    from cdq.golden import MergeResult
    from cdq.nightly import Match
    from cdq.pipeline import RunContext
    from cdq.store import GoldenStore

logger = logging.getLogger(__name__)

Stage = Callable[["RunContext"], None]
#: stage name (as in a pipeline's ``stages:`` list) -> stage; every ``stage_*`` below registers itself
STAGES: Registry[Stage] = Registry("pipeline stage")


#: Record-level frames: each stage that produces one makes it the run's ``current`` frame.
RECORD_FRAMES = ("staging", "normalized", "addressed", "checked", "gated")


def _keep(ctx: RunContext, name: str, frame: pd.DataFrame) -> None:
    ctx.frames[name] = frame
    if name in RECORD_FRAMES:
        ctx.current_name = name
    if ctx.keep_intermediates:
        write_table(frame, ctx.workdir / "intermediates" / f"{name}.parquet")


@STAGES.register("import")
def stage_import(ctx: RunContext) -> None:
    """Read every input of the pipeline into one staging frame (+ quarantine)."""
    stagings, quarantines, tables = [], [], []
    used_sources: set[str] = set()
    for spec in ctx.spec.inputs:
        mapping = load_mapping(ctx.path(spec.mapping)) if spec.mapping else None
        if spec.source and mapping is None:
            from cdq.headers import MappingFile

            mapping = MappingFile(source=spec.source)
        options: dict[str, Any] = {"sheet": spec.sheet} if spec.sheet else {}  # the adapter's own options
        result = import_inputs([ctx.path(spec.path)], mapping=mapping, used_sources=used_sources,
                               progress=ctx.progress, **options)
        if spec.full_extract:
            ctx.results.full_sources.update(t.source for t in result.tables)
        stagings.append(result.staging)
        quarantines.append(result.quarantine)
        tables.extend(result.tables)
    staging = pd.concat(stagings, ignore_index=True)
    _keep(ctx, "staging", staging)
    ctx.frames["quarantine"] = pd.concat(quarantines, ignore_index=True)
    ctx.results.quarantined_at_import = len(ctx.frames["quarantine"])
    ctx.results.tables = tables


@STAGES.register("normalize")
def stage_normalize(ctx: RunContext) -> None:
    """Normalize names, phones, e-mails, postcodes, organisations and dates."""
    from cdq.normalize import normalize

    frame, findings = normalize(ctx.current, progress=ctx.progress)
    _keep(ctx, "normalized", frame)
    ctx.findings.append(findings)


def _address_store(ctx: RunContext) -> AddressStore:
    """The run's address reference: a flat BAG CSV is built into a store in the workdir, once.

    Built beside and renamed into place (atomic), and reused by later runs until the CSV changes, so two
    runs sharing a work directory never read a half-built reference.
    """
    from cdq.address import AddressStore, default_store_path

    reference = ctx.path(ctx.spec.reference) if ctx.spec.reference else None
    if reference and reference.lower().endswith((".csv", ".txt")):
        return AddressStore.open(built_reference(Path(reference), ctx.workdir / "address_reference.sqlite"))
    return AddressStore.open(reference or default_store_path())


def built_reference(source: Path, built: Path) -> Path:
    """``built``, (re)built from the flat BAG CSV ``source`` only when it is missing or ``source`` changed.

    The stamp (path, size, modification time of the CSV) is kept beside the store; a new build goes to a
    temporary file in the same folder and replaces the old store with one rename, so a reader sees the
    old reference or the new one, never a part of one.
    """
    import json
    import os
    import tempfile

    from cdq.address import load_demo_reference

    info = source.stat()
    stamp = {"source": str(source.resolve()), "size": info.st_size, "mtime_ns": info.st_mtime_ns}
    stamp_path = built.with_name(built.name + ".source.json")
    try:
        current = json.loads(stamp_path.read_text(encoding="utf-8")) if built.is_file() else None
    except (OSError, ValueError):
        current = None
    if current == stamp:
        logger.info("address reference: reusing %s (source unchanged)", built.name)
        return built
    built.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=built.name + ".", suffix=".building", dir=built.parent)
    os.close(handle)
    os.unlink(tmp)  # the loader creates the database itself
    try:
        load_demo_reference(tmp, source=source).close()
        os.replace(tmp, built)
        stamp_tmp = f"{tmp}.json"
        Path(stamp_tmp).write_text(json.dumps(stamp), encoding="utf-8")
        os.replace(stamp_tmp, stamp_path)
    finally:
        for leftover in (tmp, f"{tmp}-journal", f"{tmp}.json"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    logger.info("address reference: built %s", built.name)
    return built


@STAGES.register("printouts")
def stage_printouts(ctx: RunContext) -> None:
    """One verification PDF and Excel return form per adviser, from the golden records in the store."""
    from cdq.printouts import printouts_from

    store = _address_store(ctx) if ctx.spec.reference else None
    try:
        run = printouts_from(ctx.expand(ctx.spec.store), "adviser", ctx.workdir / "printouts", reference=store,
                             progress=ctx.progress)
    finally:
        if store is not None:
            store.close()
    ctx.results.outputs["printouts"] = ctx.workdir / "printouts"
    ctx.results.printouts = run


@STAGES.register("address")
def stage_address(ctx: RunContext) -> None:
    """Complete and verify addresses against the pipeline's reference (a flat BAG CSV or a built store)."""
    from cdq.address import complete

    store = _address_store(ctx)
    try:
        frame, findings = complete(ctx.current, store, progress=ctx.progress)
    finally:
        store.close()
    _keep(ctx, "addressed", frame)
    ctx.findings.append(findings)


def preflight(ctx: RunContext) -> None:
    """Validate every URL and credential of the run before any stage runs (nothing is opened yet).

    A CRM URL with a token in it, or a store URL that cannot work, must stop the run before the golden
    merge commits, not after it.
    """
    import sqlalchemy as sa

    from cdq.crm.registry import check_url, credential_params
    from cdq.store import masked_url

    uses_store = {"linkage", "golden", "gates", "load", "export", "report"} & set(ctx.spec.stages)
    if uses_store:
        store = ctx.expand(ctx.spec.store)
        if credential_params(store):
            raise UsageError(f"the golden store URL {masked_url(store).split('?')[0]} holds a token in a query "
                             "parameter", hint="remove it; database passwords come from the environment "
                             "(PGPASSWORD, ~/.pgpass)")
        try:
            sa.create_engine(store).dispose()
        except (sa.exc.ArgumentError, ImportError) as e:
            raise UsageError(f"cannot open golden store {masked_url(store)}: {type(e).__name__}",
                             hint="use a SQLAlchemy URL like sqlite:///golden.sqlite") from None
    if ctx.crm and "load" in ctx.spec.stages:
        check_url(ctx.expand(ctx.crm))


def _store(ctx: RunContext) -> GoldenStore:
    """The run's golden store, opened once."""
    from cdq.store import GoldenStore

    if ctx.store is None:
        ctx.store = GoldenStore(ctx.expand(ctx.spec.store), wait=ctx.wait)
    return ctx.store


def _run_id(ctx: RunContext) -> int:
    """This run's row in the store's ``runs`` table, started (once) by the first stage that writes.

    Starting it first marks earlier runs whose process is gone ``killed``; the summary reports them.
    """
    if ctx.run_id is None:
        store = _store(ctx)
        killed = store.reap_runs()
        if len(killed):
            ctx.results.killed_runs = killed
        ctx.run_id = store.start_run(ctx.spec.name)
    return ctx.run_id


def abandon_run(ctx: RunContext, status: str = "failed") -> None:
    """A run that stops on an error before its merge finished is marked ``failed``, never left ``running``."""
    if ctx.run_id is not None and not ctx.run_finished:
        ctx.run_finished = True
        try:
            _store(ctx).finish_run(ctx.run_id, status=status)
        except Exception:  # noqa: BLE001 - the run's own error is the one to report
            logger.warning("could not mark run %s %s in the golden store", ctx.run_id, status)


@STAGES.register("linkage")
def stage_linkage(ctx: RunContext) -> None:
    """Match the batch against the golden store (:func:`cdq.nightly.match_batch`): everything on a first run,
    later only new/changed records against the stored ones; steward decisions win.

    Produces ``pairs``, ``clusters`` and ``merge_input`` (batch + the stored records it was matched against).
    """
    from cdq.nightly import match_batch

    store = _store(ctx)
    frame = _hold_erased_subjects(ctx, store)
    _run_id(ctx)
    match = match_batch(frame, store, full_sources=ctx.results.full_sources, progress=ctx.progress,
                        engine=ctx.spec.engine, spark_master=ctx.spec.spark_master)
    _publish_match(ctx, _held_out(ctx, match))


def _held_out(ctx: RunContext, match: Match) -> Match:
    """The match without the records :func:`_hold` keeps out of the golden records (junk names, ...)."""
    import dataclasses

    batch, clusters = _hold(ctx, match.batch, match.clusters)
    if len(batch) == len(match.batch):
        return match
    gone = set(match.batch["record_id"].astype(str)) - set(batch["record_id"].astype(str))
    return dataclasses.replace(match, batch=batch, clusters=clusters,
                               merge_input=match.merge_input[~match.merge_input["record_id"].astype(str).isin(gone)])


def _publish_match(ctx: RunContext, match: Match) -> None:
    """Keep a match's frames as the run's artefacts (again after a re-match under the writer lock)."""
    from cdq.review import export_review

    ctx.results.match = match
    pairs, status = match.pairs, match.status
    _keep(ctx, "pairs", pairs)
    _keep(ctx, "clusters", match.clusters)
    ctx.frames["merge_input"] = match.merge_input
    ctx.frames["review_records"] = match.records
    if "golden" not in ctx.spec.stages and len(pairs) and (pairs["decision"] == "review").any():
        ctx.results.outputs["review workbook"] = export_review(pairs, match.records, ctx.workdir / "review.xlsx")
    ctx.results.batch_status = {str(k): int(v) for k, v in status.value_counts().items()}
    ctx.results.headline.update({
        "new or changed records": int((status != "same").sum()),
        "pairs for review": int((pairs["decision"] == "review").sum()) if len(pairs) else 0,
    })
    if match.blocking_report is not None:
        ctx.results.blocking_report = match.blocking_report
    if match.model is not None:
        # the model this run matched with: `cdq why` / `cdq explain` explain pairs with it later
        match.model.save(ctx.workdir / "linkage_model.json")


def _hold(ctx: RunContext, frame: pd.DataFrame, clusters: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold junk names and unmatched nameless mail correspondents in the quarantine (``hold:`` in the YAML)."""
    from cdq.names.hold import HoldPolicy, held_records

    policy = HoldPolicy(ctx.spec.hold.junk_names, ctx.spec.hold.nameless_mail)
    held = held_records(frame, clusters, policy)
    if held.empty:
        return frame, clusters
    ids = set(held["record_id"])
    _add_held(ctx, held.drop(columns=["record_id"]))
    ctx.results.headline["held out of the golden records"] = len(held)
    keep = ~frame["record_id"].astype(str).isin(ids)
    return frame[keep], clusters[~clusters["record_id"].astype(str).isin(ids)]


def _hold_erased_subjects(ctx: RunContext, store: GoldenStore) -> pd.DataFrame:
    """Records of people erased on request go to the quarantine (``SUBJECT_ERASED``), not to linkage."""
    from cdq.golden import record_refs
    from cdq.privacy import hold_erased

    kept, held = hold_erased(ctx.current, store, record_refs(ctx.current))
    if len(held):
        ctx.frames[ctx.current_name] = kept
        ctx.frames["quarantine"] = _stack([ctx.frames.get("quarantine", held.iloc[:0]), held])
        ctx.results.headline["held: erased data subjects"] = len(held)
    return kept


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate record frames, leaving out empty ones (their all-NA columns would decide dtypes)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True)


def _export_open_pairs(ctx: RunContext) -> None:
    """Store this run's review band and write every undecided pair to ``WORKDIR/review.xlsx``."""
    from cdq.review.steward import export_open, save_open_pairs

    store = _store(ctx)
    pairs = ctx.frames.get("pairs")
    if pairs is not None and len(pairs):
        save_open_pairs(store, pairs, ctx.frames["review_records"])
    path, count = export_open(store, ctx.workdir / "review.xlsx")
    if path is not None:
        ctx.results.outputs["review workbook"] = path
    ctx.results.headline["pairs for review"] = count


@STAGES.register("golden")
def stage_golden(ctx: RunContext) -> None:
    """Map clusters onto stable golden ids and re-survive the touched golden records.

    With the ``gates`` stage in the pipeline, the golden and accounting suites check the batch inside its
    transaction: a failure rolls it back (the store is as it was, the run is not recorded), or, with gate
    policy ``hold_failing``, the batch records of the failing golden records are held and the batch is
    merged again without them.
    """
    import dataclasses

    from cdq.nightly import merge_match
    from cdq.survivorship import load_rules

    store = _store(ctx)
    rules = load_rules()
    run_id = _run_id(ctx)
    for attempt in (1, 2):
        match = ctx.results.match
        if match is None:
            raise UsageError("pipeline stage 'golden' needs the stage 'linkage' before it",
                             hint="list linkage before golden under stages: in the pipeline YAML")
        try:
            # Under the writer lock; a store written since linkage is matched again inside the transaction.
            result, merged = merge_match(
                match, store, rules, run_id, progress=ctx.progress,
                check=_golden_gate(ctx, last=attempt == 2) if "gates" in ctx.spec.stages else None)
            break
        except _HoldGolden as held:
            _hold_golden_members(ctx, held)
            kept = set(ctx.frames["merge_input"]["record_id"].astype(str))
            gone = set(match.merge_input["record_id"].astype(str)) - kept
            ctx.results.match = dataclasses.replace(
                match, batch=match.batch[~match.batch["record_id"].astype(str).isin(gone)],
                merge_input=ctx.frames["merge_input"])
        except BaseException:
            store.discard_run(run_id)  # nothing of it was written: the run is not recorded
            ctx.run_finished = True
            raise
    if merged is not match:
        _publish_match(ctx, merged)
    store.finish_run(run_id, counts=result.counts)
    ctx.run_finished = True
    ctx.results.golden = result
    _export_open_pairs(ctx)
    ctx.results.headline.update({
        "golden records touched": result.counts.get("golden_touched", 0),
        "merges": result.counts.get("merges", 0),
    })


class _HoldGolden(Exception):
    """Raised inside the merge transaction: roll back, hold these golden records' batch records, retry."""

    def __init__(self, result: MergeResult, failing: pd.DataFrame):
        super().__init__("golden gate: hold failing records")
        self.result, self.failing = result, failing


def _golden_gate(ctx: RunContext, *, last: bool) -> Callable[[MergeResult], None]:
    """The check merge_batch runs before it commits: golden + accounting suites on what it would write."""
    from cdq.gates import accounting, run_gates

    def gate(result: MergeResult) -> None:
        golden = result.golden[result.golden["status"].eq("active")] if len(result.golden) else result.golden
        batch_ids = set(ctx.current["record_id"].astype(str))
        members = int(result.xref["record_id"].astype(str).isin(batch_ids).sum())
        rows_in = sum(t.rows_in for t in ctx.results.tables)
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


@STAGES.register("load")
def stage_load(ctx: RunContext) -> None:
    """Load the golden records into the CRM (delta, one transaction); compares every golden record."""
    from cdq.crm import load_from_store
    from cdq.crm.registry import target_from_url

    if not ctx.crm:
        return
    # Remote CRMs keep their own ids (our cross-reference to them) and ledger beside the golden store.
    crm = target_from_url(ctx.expand(ctx.crm), state=ctx.expand(ctx.spec.store))
    result, _plan = load_from_store(_store(ctx), crm, dry_run=ctx.dry_run, full=True, progress=ctx.progress)
    ctx.results.load = result


def _golden_records(ctx: RunContext) -> pd.DataFrame:
    """Every active golden record in the store, one column per value."""
    from cdq.golden import active_golden

    return active_golden(_store(ctx))


@STAGES.register("gates")
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
    ctx.results.outputs["quarantine"] = write_table(ctx.frames["quarantine"], ctx.workdir / "quarantine.csv")


def _record_gates(ctx: RunContext, result: GateResult) -> None:
    """Keep every gate outcome of the run (the report shows them all)."""
    ctx.results.gate_runs.append(result)
    ctx.results.gates = _combined_gates(ctx.results.gate_runs)
    if result.docs_index:
        ctx.results.outputs["data docs"] = Path(result.docs_index)


def _combined_gates(runs: list[GateResult]) -> GateResult:
    from cdq.gates import GateResult

    return GateResult(pd.concat([r.results for r in runs], ignore_index=True),
                      {k: sum(r.timings.get(k, 0.0) for r in runs) for k in ("gx_import", "validate")},
                      next((r.docs_index for r in reversed(runs) if r.docs_index), None),
                      pd.concat([r.failing_rows for r in runs], ignore_index=True))


def _stop(ctx: RunContext, result: GateResult) -> None:
    """Write the report (the store is untouched) and raise CheckFailed (exit 1)."""
    from cdq.gates import check

    ctx.stopped = True
    stage_report(ctx)
    check(result)


@STAGES.register("report")
def stage_report(ctx: RunContext) -> None:
    """Write the self-contained HTML run report to ``WORKDIR/run_report.html``."""
    from cdq.reporting import write_run_report

    load = ctx.results.load
    path = write_run_report(
        ctx.workdir / "run_report.html", title=f"cdq run: {ctx.spec.name}", staging=ctx.frames.get("staging"),
        quarantine=ctx.frames.get("quarantine"), checked=ctx.current, findings=ctx.all_findings(),
        pairs=ctx.frames.get("pairs"), clusters=ctx.frames.get("clusters"),
        golden=_report_golden(ctx), gates=ctx.results.gates, timings=ctx.timings,
        loaded=load.line() if load is not None else None, held=_held(ctx), changes=_changes(ctx),
        headline=ctx.results.headline,
    )
    ctx.results.outputs["run report"] = path


def _report_golden(ctx: RunContext) -> pd.DataFrame | None:
    """Every active golden record after the run (None when the run stopped before the store was opened)."""
    if "golden" in ctx.frames:
        return ctx.frames["golden"]
    if ctx.store is None and ctx.stopped:
        return None
    ctx.frames["golden"] = _golden_records(ctx)
    return ctx.frames["golden"]


def _changes(ctx: RunContext) -> pd.DataFrame | None:
    """What this run changed in the golden store (None when it wrote nothing)."""
    from cdq.reporting.changes import run_changes

    merged = ctx.results.golden
    return run_changes(_store(ctx), merged.run_id) if merged is not None else None


def _held(ctx: RunContext) -> pd.DataFrame | None:
    """The records the gates held in this run (quarantine rows with reason GATE_HELD)."""
    from cdq.reasons import GATE_HELD

    quarantine = ctx.frames.get("quarantine")
    if quarantine is None or quarantine.empty:
        return None
    return quarantine[quarantine["reason_code"].eq(GATE_HELD)].reset_index(drop=True)


@STAGES.register("export")
def stage_export(ctx: RunContext) -> None:
    """Write the clean customer list (golden records), the cross-reference and the quarantine to the workdir."""
    from cdq.store.schema import source_records, xref

    golden = ctx.frames.get("golden") if "golden" in ctx.frames else _golden_records(ctx)
    store = _store(ctx)
    with store.engine.connect() as conn:
        links = pd.read_sql(
            select_xref(source_records, xref), conn,
        )
    outputs = ctx.results.outputs
    outputs["golden records"] = write_table(golden, ctx.workdir / "golden_records.xlsx", sheet_name="klanten")
    outputs["cross-reference"] = write_table(links, ctx.workdir / "xref.csv")
    outputs["quarantine"] = write_table(ctx.frames.get("quarantine", pd.DataFrame()), ctx.workdir / "quarantine.csv")


def select_xref(source_records: sa.Table, xref: sa.Table) -> sa.Select:
    """Source record ref -> golden id, match score and rule."""
    import sqlalchemy as sa

    return sa.select(source_records.c.ref, source_records.c.source, xref.c.golden_id, xref.c.match_score,
                     xref.c.rule).select_from(source_records.join(xref, xref.c.source_record_id == source_records.c.id))


@STAGES.register("names")
def stage_names(ctx: RunContext) -> None:
    """Name plausibility: score, verdict and reason codes per record; companies move to company_name."""
    from cdq.names import check

    frame, findings = check(ctx.current)
    _keep(ctx, "checked", frame)  # the name the pipeline's `current` looks for
    ctx.findings.append(findings)



@STAGES.register("retention")
def stage_retention(ctx: RunContext) -> None:
    """Apply ``rules/retention.yaml`` to the golden store and the work directory (counted in the report)."""
    from cdq.privacy.retention import apply_retention, load_retention

    purged = apply_retention(_store(ctx), load_retention(), workdir=ctx.workdir, dry_run=ctx.dry_run)
    ctx.results.retention = purged
    ctx.results.headline["purged by retention"] = len(purged)
