"""Survivorship strategies and validity checks: vectorised scores over a candidate frame.

A strategy takes the candidates of one group (one row per cluster member that has a value in the group;
columns ``cluster_id``, ``record_id``, ``source`` and the group's columns) and returns a float score per
row; higher is better. The chain keeps, per cluster, the rows with the highest score.

Examples:
    >>> import pandas as pd
    >>> cand = pd.DataFrame({"cluster_id": [1, 1], "record_id": ["a", "b"], "email": ["x@y.nl", "bad"]})
    >>> CHECKS["email_valid"](cand, "email").tolist()
    [True, False]
    >>> CHECKS["phone_valid"](pd.DataFrame({"phone": ["+31201234567", "0987 /6543"]}), "phone").tolist()
    [True, False]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cdq.registry import Registry
from cdq.survivorship.rules import Group, Rules, Step

Score = Callable[[pd.DataFrame, Group, Step, Rules], pd.Series]
Check = Callable[..., pd.Series]
#: strategy name (``strategy:`` in ``rules/survivorship.yaml``) -> score function
STRATEGY_FUNCS: Registry[Score] = Registry("survivorship strategy")
#: check name (``check:`` of ``validated`` / ``require``) -> ``f(candidates, column, **params) -> bool Series``
CHECKS: Registry[Check] = Registry("validity check")

_VERIFIED_STATUSES = {"verified", "completed", "corrected"}


def _column(cand: pd.DataFrame, name: str) -> pd.Series:
    return cand[name] if name in cand else pd.Series([None] * len(cand), index=cand.index, dtype="object")


@CHECKS.register("email_valid")
def email_valid(cand: pd.DataFrame, column: str = "email", **_) -> pd.Series:
    """An e-mail address normalize accepts (its own verdict: :func:`cdq.normalize.emails.canonical_emails`)."""
    from cdq.normalize.emails import canonical_emails

    return canonical_emails(_column(cand, column))["email"].notna().astype(bool)


@CHECKS.register("phone_valid")
def phone_valid(cand: pd.DataFrame, column: str = "phone", **_) -> pd.Series:
    """A dialable number by normalize's verdict (:func:`cdq.normalize.phones.canonical_phones`)."""
    from cdq.normalize.phones import canonical_phones

    return canonical_phones(_column(cand, column))["e164"].notna().astype(bool)


@CHECKS.register("date_valid")
def date_valid(cand: pd.DataFrame, column: str = "birth_date", **_) -> pd.Series:
    """A date that exists, by normalize's verdict (:func:`cdq.normalize.dates.parse_date`; not 31-02-1980)."""
    from cdq.normalize.dates import parse_date

    values = _column(cand, column)
    valid = [v for v in values.dropna().unique() if parse_date(v)[0] is not None]
    return values.isin(valid).astype(bool)


@CHECKS.register("bag_verified")
def bag_verified(cand: pd.DataFrame, column: str | None = None, **_) -> pd.Series:
    """An address with a BAG id, or whose ``address_status`` says it was verified against the BAG."""
    status = _column(cand, "address_status").astype("string").str.lower().isin(_VERIFIED_STATUSES)
    return _column(cand, "bag_address_id").notna() | status.fillna(False).astype(bool)


@CHECKS.register("name_plausible")
def name_plausible(cand: pd.DataFrame, column: str | None = None, min: float = 0.5, **_) -> pd.Series:
    """``name_plausibility`` of at least ``min`` (0.5 by default); a missing score is not plausible."""
    score = pd.to_numeric(_column(cand, "name_plausibility"), errors="coerce")
    return (score >= float(min)).fillna(False).astype(bool)


@STRATEGY_FUNCS.register("validated")
def _validated(cand: pd.DataFrame, group: Group, step: Step, rules: Rules) -> pd.Series:
    params = {k: v for k, v in step.params if k != "check"}
    params.setdefault("column", group.columns[0])
    return CHECKS[step.param("check")](cand, **params).astype(float)


@STRATEGY_FUNCS.register("source_priority")
def _source_priority(cand: pd.DataFrame, group: Group, step: Step, rules: Rules) -> pd.Series:
    order = step.param("order") or step.param("value") or rules.source_priority
    rank = {s: -i for i, s in enumerate(order)}
    return cand["source"].map(rank).fillna(-len(order) - 1).astype(float)


@STRATEGY_FUNCS.register("most_recent")
def _most_recent(cand: pd.DataFrame, group: Group, step: Step, rules: Rules) -> pd.Series:
    values = _column(cand, step.param("column", "source_updated_at"))
    distinct = pd.Series(values.dropna().astype(str).unique(), dtype="object")
    parsed = pd.to_datetime(distinct, errors="coerce", utc=True, format="mixed")
    seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    stamps = dict(zip(distinct, seconds))
    return values.map(lambda v: stamps.get(str(v), np.nan) if pd.notna(v) else np.nan).astype(float)


@STRATEGY_FUNCS.register("most_complete")
def _most_complete(cand: pd.DataFrame, group: Group, step: Step, rules: Rules) -> pd.Series:
    """Most filled columns; among equals, the most text ("J. Jan Bakker" over "J. Bakker M")."""
    values = cand[list(group.columns)]
    length = values.astype("string").fillna("").apply(lambda s: s.str.len()).sum(axis=1)
    return values.notna().sum(axis=1).astype(float) + (length.clip(upper=9_999) / 10_000).astype(float)


@STRATEGY_FUNCS.register("most_frequent")
def _most_frequent(cand: pd.DataFrame, group: Group, step: Step, rules: Rules) -> pd.Series:
    key = cand[list(group.columns)].astype("string").apply(lambda s: s.str.strip().str.lower()).fillna("")
    key = key.agg("\x1f".join, axis=1) if len(group.columns) > 1 else key.iloc[:, 0]
    return key.groupby([cand["cluster_id"], key]).transform("size").astype(float)
