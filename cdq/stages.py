"""The pipeline's stages as ``(RunContext) -> None`` steps; each one makes one library call.

Keeping these adapters in one place keeps :mod:`cdq.pipeline` free of stage details and every stage
module free of pipeline details: each library stage stays callable on its own frames.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from cdq.export import write_table
from cdq.headers import load_mapping
from cdq.pipeline import RunContext
from cdq.staging import import_inputs

logger = logging.getLogger(__name__)


def _keep(ctx: RunContext, name: str, frame: pd.DataFrame) -> None:
    ctx.frames[name] = frame
    if ctx.keep_intermediates:
        write_table(frame, ctx.workdir / "intermediates" / f"{name}.parquet")


def stage_import(ctx: RunContext) -> None:
    """Read every input of the pipeline into one staging frame (+ quarantine)."""
    stagings, quarantines, tables = [], [], []
    for spec in ctx.spec.inputs:
        mapping = load_mapping(ctx.path(spec.mapping)) if spec.mapping else None
        if spec.source and mapping is None:
            from cdq.headers import MappingFile

            mapping = MappingFile(source=spec.source)
        options = {"sheet": spec.sheet} if spec.sheet else {}
        result = import_inputs([ctx.path(spec.path)], mapping=mapping, **options)
        stagings.append(result.staging)
        quarantines.append(result.quarantine)
        tables.extend(result.tables)
    staging = pd.concat(stagings, ignore_index=True)
    if staging["record_id"].duplicated().any():
        # Two inputs with the same source name: keep record ids unique within the run.
        dup = staging["record_id"].duplicated(keep=False)
        staging.loc[dup, "record_id"] = staging.loc[dup, "record_id"] + "~" + staging.index[dup].astype(str)
    _keep(ctx, "staging", staging)
    ctx.frames["quarantine"] = pd.concat(quarantines, ignore_index=True)
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


def _store(ctx: RunContext):
    from cdq.store import GoldenStore

    if "store" not in ctx.results:
        ctx.results["store"] = GoldenStore(ctx.expand(ctx.spec.store))
    return ctx.results["store"]


def stage_linkage(ctx: RunContext) -> None:
    """Match the batch: everything on a first run; later only new/changed records against the store.

    Produces ``pairs`` and ``clusters`` and the ``merge_input`` frame (batch + the stored records the
    batch was matched against), which the golden stage hands to survivorship.
    """
    from cdq.golden import batch_status, record_refs, stored_records
    from cdq.linkage import dedupe, link

    frame = ctx.current
    store = _store(ctx)
    status = batch_status(frame, store)
    stored = stored_records(store, exclude_refs=set(record_refs(frame)))
    first_run = (status == "new").all() and stored.empty
    if first_run:
        result = dedupe(frame, progress=ctx.progress)
        merge_input = frame
    else:
        changed = frame[status != "same"]
        existing = pd.concat([frame[status == "same"], stored], ignore_index=True)
        merge_input = pd.concat([frame, stored], ignore_index=True)
        if changed.empty:
            result = None
        else:
            result = link(changed, existing, progress=ctx.progress)
    pairs = result.pairs if result is not None else pd.DataFrame(
        columns=["record_id_l", "record_id_r", "match_weight", "match_probability", "decision"])
    clusters = result.clusters if result is not None else pd.DataFrame(columns=["record_id", "cluster_id"])
    _keep(ctx, "pairs", pairs)
    _keep(ctx, "clusters", clusters)
    ctx.frames["merge_input"] = merge_input
    ctx.results["batch_status"] = status.value_counts().to_dict()
    if result is not None:
        ctx.results["blocking_report"] = result.report


def stage_golden(ctx: RunContext) -> None:
    """Map clusters onto stable golden ids and re-survive the touched golden records."""
    from cdq.golden import merge_batch
    from cdq.survivorship import load_rules

    store = _store(ctx)
    rules = load_rules()
    run_id = store.start_run(ctx.spec.name)
    result = merge_batch(ctx.frames["merge_input"], ctx.frames["clusters"], store, rules, run_id,
                         pairs=ctx.frames["pairs"])
    store.finish_run(run_id, counts=result.counts)
    ctx.results["golden"] = result
    ctx.results.setdefault("headline", {}).update({
        "golden records touched": result.counts.get("golden_touched", 0),
        "merges": result.counts.get("merges", 0),
    })


def _crm_target(url: str):
    """The CRM target for a URL: SQL databases directly, other CRMs through the adapter registry."""
    if url.startswith(("sqlite:", "postgresql:", "postgresql+")):
        from cdq.crm import SqlCrmTarget

        return SqlCrmTarget(url)
    from cdq.crm.registry import target_from_url

    return target_from_url(url)


def stage_load(ctx: RunContext) -> None:
    """Load the golden records into the CRM (delta, one transaction); compares every golden record."""
    from cdq.crm import load_from_store

    if not ctx.crm:
        return
    crm = _crm_target(ctx.expand(ctx.crm))
    result, _plan = load_from_store(_store(ctx), crm, dry_run=ctx.dry_run, full=True)
    ctx.results["load"] = result


STAGES.update({
    "linkage": stage_linkage,
    "golden": stage_golden,
    "load": stage_load,
})
