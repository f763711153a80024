"""Expectation suites as files (``rules/expectations/*.json``), read and checked without importing GE.

A suite file is Great Expectations' own suite JSON (``name``, ``expectations`` with ``type``, ``kwargs``,
``meta``) so it can be opened by GE tools as it is; cdq adds one convention: ``meta.critical`` (true:
a failure stops the CRM load; false: it is reported as a warning). Columns a suite names but the frame
lacks are added empty before validation (``expect_column_to_exist`` guards the required ones), and
``has_name`` is derived (a last name or a company name is present).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdq.errors import ConfigError
from cdq.resources import resource

#: Columns computed from the frame before validation (name -> function of the frame).
DERIVED = {
    "has_name": lambda f: _present(f, "last_name") | _present(f, "company_name"),
}
_COLUMN_KEYS = ("column", "column_A", "column_B")


def _present(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(False, index=frame.index)
    text = frame[column].astype("string").str.strip()
    return (text.notna() & text.ne("")).fillna(False).astype(bool)


@dataclass(frozen=True)
class Suite:
    """A resolved suite: its name, file, and the expectation dicts (GE configuration form)."""

    name: str
    path: Path
    expectations: tuple[dict, ...]

    @property
    def required(self) -> set[str]:
        """Columns the suite requires to exist (``expect_column_to_exist``)."""
        return {e["kwargs"]["column"] for e in self.expectations if e["type"] == "expect_column_to_exist"}

    @property
    def columns(self) -> list[str]:
        """Every column the suite's expectations name, in order, without repeats."""
        seen: dict[str, None] = {}
        for e in self.expectations:
            for key in _COLUMN_KEYS:
                if key in e["kwargs"]:
                    seen.setdefault(e["kwargs"][key], None)
        return list(seen)


def suite_dir() -> Path:
    """The bundled suites folder (``rules/expectations``)."""
    return resource("rules") / "expectations"


def load_suite(name: str, directory: str | Path | None = None) -> Suite:
    """Read ``<directory>/<name>.json`` and check its shape; a bad file raises ConfigError naming it.

    Examples:
        >>> s = load_suite("golden")
        >>> s.name, "golden_id" in s.columns
        ('golden', True)
    """
    path = Path(directory or suite_dir()) / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: expectation suite not found", hint="see rules/expectations/") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}, line {e.lineno}: not valid JSON: {e.msg}") from e
    problems = _problems(data)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return Suite(data["name"], path, tuple(data["expectations"]))


def _problems(data: object) -> list[str]:
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        return ["a suite is an object with 'name' and a list 'expectations'"]
    problems = [] if isinstance(data.get("name"), str) else ["'name' must be text"]
    for i, e in enumerate(data["expectations"]):
        where = f"expectations[{i}]"
        if not isinstance(e, dict) or not str(e.get("type", "")).startswith("expect_"):
            problems.append(f"{where}: needs 'type' (an expect_... name)")
            continue
        if not isinstance(e.get("kwargs", {}), dict):
            problems.append(f"{where}.kwargs must be an object")
        critical = e.get("meta", {}).get("critical")
        if not isinstance(critical, bool):
            problems.append(f"{where}.meta.critical must be true or false")
    return problems


def prepare_frame(frame: pd.DataFrame, suite: Suite, keep: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """The columns the suite reads (and ``keep``: row ids), as plain objects; missing ones empty, derived computed.

    Examples:
        >>> s = load_suite("golden")
        >>> prepare_frame(pd.DataFrame({"golden_id": ["G0000001"], "company_name": ["ACME"]}), s)["has_name"].tolist()
        [True]
    """
    out = pd.DataFrame(index=frame.index)
    for column in [c for c in keep if c in frame.columns and c not in suite.columns]:
        out[column] = frame[column].astype(str).to_numpy()
    for column in suite.columns:
        if column in DERIVED:
            out[column] = DERIVED[column](frame)
        elif column in frame.columns:
            values = frame[column]
            if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == "string":
                values = values.astype(object).where(values.notna(), None)
            out[column] = values
        elif column not in suite.required:
            out[column] = None
    return out.reset_index(drop=True)
