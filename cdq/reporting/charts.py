"""The run report's charts: each takes the run's frames (or None) and returns one SVG string."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.reporting import svg

#: Canonical columns whose completeness is compared before and after cleaning.
COMPLETENESS = ["first_name", "initials", "last_name", "gender", "birth_date", "company_name", "street",
                "house_number", "postcode", "city", "country", "email", "phone", "mobile"]
TOP_REASONS = 25


def _filled(frame: pd.DataFrame, column: str) -> float:
    """Share (percent) of non-empty values; 0 for a missing column.

    Examples:
        >>> _filled(pd.DataFrame({"a": ["x", "", None, "y"]}), "a")
        50.0
    """
    if column not in frame.columns or not len(frame):
        return 0.0
    text = frame[column].astype("string").str.strip()
    return round(100.0 * float((text.notna() & text.ne("")).sum()) / len(frame), 1)


def rows_per_source(staging: pd.DataFrame | None, quarantine: pd.DataFrame | None) -> str:
    if staging is None or "source" not in staging.columns:
        return svg.empty("Rows per source")
    staged = staging["source"].fillna("(none)").value_counts()
    quarantined = (quarantine["source"].fillna("(none)").value_counts()
                   if quarantine is not None and "source" in quarantine.columns else pd.Series(dtype=int))
    sources = sorted(set(staged.index) | set(quarantined.index))
    return svg.bars(sources, {"staged": [int(staged.get(s, 0)) for s in sources],
                              "quarantined": [int(quarantined.get(s, 0)) for s in sources]}, "Rows per source")


def reason_codes(findings: pd.DataFrame | None, checked: pd.DataFrame | None) -> str:
    """Counts per ``field · REASON_CODE`` from the findings (or from ``issues`` when no findings)."""
    if findings is not None and len(findings) and {"column", "reason_code"} <= set(findings.columns):
        keys = findings["column"].fillna("-").astype(str) + " · " + findings["reason_code"].astype(str)
    elif checked is not None and "issues" in checked.columns:
        codes = checked["issues"].fillna("").astype(str).str.split(";").explode().str.strip()
        keys = codes[codes.ne("")]
    else:
        return svg.empty("Reason codes by field")
    top = keys.value_counts().head(TOP_REASONS)
    return svg.bars(list(top.index), {"rows": top.tolist()}, "Reason codes by field")


def completeness(staging: pd.DataFrame | None, checked: pd.DataFrame | None) -> str:
    if staging is None and checked is None:
        return svg.empty("Completeness")
    frames = {k: v for k, v in (("before cleaning", staging), ("after cleaning", checked)) if v is not None}
    columns = [c for c in COMPLETENESS if any(c in f.columns for f in frames.values())]
    return svg.bars(columns, {k: [_filled(f, c) for c in columns] for k, f in frames.items()}, "Completeness",
                    percent=True)


def counts(frame: pd.DataFrame | None, column: str, title: str) -> str:
    if frame is None or column not in frame.columns:
        return svg.empty(title)
    values = frame[column].astype("string").fillna("(empty)").value_counts()
    return svg.bars(list(values.index), {"rows": values.tolist()}, title)


def plausibility(checked: pd.DataFrame | None) -> str:
    if checked is None or "name_plausibility" not in checked.columns:
        return svg.empty("Name plausibility")
    values = pd.to_numeric(checked["name_plausibility"], errors="coerce").dropna()
    return svg.histogram(values.tolist(), "Name plausibility", bins=np.linspace(0, 1, 21),
                         x_label="name plausibility (0 = implausible, 1 = plausible)")


def _weight(probability: float) -> float:
    """Match weight (log2 odds) of a probability.

    Examples:
        >>> round(_weight(0.5), 3), round(_weight(0.8), 3)
        (0.0, 2.0)
    """
    p = min(max(probability, 1e-9), 1 - 1e-9)
    return float(np.log2(p / (1 - p)))


def match_scores(pairs: pd.DataFrame | None, thresholds: dict[str, float]) -> str:
    """Histogram of pair match weights with the review and auto-match thresholds as lines."""
    if pairs is None or not len(pairs):
        return svg.empty("Match weights")
    if "match_weight" in pairs.columns:
        values = pd.to_numeric(pairs["match_weight"], errors="coerce")
    else:
        values = pd.to_numeric(pairs["match_probability"], errors="coerce").map(_weight)
    markers = {f"{name.replace('_', ' ')} (p={p:g})": _weight(p) for name, p in thresholds.items()}
    return svg.histogram(values.dropna().tolist(), "Match weights", bins=40, markers=markers,
                         x_label="match weight (log2 odds); dashed lines: decision thresholds")


def cluster_sizes(clusters: pd.DataFrame | None) -> str:
    if clusters is None or "cluster_id" not in clusters.columns or not len(clusters):
        return svg.empty("Cluster sizes")
    sizes = clusters.groupby("cluster_id").size().value_counts().sort_index()
    return svg.bars([f"{n} record{'s' if n > 1 else ''}" for n in sizes.index], {"clusters": sizes.tolist()},
                    "Cluster sizes")
