"""Quality gates: Great Expectations suites (``rules/expectations/*.json``) run before the CRM load.

:func:`run_gates` validates the record-level frame (suite ``staging``), the golden records (suite
``golden``) and the run's row accounting (suite ``accounting``: rows in = golden members + quarantined).
It never raises for bad data: the :class:`GateResult` says whether every critical expectation held
(``passed``), which failed and on how many rows (``failures``), and where the Data Docs are.
:func:`check` raises :class:`cdq.errors.CheckFailed` (exit 1) for the CLI and pipeline.

Examples:
    >>> accounting(rows_in=10, golden_members=8, quarantined=2).to_dict("records")
    [{'rows_in': 10, 'golden_members': 8, 'quarantined': 2, 'accounted': 10}]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdq.errors import CheckFailed
from cdq.gates.suites import Suite, load_suite, suite_dir

__all__ = ["GateResult", "accounting", "check", "check_suites", "load_suite", "run_gates", "Suite"]

SUITES = ("staging", "golden", "accounting")

logger = logging.getLogger(__name__)


@dataclass
class GateResult:
    """The outcome of the gates: one row per expectation in ``results``; ``failures`` the failed ones."""

    results: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    docs_index: Path | None = None
    #: ``suite, expectation, column, row_id`` of the rows behind failed critical expectations on values.
    failing_rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["suite", "expectation", "column", "row_id"]))

    @property
    def failures(self) -> pd.DataFrame:
        """Failed expectations (critical first): suite, expectation, column, failed_rows, critical, ..."""
        failed = self.results[~self.results["success"]]
        return failed.sort_values("critical", ascending=False, kind="stable").reset_index(drop=True)

    @property
    def critical_failures(self) -> pd.DataFrame:
        return self.failures[self.failures["critical"]].reset_index(drop=True)

    def only(self, suites: tuple[str, ...]) -> GateResult:
        """The outcome of some suites only (e.g. the golden suite, after the staging suite was dealt with)."""
        return GateResult(self.results[self.results["suite"].isin(suites)].reset_index(drop=True), self.timings,
                          self.docs_index, self.failing_rows[self.failing_rows["suite"].isin(suites)])

    @property
    def holdable(self) -> bool:
        """True when every critical failure is pinned on rows, so holding those rows can let the rest pass.

        A failure about the table as a whole (no rows, a missing column, the row accounting) never is.
        """
        crit = self.critical_failures
        pinned = set(zip(self.failing_rows["suite"], self.failing_rows["expectation"], self.failing_rows["column"]))
        return all((r.suite, r.expectation, r.column) in pinned for r in crit.itertuples())

    @property
    def passed(self) -> bool:
        """True when no critical expectation failed (warnings do not stop a run)."""
        return self.critical_failures.empty

    def summary(self) -> str:
        """One line per failed expectation: what failed, on which column, on how many rows.

        Examples:
            >>> r = GateResult(pd.DataFrame([{"suite": "staging", "expectation": "expect_x", "column": "city",
            ...     "critical": True, "success": False, "failed_rows": 5, "checked_rows": 10, "detail": ""}]))
            >>> print(r.summary())
            gate failed: staging expect_x on city: 5 of 10 rows (critical)
        """
        if self.failures.empty:
            return f"gates passed: {len(self.results)} expectations held"
        lines = [f"{r.suite} {r.expectation} on {r.column or 'table'}: {r.failed_rows} of {r.checked_rows} rows "
                 f"({'critical' if r.critical else 'warning'})" for r in self.failures.itertuples()]
        head = "gate failed" if not self.passed else "gates passed with warnings"
        return f"{head}: " + "\n  ".join(lines)


def accounting(rows_in: int, golden_members: int, quarantined: int) -> pd.DataFrame:
    """The run's row accounting as a one-row frame for suite ``accounting``."""
    return pd.DataFrame([{"rows_in": int(rows_in), "golden_members": int(golden_members),
                          "quarantined": int(quarantined), "accounted": int(golden_members) + int(quarantined)}])


def run_gates(
    staging: pd.DataFrame | None = None,
    golden: pd.DataFrame | None = None,
    accounting_frame: pd.DataFrame | None = None,
    suite_directory: str | Path | None = None,
    docs_dir: str | Path | None = None,
    *,
    suites: tuple[str, ...] = ("staging", "golden", "accounting"),
) -> GateResult:
    """Validate whichever frames are given against their suites; build Data Docs into ``docs_dir``.

    Args:
        staging: the record-level frame after cleaning (the pipeline's ``checked`` frame).
        golden: the golden records about to be loaded (one row per ``golden_id``).
        accounting_frame: :func:`accounting` of the run.
        suite_directory: folder with ``staging.json``, ``golden.json``, ``accounting.json`` (default: bundled).
        docs_dir: where GE writes its Data Docs site (``index.html``, made offline); None: no docs.
        suites: which of the given frames to validate (the others are ignored).

    Suites are checked against GE's own expectation definitions first (a typo is a ConfigError listing
    every problem, never a dropped check). Failing rows are identified by ``record_id`` (staging) and
    ``golden_id`` (golden) in :attr:`GateResult.failing_rows`.
    """
    from cdq.gates.run import validate

    directory = Path(suite_directory) if suite_directory else suite_dir()
    frames = {name: (load_suite(name, directory), frame) for name, frame in
              (("staging", staging), ("golden", golden), ("accounting", accounting_frame))
              if frame is not None and name in suites}
    results, timings, index, failing = validate(frames, docs_dir,
                                                id_columns={"staging": "record_id", "golden": "golden_id"})
    results = _explain_accounting(results, accounting_frame)
    result = GateResult(results, timings, index, failing)
    logger.info("gates: %d expectations, %d failed (%d critical)", len(results), len(result.failures),
                len(result.critical_failures))
    return result


def _explain_accounting(results: pd.DataFrame, frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None or frame.empty:
        return results
    row = frame.iloc[0]
    detail = (f"rows in {row['rows_in']} vs golden members {row['golden_members']} + quarantined "
              f"{row['quarantined']} = {row['accounted']}")
    results.loc[results["suite"].eq("accounting"), "detail"] = detail
    missing = abs(int(row["rows_in"]) - int(row["accounted"]))
    results.loc[results["suite"].eq("accounting") & ~results["success"], "failed_rows"] = missing
    return results


def check_suites(suite_directory: str | Path | None = None) -> None:
    """Load every suite and check it against GE's definitions (ConfigError listing every problem)."""
    from cdq.gates.run import check_suite

    directory = Path(suite_directory) if suite_directory else suite_dir()
    for name in SUITES:
        check_suite(load_suite(name, directory))


def check(result: GateResult) -> GateResult:
    """Raise CheckFailed (exit 1) naming every failed critical expectation; return the result otherwise."""
    if not result.passed:
        raise CheckFailed(result.summary(), failure_cases=result.failures,
                          hint="nothing was written to the golden store or loaded into the CRM; see the run report and the Data Docs")
    return result
