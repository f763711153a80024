"""Run expectation suites with Great Expectations and turn the results into one frame.

GE takes seconds to import, so it is imported here, inside :func:`validate`, never at package import.
Each call uses an ephemeral GE context (nothing is written to the repo) whose one Data Docs site is the
run's ``docs_dir``; one Checkpoint per frame validates it and updates the docs (``UpdateDataDocsAction``).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from cdq.errors import ConfigError
from cdq.gates.suites import Suite, prepare_frame

logger = logging.getLogger(__name__)

RESULT_COLUMNS = ["suite", "expectation", "column", "critical", "success", "failed_rows", "checked_rows",
                  "failed_percent", "mostly", "detail"]


#: The failing rows' ids (and, inevitably, their values) for holding records: never written to Data Docs.
INDEX_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False}
#: Expectations about the table as a whole: a failure cannot be pinned on rows, it always stops the run.
FAILING_ROW_COLUMNS = ["suite", "expectation", "column", "row_id"]

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


def check_suite(suite: Suite) -> None:
    """Check every expectation of a suite against GE's own definitions; raise one ConfigError listing all.

    An unknown type (a typo) or a parameter GE does not know would otherwise be dropped by GE with a long
    traceback, and the run would go on without that check.
    """
    import difflib

    from great_expectations.expectations.registry import _registered_expectations, get_expectation_impl

    text = suite.path.read_text(encoding="utf-8") if suite.path.is_file() else ""
    problems = []
    for i, expectation in enumerate(suite.expectations):
        kind = str(expectation.get("type"))
        where = f"{suite.path}, line {_line_of(text, kind, i)}: expectations[{i}] ({kind})"
        try:
            impl = get_expectation_impl(kind)
        except Exception:  # noqa: BLE001 - GE raises its own ExpectationNotFoundError
            close = difflib.get_close_matches(kind, list(_registered_expectations), n=1)
            problems.append(f"{where}: unknown expectation type" + (f"; did you mean {close[0]!r}?" if close else ""))
            continue
        try:
            impl(**expectation.get("kwargs", {}), meta=expectation.get("meta") or {})
        except Exception as e:  # noqa: BLE001 - pydantic's ValidationError or GE's own: report, never drop
            detail = _pydantic_problems(e)
            problems.append(f"{where}: invalid parameters: {detail}")
    if problems:
        raise ConfigError("expectation suite problems:\n  " + "\n  ".join(problems),
                          hint="see the Great Expectations expectation gallery for types and their parameters")


def _pydantic_problems(error: Exception) -> str:
    """``field: message`` for each problem pydantic found, else the error's text."""
    try:
        return "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in error.errors())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - not a pydantic error
        return " ".join(str(error).split())


def _line_of(text: str, kind: str, nth: int) -> int:
    """The line of the ``nth`` expectation's type in the suite file (1 when not found)."""
    at = -1
    for _ in range(nth + 1):
        found = text.find('"type"', at + 1)
        if found < 0:
            break
        at = found
    return text.count("\n", 0, max(at, 0)) + 1


def validate(frames: dict[str, tuple[Suite, pd.DataFrame]], docs_dir: str | Path | None = None,
             run_name: str = "cdq", id_columns: dict[str, str] | None = None,
             ) -> tuple[pd.DataFrame, dict[str, float], Path | None, pd.DataFrame]:
    """Validate each ``name -> (suite, frame)``; return (results, timings, Data Docs index, failing rows).

    The results frame has one row per expectation (:data:`RESULT_COLUMNS`). Timings: ``gx_import`` and
    ``validate`` (validation plus Data Docs) seconds. ``id_columns`` names, per frame, the column that
    identifies a row (``record_id``, ``golden_id``): for every failed critical expectation on single values
    the ids of the failing rows are returned (:data:`FAILING_ROW_COLUMNS`), never written anywhere.
    """
    gx, UpdateDataDocsAction, import_seconds = _import_gx()
    for suite, _ in frames.values():
        check_suite(suite)
    started = time.perf_counter()
    docs_dir = Path(docs_dir).resolve() if docs_dir is not None else None
    context = _context(gx, docs_dir)
    source = context.data_sources.add_pandas("cdq")
    actions = [UpdateDataDocsAction(name="data_docs", site_names=["cdq"])] if docs_dir is not None else []
    results, failing = [], []
    for name, (suite, frame) in frames.items():
        batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(f"{name}_batch")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=list(suite.expectations)))
        if len(gx_suite.expectations) != len(suite.expectations):
            raise ConfigError(f"{suite.path}: Great Expectations kept {len(gx_suite.expectations)} of "
                              f"{len(suite.expectations)} expectations")
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{run_name}_{name}", data=batch, suite=gx_suite))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"{run_name}_{name}_checkpoint", validation_definitions=[definition], actions=actions,
            result_format=RESULT_FORMAT))
        id_column = (id_columns or {}).get(name)
        prepared = prepare_frame(frame, suite, keep=[id_column] if id_column else ())
        outcome = checkpoint.run(batch_parameters={"dataframe": prepared})
        rows = pd.concat([_rows(name, r, len(prepared)) for r in outcome.run_results.values()], ignore_index=True)
        results.append(rows)
        if id_column and id_column in prepared.columns:
            failing.append(_failing_rows(gx, context, batch, name, suite, rows, prepared, id_column))
    validated = time.perf_counter()
    index = _docs_index(docs_dir)
    timings = {"gx_import": import_seconds, "validate": validated - started}
    logger.info("gates: GE import %.1fs, validate and Data Docs %.1fs", *timings.values())
    failing_rows = pd.concat(failing, ignore_index=True) if failing else pd.DataFrame(columns=FAILING_ROW_COLUMNS)
    return pd.concat(results, ignore_index=True), timings, index, failing_rows


def _failing_rows(gx, context, batch, name: str, suite: Suite, rows: pd.DataFrame, prepared: pd.DataFrame,
                  id_column: str) -> pd.DataFrame:
    """Ids of the rows behind each failed critical expectation on single values (a second, doc-less run)."""
    failed = set(rows.loc[(~rows["success"]) & rows["critical"], "spec"])
    wanted = [e for e in suite.expectations
              if _spec(e["type"], e.get("kwargs", {})) in failed and "column" in e.get("kwargs", {})]
    if not wanted:
        return pd.DataFrame(columns=FAILING_ROW_COLUMNS)
    again = context.suites.add(gx.ExpectationSuite(name=f"{suite.name}_rows", expectations=wanted))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}_failing_rows", data=batch, suite=again))
    outcome = definition.run(batch_parameters={"dataframe": prepared},
                             result_format={**INDEX_FORMAT, "unexpected_index_column_names": [id_column]})
    out = []
    for result in outcome.results:
        config = result.expectation_config
        for hit in (result.result or {}).get("unexpected_index_list") or []:
            row_id = hit.get(id_column) if isinstance(hit, dict) else hit
            out.append({"suite": name, "expectation": config.type, "column": config.kwargs.get("column"),
                        "row_id": None if row_id is None else str(row_id)})
    return pd.DataFrame(out, columns=FAILING_ROW_COLUMNS)


def _docs_index(docs_dir: Path | None) -> Path | None:
    if docs_dir is None:
        return None
    from cdq.gates.offline import make_offline

    index = docs_dir / "index.html"
    if not index.exists():
        logger.warning("gates: Data Docs were not written to %s", docs_dir)
        return None
    make_offline(docs_dir)
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
            "spec": _spec(config.type, kwargs),
        })
    return pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "spec"])


def _spec(kind: str, kwargs) -> str:
    """An expectation's identity (type + parameters) to find it again in its suite."""
    return json.dumps({"type": kind, **{k: v for k, v in dict(kwargs).items() if k != "batch_id"}},
                      sort_keys=True, default=str)


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
