"""Survivorship: turn clusters of source records into golden records, with field-level lineage.

:func:`survive` is pure over frames. For each group of ``rules`` (see :mod:`cdq.survivorship.rules`) it
keeps, per cluster, the records that have a value in the group, runs the strategy chain (each step keeps
the best-scoring candidates) and takes all the group's columns from the one record left (ties: the
lowest ``record_id``). Aggregate groups collect every distinct value with its type (``mobile:+316…;
phone:+3120…``). Steward overrides replace single values in groups whose chain starts with ``steward``.

The lineage frame has one row per non-empty golden value: ``cluster_id, column, value, record_id, rule``,
where ``rule`` is the step that truly decided: the first after which every candidate left carries the same
values (``only_candidate``, ``all_agree``, ``validated:email_valid``, ``most_recent``, ...), ``tie_break``
when different values were left at the end, ``steward`` or ``aggregate``; for a steward value ``record_id`` is ``steward:<person>``,
for an aggregate the ';'-joined ids of the contributing records.

Examples:
    >>> import pandas as pd
    >>> from cdq.survivorship.rules import SurvivorshipFile, compile_rules
    >>> rules = compile_rules(SurvivorshipFile.model_validate({"groups": {
    ...     "email": {"columns": ["email"], "chain": [{"validated": "email_valid"}, "most_recent"]}}}))
    >>> frame = pd.DataFrame({"record_id": ["r1", "r2"], "source": ["erp", "excel"],
    ...                       "email": ["jan@@x", "jan@x.nl"], "source_updated_at": ["2024-01-01", None]})
    >>> clusters = pd.DataFrame({"record_id": ["r1", "r2"], "cluster_id": ["c1", "c1"]})
    >>> golden, lineage = survive(frame, clusters, rules)
    >>> golden.loc[0, "email"], lineage.loc[0, "record_id"], lineage.loc[0, "rule"]
    ('jan@x.nl', 'r2', 'validated:email_valid')
"""

from __future__ import annotations

import logging

import pandas as pd

from cdq.survivorship.rules import Group, Rules, compile_rules, load_rules
from cdq.survivorship.strategies import CHECKS, STRATEGY_FUNCS

__all__ = ["survive", "load_rules", "compile_rules", "Rules", "LINEAGE_COLUMNS", "OVERRIDE_COLUMNS"]

logger = logging.getLogger(__name__)

LINEAGE_COLUMNS = ["cluster_id", "column", "value", "record_id", "rule"]
OVERRIDE_COLUMNS = ["cluster_id", "column", "value", "set_by"]
_META = ["source", "source_updated_at", "name_plausibility", "address_status", "bag_address_id"]


def _prepare(frame: pd.DataFrame, clusters: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Join cluster ids on; add missing value columns as empty (a hand-built frame may lack some)."""
    needed = {c for g in rules.groups for c in g.columns} | {c for g in rules.groups for c, _ in g.aggregate}
    needed |= set(_META)
    df = frame.reindex(columns=["record_id", *sorted(needed - {"record_id"})]).astype("object")
    df = df.where(df.notna(), None)
    df["record_id"] = df["record_id"].astype(str)
    cl = clusters[["record_id", "cluster_id"]].astype({"record_id": str})
    df = df.merge(cl, on="record_id", how="inner", validate="one_to_one")
    return df.sort_values(["cluster_id", "record_id"], kind="stable").reset_index(drop=True)


def _value_keys(cand: pd.DataFrame, cols: list[str]) -> pd.Series:
    """One integer per distinct combination of the group's values (None is a value of its own).

    Compares the values themselves: a text key joined with a separator would need a byte no value holds,
    and pandas' hash tables treat strings as equal up to a NUL byte.

    Examples:
        >>> frame = pd.DataFrame({"a": [None, None, "x"], "b": ["A.", "B.", "A."]})
        >>> _value_keys(frame, ["a", "b"]).tolist()
        [0, 1, 2]
    """
    if cand.empty:
        return pd.Series(dtype="int64", index=cand.index)
    return cand[cols].astype("object").groupby(cols, dropna=False, sort=False).ngroup()


def _run_chain(cand: pd.DataFrame, group: Group, rules: Rules) -> tuple[pd.DataFrame, pd.Series]:
    """Narrow candidates per cluster through the chain; return the winners and the deciding rule.

    The deciding rule is the first step after which the candidates left all carry the same values:
    ``only_candidate`` (one record had values), ``all_agree`` (every candidate had the same values), a
    step's label, or ``tie_break`` (different values to the end: the lowest ``record_id`` wins).
    """
    size = cand.groupby("cluster_id")["record_id"].transform("size")
    left = cand.groupby("cluster_id")["_key"].nunique()
    decided = pd.Series(None, index=left.index, dtype="object")
    single = set(cand.loc[size == 1, "cluster_id"])
    decided[left.index[(left == 1).to_numpy()]] = [
        "only_candidate" if c in single else "all_agree" for c in left.index[(left == 1).to_numpy()]]
    for step in group.steps:
        if step.name == "steward" or decided.notna().all():
            continue
        score = STRATEGY_FUNCS[step.name](cand, group, step, rules).fillna(float("-inf"))
        best = score.groupby(cand["cluster_id"]).transform("max")
        cand = cand[score.to_numpy() == best.to_numpy()]
        left = cand.groupby("cluster_id")["_key"].nunique()
        newly = left.index[(left == 1).to_numpy() & decided.reindex(left.index).isna().to_numpy()]
        decided[newly] = step.label
    winners = cand.drop_duplicates("cluster_id", keep="first")
    return winners, decided.fillna("tie_break")


def _valid(cand: pd.DataFrame, group: Group, column: str) -> pd.Series:
    """Whether each candidate passes the group's ``require`` check (normalize's verdict); all when none."""
    if group.require is None or not len(cand):
        return pd.Series(True, index=cand.index)
    params = {k: v for k, v in group.require.params if k != "check"}
    params.setdefault("column", column)
    return CHECKS[group.require.param("check")](cand, **params).astype(bool)


def _survive_group(df: pd.DataFrame, group: Group, rules: Rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = list(group.columns)
    cand = df[df[cols].notna().any(axis=1)]
    cand = cand[_valid(cand, group, cols[0])]  # an invalid value is no candidate: it stays a finding only
    cand = cand.assign(_key=_value_keys(cand, cols))
    winners, decided = _run_chain(cand, group, rules)
    values = winners.set_index("cluster_id")[cols]
    long = values.reset_index().melt("cluster_id", var_name="column", value_name="value").dropna(subset=["value"])
    long["record_id"] = long["cluster_id"].map(winners.set_index("cluster_id")["record_id"])
    long["rule"] = long["cluster_id"].map(decided)
    return values, long[LINEAGE_COLUMNS]


def _aggregate_group(df: pd.DataFrame, group: Group) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every distinct value of the group's columns, as ``type:value`` joined by ';' (first type wins)."""
    parts = []
    for order, (column, kind) in enumerate(group.aggregate):
        s = df[["cluster_id", "record_id", column]].dropna(subset=[column])
        s = s.assign(value=s[column].astype(str).str.split(";")).explode("value")
        s["value"] = s["value"].str.strip()
        s = s[_valid(s, group, "value")]
        parts.append(s[s["value"] != ""].assign(kind=kind, order=order)[["cluster_id", "record_id", "value",
                                                                          "kind", "order"]])
    if not parts or not sum(len(p) for p in parts):
        empty = pd.DataFrame(columns=[group.name], index=pd.Index([], name="cluster_id"))
        return empty, pd.DataFrame(columns=LINEAGE_COLUMNS)
    long = pd.concat(parts).sort_values(["cluster_id", "order", "record_id"], kind="stable")
    long["norm"] = long["value"].str.lower().str.replace(r"[\s\-().]", "", regex=True)
    ids = long.groupby(["cluster_id", "norm"], sort=False)["record_id"].agg(lambda r: ";".join(sorted(set(r))))
    first = long.drop_duplicates(["cluster_id", "norm"]).copy()
    first["sources"] = [ids[(c, n)] for c, n in zip(first["cluster_id"], first["norm"])]
    first["item"] = first["kind"] + ":" + first["value"]
    grouped = first.groupby("cluster_id", sort=True)
    values = grouped["item"].agg(";".join).rename(group.name).to_frame()
    srcs = grouped["sources"].agg(lambda s: ";".join(sorted(set(";".join(s).split(";")))))
    lineage = values.reset_index().rename(columns={group.name: "value"})
    lineage = lineage.assign(column=group.name, record_id=lineage["cluster_id"].map(srcs), rule="aggregate")
    return values, lineage[LINEAGE_COLUMNS]


def _apply_overrides(golden: pd.DataFrame, lineage: pd.DataFrame, overrides: pd.DataFrame | None,
                     rules: Rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A steward's value replaces the survived one, for columns whose group chain starts with steward."""
    if overrides is None or overrides.empty:
        return golden, lineage
    allowed = {c for g in rules.groups if g.steward for c in g.outputs}
    ov = overrides[overrides["column"].isin(allowed) & overrides["cluster_id"].isin(golden.index)]
    for row in ov.itertuples(index=False):
        golden.loc[row.cluster_id, row.column] = row.value
    keys = set(zip(ov["cluster_id"], ov["column"]))
    keep = [(c, col) not in keys for c, col in zip(lineage["cluster_id"], lineage["column"])]
    steward = pd.DataFrame({"cluster_id": ov["cluster_id"], "column": ov["column"], "value": ov["value"],
                            "record_id": "steward:" + ov["set_by"].astype(str), "rule": "steward"})
    return golden, pd.concat([lineage[keep], steward], ignore_index=True)


def survive(frame: pd.DataFrame, clusters: pd.DataFrame, rules: Rules,
            overrides: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build one golden record per cluster; return ``(golden, lineage)``.

    Args:
        frame: source records (``record_id``, ``source``, ``source_updated_at`` and value columns).
        clusters: ``record_id, cluster_id`` for the records to survive (others in ``frame`` are ignored).
        rules: compiled rules (:func:`load_rules`).
        overrides: optional steward values, columns :data:`OVERRIDE_COLUMNS`.

    Returns:
        ``golden`` with ``cluster_id`` and one column per rule output (None where no record has a value),
        sorted by cluster id; ``lineage`` with :data:`LINEAGE_COLUMNS`.
    """
    df = _prepare(frame, clusters, rules)
    golden = pd.DataFrame(index=pd.Index(sorted(df["cluster_id"].unique()), name="cluster_id"))
    lineages = []
    for group in rules.groups:
        values, lineage = _aggregate_group(df, group) if group.aggregate else _survive_group(df, group, rules)
        golden = golden.join(values.reindex(columns=list(group.outputs)), how="left")
        lineages.append(lineage)
    golden = golden.astype("object").where(golden.notna(), None)
    lineage = pd.concat([x for x in lineages if len(x)], ignore_index=True) if any(len(x) for x in lineages) \
        else pd.DataFrame(columns=LINEAGE_COLUMNS)
    golden, lineage = _apply_overrides(golden, lineage, overrides, rules)
    lineage = lineage.sort_values(["cluster_id", "column"], kind="stable").reset_index(drop=True)
    logger.debug("survived %d clusters from %d records", len(golden), len(df))
    return golden.reset_index(), lineage
