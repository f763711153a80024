"""Matching ONE record against a set of candidates (the online / service path).

The service keeps the golden store indexed by the record's blocking keys (:func:`blocking_keys`: one value
per blocking pass, the same keys :func:`cdq.linkage.dedupe` blocks on), fetches the stored records that share
any key, and calls :func:`match_one` on them: the cost per request is the candidates', not the store's.

Scores use a trained model when given (``cdq model train`` writes one; ``load_model`` reads it) and otherwise
the rules' own prior model (:func:`cdq.linkage.model.prior_model`). Term-frequency adjustments are not
applied: a handful of candidates says nothing about how common a value is.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cdq.linkage.compare import compare
from cdq.linkage.model import FSModel, prior_model, score
from cdq.linkage.prepare import prepare
from cdq.linkage.settings import Settings, load_settings
from cdq.linkage.vetoes import decide, vetoes

__all__ = ["blocking_keys", "match_one"]


def _as_frame(record: Mapping | pd.Series | pd.DataFrame) -> pd.DataFrame:
    if isinstance(record, pd.DataFrame):
        if len(record) != 1:
            raise ValueError(f"match_one takes one record, got {len(record)} rows")
        return record.reset_index(drop=True)
    return pd.DataFrame([dict(record)])


def blocking_keys(records: pd.DataFrame | Mapping | pd.Series, settings: Settings | None = None) -> pd.DataFrame:
    """One column per blocking pass: the key a record blocks on in that pass (None where a key part is missing).

    Index a store by these; the candidates of a new record are the stored records sharing any of its keys.

    Examples:
        >>> keys = blocking_keys({"first_name": "Jan", "last_name": "de Vries", "postcode": "1234 ab",
        ...                       "house_number": "12"})
        >>> keys.loc[0, "postcode_house_number"]
        '1234ab|12'
    """
    s = settings or load_settings()
    frame = records if isinstance(records, pd.DataFrame) else _as_frame(records)
    prepared = prepare(frame.reset_index(drop=True), s.extras)
    out = pd.DataFrame(index=prepared.index)
    for name, keys, *_ in s.passes:
        parts = prepared[list(keys)]
        joined = parts.astype(str).agg("|".join, axis=1)
        out[name] = joined.where(parts.notna().all(axis=1), None)
    return out


def match_one(record: Mapping | pd.Series | pd.DataFrame, candidates: pd.DataFrame, model: FSModel | None = None,
              settings: Settings | None = None, *, top: int = 10, population: int | None = None) -> pd.DataFrame:
    """Rank ``candidates`` as matches of ``record``: the best ``top`` with probability and per-field explanation.

    Args:
        record: one staging record (canonical columns: first_name, last_name, birth_date, postcode, ...).
        candidates: staging records to score it against (e.g. the store's records sharing a blocking key);
            ``record_id`` names them (row positions otherwise).
        model: a trained model (``load_model``); default: the rules' prior model.
        settings: linkage settings (default ``rules/matching.yaml``).
        top: how many candidates to return (best first).
        population: size of the store the candidates came from; sets the prior model's match prior
            (ignored when ``model`` is given).

    Returns:
        ``record_id, match_weight, match_probability, decision`` and per comparison ``<name>_level`` /
        ``<name>_weight``, best first. A candidate on a cannot-link level is returned as ``non_match``.

    Examples:
        >>> stored = pd.DataFrame({"record_id": ["s1", "s2"], "first_name": ["Jan", "Piet"],
        ...                        "last_name": ["de Vries", "Bakker"], "birth_date": ["1980-02-01", "1975-03-04"],
        ...                        "postcode": ["1234AB", "9999ZZ"], "house_number": ["12", "1"]})
        >>> ranked = match_one({"first_name": "Johannes", "last_name": "Vries", "birth_date": "01-02-1980",
        ...                     "postcode": "1234 ab", "house_number": "12"}, stored)
        >>> ranked.loc[0, "record_id"], ranked.loc[0, "decision"]
        ('s1', 'match')
    """
    s = settings or load_settings()
    one = _as_frame(record)
    k = len(candidates)
    if k == 0:
        return pd.DataFrame(columns=["record_id", "match_weight", "match_probability", "decision"])
    ids = (candidates["record_id"].astype(str).to_numpy() if "record_id" in candidates.columns
           else np.arange(k).astype(str))
    frame = pd.concat([candidates.reset_index(drop=True), one], ignore_index=True)
    prepared = prepare(frame, s.extras)
    left, right = np.arange(k, dtype=np.int64), np.full(k, k, dtype=np.int64)
    vectors = compare(prepared, left, right, s)
    model = model or prior_model(s, population or max(k + 1, 2))
    vectors = vectors[[c for c in vectors.columns if c in model.m]]
    veto = vetoes(vectors, s, prepared, left, right)
    fields = score(model, vectors)
    decision = decide(fields["match_probability"].to_numpy(), veto, s)
    out = pd.DataFrame({"record_id": ids, "match_weight": fields["match_weight"].to_numpy(),
                        "match_probability": fields["match_probability"].to_numpy(), "decision": decision})
    for name in vectors.columns:
        names = ["missing", *s.levels(name)]
        out[f"{name}_level"] = np.array(names, dtype=object)[vectors[name].to_numpy().astype(int) + 1]
        out[f"{name}_weight"] = fields[f"{name}_weight"].to_numpy()
    out = out.iloc[np.lexsort((-out["match_weight"].to_numpy(), decision == "non_match"))]
    return out.head(top).reset_index(drop=True)
