"""Combine knowledge, the character model and the rules into ``name_plausibility`` and ``name_plausible``.

The YAML (``rules/plausibility.yaml``) is the authoring model :class:`PlausibilityConfig`; :func:`resolve`
compiles it once into a frozen :class:`ResolvedPlausibility` holding the knowledge, the model and the rule
weights. :func:`score_view` works on distinct name records only; callers map the results back to rows.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cdq.config import load_model
from cdq.errors import ConfigError
from cdq.names import ngram
from cdq.names.knowledge import Knowledge, load_knowledge, norm
from cdq.names.rules import RULES, RuleContext, run_rules
from cdq.normalize.names import SURNAME_PARTICLES, name_prefixes
from cdq.resources import resource

logger = logging.getLogger(__name__)

#: Reason code given when a name part is spelled unlike any name the model knows.
UNLIKELY = "NAME_UNLIKELY_SPELLING"
COMPANY = "NAME_IS_COMPANY"


class RuleSetting(BaseModel):
    """How one reason code weighs: the score is multiplied by ``1 - penalty`` when the rule fires."""

    model_config = ConfigDict(extra="forbid")
    penalty: float = Field(1.0, ge=0.0, le=1.0)
    severity: Literal["error", "warning", "info"] = "error"
    enabled: bool = True


class PlausibilityConfig(BaseModel):
    """``rules/plausibility.yaml``."""

    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    model: str | None = None
    use_store: bool = True
    rules: dict[str, RuleSetting] = Field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedPlausibility:
    """The compiled configuration the stage runs with."""

    threshold: float
    rules: dict[str, RuleSetting]
    knowledge: Knowledge
    model: ngram.NgramModel

    @property
    def codes(self) -> list[str]:
        return [code for code, setting in self.rules.items() if setting.enabled]


def default_model_path() -> Path:
    """The user's trained model: ``$CDQ_NAMES_MODEL`` or ``~/.cache/cdq/names_model.json.gz``."""
    env = os.environ.get("CDQ_NAMES_MODEL")
    return Path(env) if env else Path.home() / ".cache" / "cdq" / "names_model.json.gz"


def builtin_model_path() -> Path:
    """The pre-trained model shipped in ``reference_data/names``."""
    return resource("reference_data", "names", "ngram_model.json.gz")


def load_config(path: str | Path | None = None) -> PlausibilityConfig:
    """Read and validate a plausibility YAML (default: the bundled ``rules/plausibility.yaml``)."""
    path = Path(path) if path else resource("rules", "plausibility.yaml")
    config = load_model(path, PlausibilityConfig)
    unknown = sorted(set(config.rules) - set(RULES))
    if unknown:
        raise ConfigError(f"{path}: unknown rule(s) {', '.join(unknown)}; valid: {', '.join(sorted(RULES))}")
    return config


def resolve(config: PlausibilityConfig | str | Path | None = None, *, knowledge: Knowledge | None = None,
            model: ngram.NgramModel | None = None) -> ResolvedPlausibility:
    """Compile a config (object, YAML path or None for the default) with its knowledge and model."""
    if not isinstance(config, PlausibilityConfig):
        config = load_config(config)
    rules = {code: config.rules.get(code, RuleSetting()) for code in RULES}
    if knowledge is None:
        knowledge = load_knowledge(use_store=config.use_store)
    if model is None:
        model = _default_model(config.model)
    return ResolvedPlausibility(config.threshold, rules, knowledge, model)


@lru_cache(maxsize=4)
def _load_model_cached(path: str, mtime: float) -> ngram.NgramModel:
    return ngram.load(path)


def _default_model(configured: str | None) -> ngram.NgramModel:
    candidates = [Path(configured)] if configured else [default_model_path(), builtin_model_path()]
    path = next((p for p in candidates if p.exists()), candidates[-1])
    logger.debug("name model: %s", path)
    return _load_model_cached(str(path), path.stat().st_mtime if path.exists() else 0.0)


def _part_scorer(resolved: ResolvedPlausibility, names: set[str]):
    """A function from a normalised name part to 0..1: 1 when known, else the model's score per word."""
    prefixes = {" ".join(p) for p in name_prefixes()} | {norm(p) for p in SURNAME_PARTICLES}
    first, surnames, model = resolved.knowledge.first, resolved.knowledge.surnames, resolved.model

    def score(key: str) -> float:
        if not key:
            return math.nan
        if key in names:
            return 1.0
        words = [w for w in key.split() if len(w) > 1 and w not in prefixes]
        if not words:
            return 1.0 if len(key.replace(" ", "")) == 1 else math.nan
        return min(1.0 if (w in first or w in surnames) else model.score(w) for w in words)

    return score


def _map_unique(series: pd.Series, func) -> np.ndarray:
    codes, uniques = pd.factorize(series)
    values = np.array([func(u) for u in uniques], dtype=float)
    return values[codes] if len(uniques) else np.full(len(series), np.nan)


def part_scores(view: pd.DataFrame, resolved: ResolvedPlausibility) -> tuple[np.ndarray, np.ndarray]:
    """(first name score, surname score) per view row; ``nan`` where the part is empty."""
    first_known = set(resolved.knowledge.first)
    sur_known = resolved.knowledge.surnames
    first = _map_unique(view["first_name_key"], _part_scorer(resolved, first_known | sur_known))
    last = _map_unique(view["last_name_key"], _part_scorer(resolved, sur_known | first_known))
    return first, last


def score_view(view: pd.DataFrame, resolved: ResolvedPlausibility) -> pd.DataFrame:
    """Score distinct name records: ``name_plausibility``, ``name_plausible``, ``name_issues``, ``is_company``.

    Organisations (a company in the person fields, or an organisation record without a person name) get
    ``name_plausibility`` NaN and ``name_plausible`` True: they are not bad person names.
    """
    fired = run_rules(view, RuleContext(resolved.knowledge), resolved.codes)
    first, last = part_scores(view, resolved)
    base = np.fmin(first, last)  # fmin ignores a missing part
    base = np.where(np.isnan(base), 1.0, base)
    unlikely = base < resolved.threshold
    score = base.copy()
    for code in fired.columns:
        score = np.where(fired[code].to_numpy(), score * (1.0 - resolved.rules[code].penalty), score)
    is_company = np.zeros(len(view), bool)
    if COMPANY in fired:
        # "n.v.t." reads as the legal form N.V. and "info@bakkerij.nl" holds a trade word: junk stays junk
        errors = [c for c in fired.columns if c != COMPANY and resolved.rules[c].severity == "error"]
        fired[COMPANY] &= ~fired[errors].any(axis=1)
        is_company = fired[COMPANY].to_numpy()
        score = np.where(is_company, 1.0, score)
    is_org_record = view["party_type"].str.lower().str.startswith("org") | (view["company_name"] != "")
    org_without_person = (is_org_record & (view["full"] == "") & (view["initials"] == "")
                          & (view["title"] == "")).to_numpy()
    is_org = is_company | org_without_person
    if "NAME_MISSING" in fired:
        fired.loc[org_without_person, "NAME_MISSING"] = False
    score = np.where(is_org, np.nan, np.clip(score, 0.0, 1.0))
    issues = _issue_lists(fired, unlikely & ~is_org)
    return pd.DataFrame({
        "name_plausibility": np.round(score, 4),
        "name_plausible": is_org | (score >= resolved.threshold),
        "name_issues": issues,
        "is_company": is_company,
    }, index=view.index)


def _issue_lists(fired: pd.DataFrame, unlikely: np.ndarray) -> np.ndarray:
    """The ';'-joined reason codes per row, in registry order, with NAME_UNLIKELY_SPELLING last.

    Rows are grouped by their pattern of fired rules (a bit mask), so the strings are built per pattern.
    """
    codes = list(fired.columns) + [UNLIKELY]
    matrix = np.column_stack([fired.to_numpy(bool), unlikely]) if len(fired) else np.zeros((0, len(codes)), bool)
    masks = matrix.astype(np.int64) @ (np.int64(1) << np.arange(len(codes), dtype=np.int64))
    patterns, inverse = np.unique(masks, return_inverse=True)
    texts = np.array([";".join(c for b, c in enumerate(codes) if int(m) >> b & 1) for m in patterns], dtype=object)
    return texts[inverse] if len(masks) else np.array([], dtype=object)
