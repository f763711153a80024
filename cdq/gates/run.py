"""Run expectation suites with Great Expectations and turn the results into one frame.

GE takes seconds to import, so it is imported here, inside :func:`validate`, never at package import.
Each call uses an ephemeral GE context (nothing is written to the repo) whose one Data Docs site is the
run's ``docs_dir``; one Checkpoint per frame validates it and updates the docs (``UpdateDataDocsAction``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd

from cdq.gates.suites import Suite, prepare_frame

logger = logging.getLogger(__name__)

RESULT_COLUMNS = ["suite", "expectation", "column", "critical", "success", "failed_rows", "checked_rows",
                  "failed_percent", "mostly", "detail"]


#: Counts only: GE's sample of failing values (``partial_unexpected_list``) would put customers' names,
#: e-mails and postcodes into the Data Docs pages, which are plain HTML files next to the run.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


def _import_gx():
    started = time.perf_counter()
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    return gx, UpdateDataDocsAction, time.perf_counter() - started


def _context(gx, docs_dir: Path | None):
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # GE draws tqdm bars on stderr for every metric; the CLI has its own progress display.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if docs_dir is not None:
        context.add_data_docs_site("cdq", {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return context


def validate(frames: dict[str, tuple[Suite, pd.DataFrame]], docs_dir: str | Path | None = None,
             run_name: str = "cdq") -> tuple[pd.DataFrame, dict[str, float], Path | None]:
    """Validate each ``name -> (suite, frame)``; return (results frame, timings, Data Docs index).

    The results frame has one row per expectation (:data:`RESULT_COLUMNS`). Timings: ``gx_import`` and
    ``validate`` (validation plus Data Docs) seconds.
    """
    gx, UpdateDataDocsAction, import_seconds = _import_gx()
    started = time.perf_counter()
    docs_dir = Path(docs_dir).resolve() if docs_dir is not None else None
    context = _context(gx, docs_dir)
    source = context.data_sources.add_pandas("cdq")
    actions = [UpdateDataDocsAction(name="data_docs", site_names=["cdq"])] if docs_dir is not None else []
    results = []
    for name, (suite, frame) in frames.items():
        batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(f"{name}_batch")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=list(suite.expectations)))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{run_name}_{name}", data=batch, suite=gx_suite))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"{run_name}_{name}_checkpoint", validation_definitions=[definition], actions=actions,
            result_format=RESULT_FORMAT))
        prepared = prepare_frame(frame, suite)
        outcome = checkpoint.run(batch_parameters={"dataframe": prepared})
        results.extend(_rows(name, r, len(prepared)) for r in outcome.run_results.values())
    validated = time.perf_counter()
    index = _docs_index(docs_dir)
    timings = {"gx_import": import_seconds, "validate": validated - started}
    logger.info("gates: GE import %.1fs, validate and Data Docs %.1fs", *timings.values())
    return pd.concat(results, ignore_index=True), timings, index


def _docs_index(docs_dir: Path | None) -> Path | None:
    if docs_dir is None:
        return None
    index = docs_dir / "index.html"
    if not index.exists():
        logger.warning("gates: Data Docs were not written to %s", docs_dir)
        return None
    return index


def _rows(name: str, outcome, total: int) -> pd.DataFrame:
    rows = []
    for result in outcome.results:
        config = result.expectation_config
        kwargs = config.kwargs
        rows.append({
            "suite": name, "expectation": config.type,
            "column": kwargs.get("column") or ",".join(kwargs[k] for k in ("column_A", "column_B") if k in kwargs),
            "critical": bool((config.meta or {}).get("critical")), "success": bool(result.success),
            **_counts(result, total), "mostly": kwargs.get("mostly", 1.0),
        })
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _counts(result, total: int) -> dict:
    """Failed/checked rows and a short detail from one GE expectation result."""
    info = result.result or {}
    if result.exception_info and result.exception_info.get("raised_exception"):
        message = str(result.exception_info.get("exception_message", ""))[:200]
        return {"failed_rows": total, "checked_rows": total, "failed_percent": 100.0,
                "detail": f"could not be evaluated: {message}"}
    if "unexpected_count" in info:
        checked = int(info.get("element_count", total)) - int(info.get("missing_count") or 0)
        failed = int(info["unexpected_count"])
        return {"failed_rows": failed, "checked_rows": checked,
                "failed_percent": round(100.0 * failed / checked, 2) if checked else 0.0, "detail": ""}
    observed = info.get("observed_value")
    return {"failed_rows": 0 if result.success else total, "checked_rows": total,
            "failed_percent": 0.0 if result.success else 100.0,
            "detail": "" if observed is None else f"observed {observed}"}
