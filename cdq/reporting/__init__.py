"""The run report: one self-contained HTML file per run (inline SVG charts, no scripts, no links out).

:func:`write_run_report` takes the run's named frames (any may be missing) and writes headline numbers,
the quality-gate outcome, and charts: rows per source, reason codes by field, completeness before and
after cleaning, address status, name plausibility, match weights with the thresholds drawn, and
cluster sizes. No personal values appear in it: only counts, column names, codes and scores.
"""

from __future__ import annotations

import datetime as dt
import logging
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from cdq.reporting import charts

__all__ = ["write_run_report", "render_run_report"]

logger = logging.getLogger(__name__)

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{margin-bottom:4px} .sub{color:#666;margin-top:0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:16px 0}
.num{background:#f3f6fa;border-radius:6px;padding:10px} .num b{display:block;font-size:22px}
.gate{padding:12px 16px;border-radius:6px;font-weight:600;margin:16px 0}
.gate.failed{background:#fbe3e1;border:2px solid #b8443f;color:#7d1f1a}
.gate.passed{background:#e3f4e8;border:2px solid #3a9a5b;color:#1e5a33}
.gate.skipped{background:#f3f3f3;border:2px solid #999}
table{border-collapse:collapse;margin:8px 0;font-size:13px} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
tr.critical td{background:#fdf0ef} section{margin:22px 0} h2{font-size:18px;border-bottom:1px solid #ddd}
"""


def write_run_report(path: str | Path, **frames) -> Path:
    """Render the report (see :func:`render_run_report` for the arguments) and write it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_run_report(**frames), encoding="utf-8")
    logger.info("run report written: %s", path)
    return path


def render_run_report(
    *,
    title: str = "cdq run",
    staging: pd.DataFrame | None = None,
    quarantine: pd.DataFrame | None = None,
    checked: pd.DataFrame | None = None,
    findings: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    clusters: pd.DataFrame | None = None,
    golden: pd.DataFrame | None = None,
    gates=None,
    thresholds: dict[str, float] | None = None,
    headline: dict[str, object] | None = None,
    timings: dict[str, float] | None = None,
    loaded: str | None = None,
    held: pd.DataFrame | None = None,
    changes: pd.DataFrame | None = None,
) -> str:
    """The report's HTML.

    Args:
        title: the run's name. staging: the frame as imported (before cleaning). quarantine: rejected rows.
        checked: the record-level frame after cleaning (address_status, name_plausibility, issues).
        findings: the stages' findings (``column``, ``reason_code``). pairs / clusters: linkage output.
        golden: the golden records. gates: a :class:`cdq.gates.GateResult` (or None: gates not run).
        thresholds: ``{"review": p, "auto_match": p}`` (default: ``rules/matching.yaml``).
        headline: extra headline numbers. timings: seconds per stage. loaded: the CRM load line.
        held: quarantine rows of the records the gates held (``source``, ``source_row``, ``detail``).
        changes: what changed tonight (:func:`cdq.reporting.changes.run_changes`): golden ids, the kind of
            change and the changed column names (no values).

    Examples:
        >>> html = render_run_report(title="t", staging=pd.DataFrame({"source": ["a", "a", "b"]}))
        >>> "<script" in html, "Rows per source" in html
        (False, True)
    """
    numbers = _headline(staging, quarantine, checked, pairs, clusters, golden, headline)
    body = [f"<h1>{escape(title)}</h1><p class='sub'>generated {dt.datetime.now().isoformat(timespec='seconds')}</p>",
            _gate_banner(gates, loaded), _numbers(numbers), _gate_table(gates), _held_table(held),
            _changes_section(changes)]
    sections = [
        ("Rows per source", charts.rows_per_source(staging, quarantine)),
        ("Reason codes by field", charts.reason_codes(findings, checked)),
        ("Completeness before and after cleaning", charts.completeness(staging, checked)),
        ("Address status", charts.counts(checked, "address_status", "Address status")),
        ("Name plausibility", charts.plausibility(checked)),
        ("Match weights and thresholds", charts.match_scores(pairs, thresholds or _default_thresholds())),
        ("Cluster sizes", charts.cluster_sizes(clusters)),
    ]
    body += [f"<section><h2>{escape(name)}</h2>{svg}</section>" for name, svg in sections]
    if timings:
        body.append("<section><h2>Stage timings</h2>" + _table(pd.DataFrame(
            [(k, f"{v:.2f}") for k, v in timings.items()], columns=["stage", "seconds"])) + "</section>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>")


def _default_thresholds() -> dict[str, float]:
    try:
        from cdq.linkage import load_settings

        s = load_settings()
        return {"review": s.review, "auto_match": s.auto_match}
    except Exception:  # noqa: BLE001 - a report without threshold lines beats no report
        return {}


def _headline(staging, quarantine, checked, pairs, clusters, golden, extra) -> dict[str, object]:
    numbers: dict[str, object] = {}
    if staging is not None:
        numbers["records staged"] = len(staging)
        if "source" in staging.columns:
            numbers["sources"] = staging["source"].nunique()
    if quarantine is not None:
        numbers["quarantined"] = len(quarantine)
    if checked is not None and "issues" in checked.columns:
        numbers["records with issues"] = int(checked["issues"].fillna("").astype(str).str.strip().ne("").sum())
    if pairs is not None and "decision" in pairs.columns:
        decided = pairs["decision"].astype(str).value_counts()
        numbers["pairs scored"] = len(pairs)
        numbers["auto matches"] = int(decided.get("match", 0))
        numbers["pairs to review"] = int(decided.get("review", 0))
    if clusters is not None and "cluster_id" in clusters.columns:
        numbers["clusters"] = clusters["cluster_id"].nunique()
    if golden is not None:
        numbers["golden records"] = len(golden)
    numbers.update(extra or {})
    return numbers


def _numbers(numbers: dict[str, object]) -> str:
    cells = "".join(f"<div class='num'><b>{escape(_show(v))}</b>{escape(k)}</div>" for k, v in numbers.items())
    return f"<div class='grid'>{cells}</div>"


def _show(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.2f}"
    return str(value)


def _gate_banner(gates, loaded: str | None) -> str:
    if gates is None:
        return "<div class='gate skipped'>Quality gates: not run</div>"
    if gates.passed:
        warnings = len(gates.failures)
        text = "Quality gates passed" + (f" with {warnings} warning(s)" if warnings else "")
        return f"<div class='gate passed'>{escape(text)}{'. ' + escape(loaded) if loaded else ''}</div>"
    lines = "".join(f"<li>{escape(r.suite)}: {escape(r.expectation)} on <code>{escape(str(r.column) or 'table')}"
                    f"</code> failed on {int(r.failed_rows):,} of {int(r.checked_rows):,} rows</li>"
                    for r in gates.critical_failures.itertuples())
    return (f"<div class='gate failed'>Quality gate FAILED: the run stopped; nothing was written to the golden "
            f"store or loaded into the CRM."
            f"<ul>{lines}</ul></div>")


def _gate_table(gates) -> str:
    if gates is None or gates.failures.empty:
        return ""
    shown = gates.failures[["suite", "expectation", "column", "critical", "failed_rows", "checked_rows",
                            "failed_percent", "mostly", "detail"]]
    docs = f"<p>Data Docs: <code>{escape(str(gates.docs_index))}</code></p>" if gates.docs_index else ""
    return "<section><h2>Failed expectations</h2>" + _table(shown, "critical") + docs + "</section>"


def _held_table(held: pd.DataFrame | None) -> str:
    """The records the gates held: where each came from (``source|row``) and which expectation it failed."""
    if held is None or held.empty:
        return ""
    rows = pd.DataFrame({"record (source|row)": [f"{s}|{r}" for s, r in zip(held["source"], held["source_row"])],
                         "failed expectation": held["detail"].astype(str)})
    return (f"<section><h2>Records held by the gates ({len(held):,})</h2><p>Not written to the golden store or "
            f"the CRM; they stay in the quarantine until their source is corrected.</p>{_table(rows)}</section>")


def _changes_section(changes: pd.DataFrame | None) -> str:
    """What changed tonight: golden records created, changed, merged, split or deleted, per column."""
    if changes is None:
        return ""
    if changes.empty:
        return "<section><h2>What changed tonight</h2><p>Nothing: no golden record changed.</p></section>"
    kind = changes["change"].str.replace(r"^merged into .*", "merged into another", regex=True)
    counts = kind.groupby(kind).size().rename("golden records").rename_axis("change").reset_index()
    return ("<section><h2>What changed tonight</h2>" + _table(counts) + _table(changes.head(200))
            + (f"<p>… and {len(changes) - 200:,} more.</p>" if len(changes) > 200 else "") + "</section>")


def _table(frame: pd.DataFrame, flag: str | None = None) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.to_dict("records"):
        css = " class='critical'" if flag and record.get(flag) else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{escape(_show(v))}</td>" for v in record.values()) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"
