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
