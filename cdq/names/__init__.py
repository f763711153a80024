"""Name plausibility: is this a realistic person name? (score 0..1, a verdict, and reason codes).

``check(frame, config)`` is the pipeline stage on the canonical staging columns; ``check_names(series)``
scores one free-text name column. An unknown name is not an invalid name: names that are in no list are
scored by a character model trained on real names from many communities.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cdq.columns import FINDINGS, empty_findings
from cdq.names.rules import PARTS, RULES, build_view
from cdq.names.score import (
    COMPANY,
    UNLIKELY,
    PlausibilityConfig,
    ResolvedPlausibility,
    load_config,
    resolve,
    score_view,
)

__all__ = ["check", "check_names", "score_parts", "resolve", "load_config", "PlausibilityConfig",
           "ResolvedPlausibility", "RESULT_COLUMNS", "train_model"]

logger = logging.getLogger(__name__)

RESULT_COLUMNS = ["name_plausibility", "name_plausible", "name_issues"]
_PERSON_PARTS = ["title", "initials", "first_name", "infix", "last_name"]


def _resolved(config) -> ResolvedPlausibility:
    return config if isinstance(config, ResolvedPlausibility) else resolve(config)


def score_parts(parts: pd.DataFrame, config=None) -> pd.DataFrame:
    """Score name records given as parts (any of :data:`~cdq.names.rules.PARTS`); one result row per row.

    Each distinct record is scored once. Returns ``name_plausibility``, ``name_plausible``, ``name_issues``
    (';'-joined reason codes) and ``is_company``, indexed like ``parts``.
    """
    resolved = _resolved(config)
    strings = pd.DataFrame({c: parts[c].astype("object").where(parts[c].notna(), "").astype(str)
                            if c in parts else "" for c in PARTS}, index=parts.index)
    # groups numbered in order of first occurrence, which is drop_duplicates' order
    codes = strings.groupby(PARTS, sort=False).ngroup().to_numpy() if len(strings) else np.zeros(0, int)
    distinct = strings.drop_duplicates()
    view = build_view(distinct.reset_index(drop=True))
    scored = score_view(view, resolved)
    logger.info("names: scored %d distinct records for %d rows", len(view), len(parts))
    out = scored.iloc[codes].set_index(parts.index)
    return out[RESULT_COLUMNS + ["is_company"]]


def check(frame: pd.DataFrame, config=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The name plausibility stage: ``(staging frame, config) -> (frame, findings)``.

    Adds ``name_plausibility`` (0..1; empty for organisations), ``name_plausible`` and ``name_issues``,
    appends the reason codes to ``issues``, and moves a company typed in the person fields to
    ``company_name`` (``party_type`` organisation). Every input column is kept.

    Args:
        frame: a staging frame (canonical columns; missing ones count as empty).
        config: a :class:`PlausibilityConfig`, a YAML path, a resolved config, or None for the default.

    Examples:
        >>> frame = pd.DataFrame({"record_id": ["a", "b", "c"], "first_name": ["Fatma", "Test", None],
        ...                       "last_name": ["Yılmaz", "Test", "Bakkerij de Graaf B.V."]})
        >>> out, findings = check(frame)
        >>> out["name_plausible"].tolist(), out.loc[2, "company_name"]
        ([True, False, True], 'Bakkerij de Graaf B.V.')
        >>> sorted(set(findings["reason_code"]))
        ['NAME_IS_COMPANY', 'NAME_PLACEHOLDER']
    """
    resolved = _resolved(config)
    result = score_parts(frame, resolved)
    out = frame.copy()
    for column in RESULT_COLUMNS:
        out[column] = result[column]
    _move_companies(out, result["is_company"])
    if "issues" in out.columns:
        out["issues"] = _append_issues(out["issues"], result["name_issues"])
    findings = _findings(frame, result, resolved)
    logger.info("names: %d rows, %d implausible, %d companies moved", len(out),
                int((~result["name_plausible"]).sum()), int(result["is_company"].sum()))
    return out, findings


def _move_companies(out: pd.DataFrame, is_company: pd.Series) -> None:
    """A company typed as a person name goes to company_name; the raw input columns keep the original."""
    if not is_company.any():
        return
    present = [c for c in _PERSON_PARTS if c in out.columns]
    text = out.loc[is_company, present].astype("object").where(out.loc[is_company, present].notna(), "")
    joined = text.astype(str).agg(" ".join, axis=1).str.split().str.join(" ")
    company = out["company_name"] if "company_name" in out.columns else pd.Series(None, index=out.index)
    empty = company.isna() | (company.astype(str).str.strip() == "")
    out["company_name"] = company.where(~(is_company & empty), joined.reindex(out.index))
    out["party_type"] = (out["party_type"] if "party_type" in out.columns else None)
    out.loc[is_company, "party_type"] = "organisation"
    for column in present:
        out.loc[is_company, column] = None


def _append_issues(existing: pd.Series, new: pd.Series) -> pd.Series:
    old = existing.astype("object").where(existing.notna(), "").map(
        lambda v: ";".join(v) if isinstance(v, (list, tuple)) else str(v))
    both = old + ";" + new
    return both.str.strip(";")


def _findings(frame: pd.DataFrame, result: pd.DataFrame, resolved: ResolvedPlausibility) -> pd.DataFrame:
    has = result["name_issues"] != ""
    if not has.any():
        return empty_findings()
    issues = result.loc[has, "name_issues"].str.split(";").explode()
    ids = frame["record_id"] if "record_id" in frame.columns else pd.Series(frame.index, index=frame.index)
    codes = issues.to_numpy()
    severity = [resolved.rules[c].severity if c in resolved.rules else "warning" for c in codes]
    detail = [RULES[c].description if c in RULES else "spelled unlike any known name" for c in codes]
    findings = pd.DataFrame({
        "stage": "names", "rule": codes, "column": "name",
        "record_id": ids.reindex(issues.index).to_numpy(),
        "value": result["name_plausibility"].reindex(issues.index).to_numpy(),
        "severity": severity, "reason_code": codes, "detail": detail,
    })
    return findings[FINDINGS].reset_index(drop=True)


def check_names(series: pd.Series, config=None) -> pd.DataFrame:
    """Score a column of full names typed in one field ("J. de Vries", "Vries, Jan de", "dhr. Ali Kaya").

    Each distinct value is split once with :func:`cdq.normalize.name_parsing.split_name`. Returns ``name_plausibility``,
    ``name_plausible``, ``name_issues`` indexed like ``series``.

    Examples:
        >>> out = check_names(pd.Series(["Mevr. A. Jansen-de Vries", "asdfgh", "info@bakker.nl", "Dhr."]))
        >>> out["name_plausible"].tolist()
        [True, False, False, False]
        >>> out.loc[3, "name_issues"]
        'NAME_TITLE_ONLY'
    """
    from cdq.normalize.name_parsing import split_name

    text = series.astype("object").where(series.notna(), "").astype(str)
    codes, uniques = pd.factorize(text)
    parts = pd.DataFrame([_split_dict(split_name(u)) for u in uniques], columns=PARTS[:6])
    scored = score_parts(parts, config)
    out = scored.iloc[codes].set_index(series.index)
    return out[RESULT_COLUMNS]


def train_model(knowledge=None, *, order: int = 4, builtin_only: bool = False):
    """Train the character model on every known first name and surname (built-in list plus the store).

    Args:
        knowledge: the names to train on (default: :func:`cdq.names.knowledge.load_knowledge`).
        order: n-gram order.
        builtin_only: train on the curated built-in list only (how the shipped model is made).
    """
    from cdq.names import ngram
    from cdq.names.knowledge import builtin, load_knowledge

    if knowledge is None:
        knowledge = builtin() if builtin_only else load_knowledge()
    names = sorted(set(knowledge.first) | knowledge.surnames)
    logger.info("names: training an order-%d model on %d names", order, len(names))
    return ngram.train(names, order=order)


def _split_dict(parts) -> dict:
    return {c: getattr(parts, c) for c in PARTS[:6]}


__all__ += ["COMPANY", "UNLIKELY"]


def _register_reasons() -> None:
    from cdq.names.rules import RULES
    from cdq.names.score import UNLIKELY
    from cdq.reasons import register

    for rule in RULES.values():
        register(rule.code, f"name: {rule.description}", stage="names")
    register(UNLIKELY, "name: a name part looks unlike any real name (character model)", stage="names")


_register_reasons()
