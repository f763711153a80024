"""Run a pipeline definition (``pipelines/*.yaml``): import, then the named stages in order.

A pipeline is data::

    name: nightly
    inputs:                      # files, folders or SQLAlchemy URLs; paths relative to this YAML file
      - path: exports/backoffice.csv
        mapping: mappings/backoffice.yaml   # optional
    reference: ../reference_data/demo_bag.csv   # optional address reference (flat BAG CSV or a store)
    store: sqlite:///{workdir}/golden.sqlite    # the golden store
    crm: sqlite:///{workdir}/crm.sqlite         # the CRM target
    stages: [normalize, address, names, linkage, golden, load]

``{workdir}`` is the run's work directory (``cdq run --workdir``), ``{fixtures}``, ``{reference_data}``
and ``{rules}`` are the bundled folders. Each stage is a plain library function; this module only
chains them, names every intermediate artefact (``staging``, ``normalized``, ``addressed``,
``checked``, ``pairs``, ``clusters``, ``golden``) and, with ``keep_intermediates``, writes each one.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from cdq.columns import empty_findings
from cdq.config import load_model
from cdq.errors import UsageError
from cdq.log import Progress, ProgressLog
from cdq.resources import resource

if TYPE_CHECKING:  # result types only: the stages import their modules when they run
    from cdq.crm.base import LoadResult
    from cdq.gates import GateResult
    from cdq.golden import MergeResult
    from cdq.nightly import Match
    from cdq.printouts import PrintoutRun
    from cdq.staging import TableCount
    from cdq.store import GoldenStore

logger = logging.getLogger(__name__)

StageName = Literal["normalize", "address", "names", "linkage", "golden", "gates", "load", "export", "printouts",
                    "report", "retention"]


class InputSpec(BaseModel):
    """One input of a pipeline."""

    model_config = ConfigDict(extra="forbid")
    path: str
    mapping: str | None = None
    source: str | None = None
    sheet: str | None = None
    #: The input is a full extract of its source: a record missing from it was deleted at the source
    #: (soft-deleted in the golden store; see the deletion policy in ``cdq.golden``).
    full_extract: bool = False
    #: Why this source's personal data is processed (the processing register, ``cdq privacy register``).
    purpose: str | None = None


class HoldSpec(BaseModel):
    """Which records a run holds out of the golden records (into the quarantine, with their reason)."""

    model_config = ConfigDict(extra="forbid")
    #: person records whose name is junk (placeholder, fictional, keyboard run, punctuation, repeated words)
    junk_names: bool = True
    #: mailbox correspondents without a name: unless_matched (kept when linkage matches them to another
    #: record), always, or never
    nameless_mail: Literal["unless_matched", "always", "never"] = "unless_matched"


class PipelineSpec(BaseModel):
    """A pipeline definition (authoring form, as written in YAML)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    #: The purpose of the processing (AVG art. 30), shown by ``cdq privacy register``.
    purpose: str | None = None
    inputs: list[InputSpec]
    stages: list[StageName] = ["normalize", "address", "names", "gates", "linkage", "golden", "load", "report"]
    reference: str | None = None
    store: str = "sqlite:///{workdir}/golden.sqlite"
    crm: str | None = "sqlite:///{workdir}/crm.sqlite"
    hold: HoldSpec = HoldSpec()
    #: What a failed critical quality gate does: ``stop`` the run before anything is written, or
    #: ``hold_failing``: hold the failing records in the quarantine and load the rest.
    gate_policy: Literal["stop", "hold_failing"] = "hold_failing"
    #: Where the first run's matching runs: ``pandas`` (this machine) or ``spark`` (``cdq[spark]``; see
    #: README "Scale-out on Spark"), on ``spark_master`` (default CDQ_SPARK_MASTER or local[*]).
    engine: Literal["pandas", "spark"] = "pandas"
    spark_master: str | None = None

    @model_validator(mode="after")
    def _gates_before_writes(self) -> PipelineSpec:
        if "gates" in self.stages:
            at = self.stages.index("gates")
            late = [s for s in ("linkage", "golden", "load", "export") if s in self.stages[:at]]
            if late:
                raise ValueError(f"stage 'gates' must come before {', '.join(late)}: the gates check records "
                                 "before anything is written to the golden store or the CRM")
        return self


@dataclass
class RunResults:
    """What a run's stages report, stage by stage (the CLI summary and the HTML report are drawn from it)."""

    #: import: one entry per input table (its file, source and rows in / staged / quarantined)
    tables: list[TableCount] = field(default_factory=list)
    #: import: rows quarantined while reading (records held later are counted in ``headline``)
    quarantined_at_import: int | None = None
    #: import: sources delivered as full extracts (their missing records were deleted at the source)
    full_sources: set[str] = field(default_factory=set)
    #: earlier runs found dead and marked ``killed`` when this run started (the CLI warns about them)
    killed_runs: pd.DataFrame | None = None
    #: linkage: the batch matched against the store (the golden stage merges it)
    match: Match | None = None
    #: linkage: batch records per status (``new``, ``changed``, ``same``)
    batch_status: dict[str, int] = field(default_factory=dict)
    #: linkage: candidate pairs per blocking pass
    blocking_report: pd.DataFrame | None = None
    #: golden: what the merge into the golden store did
    golden: MergeResult | None = None
    #: load: what the CRM load did
    load: LoadResult | None = None
    #: gates: every gate outcome of the run, and all of them combined
    gate_runs: list[GateResult] = field(default_factory=list)
    gates: GateResult | None = None
    #: printouts: one row per adviser
    printouts: PrintoutRun | None = None
    #: retention: what was (or, dry, would be) purged
    retention: pd.DataFrame | None = None
    #: headline numbers of the run summary (label -> count), in the order the stages add them
    headline: dict[str, int] = field(default_factory=dict)
    #: files the run wrote (label -> path)
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class RunContext:
    """Everything a run produces, stage by stage (named intermediate artefacts and typed results)."""

    spec: PipelineSpec
    base_dir: Path
    workdir: Path
    crm: str | None
    dry_run: bool = False
    keep_intermediates: bool = False
    progress: Progress | None = None
    #: Seconds a write to the golden store waits for another writer's lock (0: fail at once, clearly).
    wait: float = 0.0
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[pd.DataFrame] = field(default_factory=list)
    results: RunResults = field(default_factory=RunResults)
    timings: dict[str, float] = field(default_factory=dict)
    current_name: str = "staging"
    #: the golden store, opened by the first stage that needs it
    store: GoldenStore | None = None
    #: this run's row in the store's ``runs`` table (started by the first stage that writes)
    run_id: int | None = None
    #: the run's row was finished (or discarded): a later error must not mark it failed
    run_finished: bool = False
    #: a quality gate stopped the run
    stopped: bool = False

    def expand(self, text: str) -> str:
        """Fill ``{workdir}``, ``{fixtures}``, ``{reference_data}``, ``{rules}`` placeholders."""
        return text.format(
            workdir=self.workdir.as_posix(), fixtures=resource("fixtures").as_posix(),
            reference_data=resource("reference_data").as_posix(), rules=resource("rules").as_posix(),
        )

    def path(self, text: str) -> str:
        """A path from the YAML: placeholders filled, relative paths taken from the YAML's folder."""
        expanded = self.expand(text)
        if "://" in expanded or Path(expanded).is_absolute():
            return expanded
        return str((self.base_dir / expanded).resolve())

    @property
    def current(self) -> pd.DataFrame:
        """The latest record-level frame (``staging``, then ``normalized``, ``addressed``, ``checked``)."""
        if self.current_name not in self.frames:
            raise UsageError("the pipeline has no input frame yet")
        return self.frames[self.current_name]

    def all_findings(self) -> pd.DataFrame:
        """Every stage's findings in one frame (the fixed findings columns when there are none)."""
        frames = [f for f in self.findings if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else empty_findings()


def load_pipeline(path: str | Path) -> PipelineSpec:
    """Read and validate a pipeline YAML file."""
    return load_model(path, PipelineSpec)


def run_pipeline(
    path: str | Path,
    *,
    workdir: str | Path,
    crm: str | None = None,
    dry_run: bool = False,
    keep_intermediates: bool = False,
    progress: Progress | None = None,
    wait: float = 0.0,
) -> RunContext:
    """Run a pipeline file end to end; returns the context holding every artefact and result.

    ``wait``: seconds to wait for another writer of the golden store (default: fail at once, naming it).
    A run that stops on an error is marked ``failed`` in the store's ``runs`` table.
    """
    from cdq import stages

    path = Path(path)
    spec = load_pipeline(path)
    workdir = Path(workdir).resolve()
    if workdir.exists() and not workdir.is_dir():
        raise UsageError(f"{workdir}: --workdir is a file, not a folder")
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(spec, path.parent.resolve(), workdir, crm or spec.crm, dry_run, keep_intermediates, progress,
                     wait=wait)
    if not keep_intermediates:  # a debug run's copies of every record are not kept around (minimisation)
        shutil.rmtree(workdir / "intermediates", ignore_errors=True)
    stages.preflight(ctx)
    names = ["import", *spec.stages]
    # the progress callback follows the work inside each stage (import k/N, linkage steps, ...); stages are logged
    tick = ProgressLog(logger, f"pipeline {spec.name}: stages", len(names), every=0.0)
    try:
        with _store_lock(ctx):
            for k, name in enumerate(names, start=1):
                started = time.perf_counter()
                logger.info("stage %s: start", name)
                stages.STAGES[name](ctx)
                ctx.timings[name] = time.perf_counter() - started
                logger.info("stage %s: done in %.2fs", name, ctx.timings[name])
                tick(k)
    except KeyboardInterrupt:
        stages.abandon_run(ctx, "interrupted")
        raise
    except BaseException:
        stages.abandon_run(ctx)
        raise
    return ctx


@contextmanager
def _store_lock(ctx: RunContext) -> Iterator[None]:
    """A run that writes the golden store holds it from import to the end: web leads arriving meanwhile
    are queued and taken in after it (:mod:`cdq.leads.lock`), so its matching sees every stored record.

    Another run's hold is waited for up to ``ctx.wait`` seconds; a hold whose process is gone (a killed
    run on this host) is released, so a ``kill -9`` never blocks the next night.
    """
    if "golden" not in ctx.spec.stages:
        yield
        return
    from cdq import stages
    from cdq.leads.lock import StoreBusy, hold_run, release_if_gone

    store = stages._store(ctx)
    deadline = time.monotonic() + ctx.wait
    while True:
        release_if_gone(store)
        lock = hold_run(store, ctx.spec.name)
        try:
            lock.__enter__()
        except StoreBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
            continue
        try:
            yield
        finally:
            lock.__exit__(None, None, None)
        return
