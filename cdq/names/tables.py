"""Name plausibility over whole input files: every input row and column kept, the result columns added.

This is what ``cdq names check`` does, as a library call: :func:`check_names_file` reads any file cdq can
import, scores the staged rows from their canonical name columns and the rows the import would quarantine
(no name, company, contact or address at all) from their name-like columns.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdq.errors import UsageError
from cdq.headers import map_headers
from cdq.importers import read_input
from cdq.importers.base import RawTable
from cdq.names import RESULT_COLUMNS, check, check_names
from cdq.names.score import PlausibilityConfig, ResolvedPlausibility, load_config, resolve
from cdq.staging import stage

__all__ = ["check_names_file", "check_names_table"]

_NAME_TARGETS = {"title", "initials", "first_name", "infix", "last_name", "gender", "full_name", "name_or_company"}


def check_names_file(path: str | Path, *, column: str | None = None,
                     config: PlausibilityConfig | str | Path | None = None,
                     threshold: float | None = None) -> pd.DataFrame:
    """Score the names of every row of a file; return every input row and column plus the result columns.

    Args:
        path: any input cdq can import (CSV, Excel, vCard, mailbox, ...).
        column: score this input column as a full name (default: the name columns cdq recognises).
        config: plausibility settings, a YAML path or None for ``rules/plausibility.yaml``.
        threshold: overrides the config's threshold for ``name_plausible``.

    Examples:
        >>> from cdq.resources import resource
        >>> out = check_names_file(resource("fixtures", "backoffice_export.csv"))
        >>> out[["name_plausibility", "name_plausible", "name_issues"]].dtypes.tolist()[1]
        dtype('bool')
    """
    loaded = config if isinstance(config, PlausibilityConfig) else load_config(config)
    if threshold is not None:
        loaded = loaded.model_copy(update={"threshold": threshold})
    resolved = resolve(loaded)
    frames = [check_names_table(raw, resolved, column=column) for raw in read_input(path)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def check_names_table(raw: RawTable, resolved: ResolvedPlausibility, *, column: str | None = None) -> pd.DataFrame:
    """One table read by an import adapter, scored; see :func:`check_names_file`."""
    out = raw.frame.copy()
    out.columns = [str(c) for c in out.columns]
    if column is not None:
        return _check_column(out, column, resolved, raw.source_file)
    staged, _ = stage(raw)
    checked, _ = check(staged, resolved)
    position = {row: i for i, row in enumerate(raw.rows)}
    result = pd.DataFrame(index=range(len(out)), columns=RESULT_COLUMNS, dtype=object)
    result.iloc[[position[r] for r in checked["source_row"]]] = checked[RESULT_COLUMNS].to_numpy()
    missing = result["name_plausible"].isna()
    if missing.any():
        names = [h for h, t in map_headers(list(out.columns)).items() if t in _NAME_TARGETS]
        text = out.loc[missing, names].astype("object").where(out.loc[missing, names].notna(), "")
        scored = check_names(text.astype(str).agg(" ".join, axis=1), resolved)
        result.loc[missing, RESULT_COLUMNS] = scored[RESULT_COLUMNS].to_numpy()
    for name in RESULT_COLUMNS:
        out[name] = result[name].to_numpy()
    out["name_plausible"] = out["name_plausible"].astype(bool)
    return out


def _check_column(out: pd.DataFrame, column: str, resolved: ResolvedPlausibility, source: str) -> pd.DataFrame:
    """Score one named input column as a full name typed in one field."""
    if column not in out.columns:
        raise UsageError(f"{source}: no column {column!r}", hint=f"columns: {', '.join(map(str, out.columns[:12]))}")
    scored = check_names(out[column], resolved)
    for name in RESULT_COLUMNS:
        out[name] = scored[name].to_numpy()
    return out
