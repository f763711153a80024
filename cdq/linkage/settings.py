"""Linkage settings: the pydantic authoring model of ``rules/matching.yaml`` and its frozen resolved form.

Stages only ever see :class:`Settings` (frozen, concrete). :func:`load_settings` reads a YAML file,
validates every key at once (``cdq.config.load_model``) and compiles it.

Examples:
    >>> s = load_settings()
    >>> 0 < s.review < s.auto_match <= 1
    True
    >>> "surname" in s.comparisons
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cdq.config import load_model
from cdq.resources import resource

#: Built-in comparisons (see cdq.linkage.compare) and the level names a ``cannot_link`` rule may name.
BUILTIN_LEVELS: dict[str, list[str]] = {
    "first_name": ["different", "initial", "similar", "very_similar", "nickname", "exact"],
    "middle_name": ["different", "initial", "exact"],
    "surname": ["different", "similar", "very_similar", "part_or_phonetic", "exact"],
    "birth_date": ["different", "same_year", "partial_year", "year_typo", "partial_month", "one_edit", "swapped",
                   "exact"],
    "gender": ["different", "exact"],
    "email": ["different", "similar_local", "same_local", "exact"],
    "phone": ["different", "one_edit", "exact"],
    "postcode": ["different", "same_area", "one_edit", "exact"],
    "house_number": ["different", "exact"],
    "street": ["different", "similar", "exact"],
    "city": ["different", "similar", "exact"],
    "company": ["different", "shared_word", "subset", "very_similar", "exact"],
    "kvk": ["different", "one_edit", "exact"],
    "address": ["different", "same_area", "same_street", "similar", "exact"],
}
EXTRA_LEVELS = {
    "exact": ["different", "exact"],
    "string": ["different", "similar", "very_similar", "exact"],
    "number": ["different", "close", "exact"],
}
BLOCKING_KEYS = (
    "postcode", "house_number", "surname_core", "surname_phonetic", "first_name_phonetic", "first_initial",
    "birth_date", "birth_year", "birth_month_day", "email", "email_local", "phone", "city", "street_phonetic",
    "bag_address_id", "company_key", "company_compact", "company_first", "company_rare", "kvk",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThresholdsModel(_Strict):
    auto_match: float = Field(0.95, gt=0, le=1)
    review: float = Field(0.6, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self):
        if self.review > self.auto_match:
            raise ValueError("review must not be above auto_match")
        return self


class PassModel(_Strict):
    name: str
    keys: list[str] = Field(min_length=1)
    max_block_size: int | None = Field(None, ge=2)
    #: oversized blocks give a sorted neighbourhood of this many next records (ordered by ``sort``) instead
    #: of being refined or skipped: for keys whose blocks are one party (an organisation's name)
    window: int = Field(0, ge=0)
    sort: str | None = None


class BlockingModel(_Strict):
    max_block_size: int = Field(400, ge=2)
    refine: list[str] = []
    passes: list[PassModel] = Field(min_length=1)


class ComparisonModel(_Strict):
    tf: bool = False
    #: estimate u from random pairs of records with different values (an identifier-like field whose
    #: repeats in a file are its duplicates)
    u_distinct: bool = False


class ExtraComparisonModel(_Strict):
    column: str
    kind: Literal["exact", "string", "number"] = "exact"
    block: bool = False
    #: an identifier (e.g. a social security number): exact agreement overrides cannot-link vetoes
    identifier: bool = False


class ModelParams(_Strict):
    em_max_iterations: int = Field(40, ge=1)
    u_sample_pairs: int = Field(200_000, ge=1000)
    seed: int = 42
    tf_min_weight: float = -3.0
    tf_max_weight: float = 6.0
    #: typical u per comparison level (worst first) for a customer file; a prior worth ``u_prior_pairs``
    #: random pairs, so a small input (where random pairs say little) still gets sane weights
    u_prior: dict[str, list[float]] = {}
    u_prior_pairs: int = Field(2000, ge=0)
    #: typical m per comparison level (worst first): how true matches agree. EM's starting point and its
    #: fallback when the file has too little signal to learn from (few fields, almost no candidate pairs)
    m_prior: dict[str, list[float]] = {}


class MatchingFile(_Strict):
    """Authoring form of ``rules/matching.yaml``."""

    thresholds: ThresholdsModel = ThresholdsModel()
    blocking: BlockingModel
    comparisons: dict[str, ComparisonModel]
    extra_comparisons: list[ExtraComparisonModel] = []
    cannot_link: dict[str, list[str]] = {}
    model: ModelParams = ModelParams()

    @model_validator(mode="after")
    def _known_names(self):
        problems = [f"unknown comparison {c!r}" for c in self.comparisons if c not in BUILTIN_LEVELS]
        problems += [f"pass {p.name!r}: unknown key {k!r} (valid: {', '.join(BLOCKING_KEYS)})"
                     for p in self.blocking.passes for k in p.keys if k not in BLOCKING_KEYS]
        problems += [f"blocking.refine: unknown key {k!r}" for k in self.blocking.refine if k not in BLOCKING_KEYS]
        problems += [f"pass {p.name!r}: unknown sort key {p.sort!r}" for p in self.blocking.passes
                     if p.sort and p.sort not in BLOCKING_KEYS]
        for key, table in (("u_prior", self.model.u_prior), ("m_prior", self.model.m_prior)):
            for name, values in table.items():
                valid = BUILTIN_LEVELS.get(name)
                if valid is None or len(values) != len(valid) or min(values) <= 0:
                    problems.append(f"model.{key}.{name}: needs {len(valid or [])} positive values (one per level)")
        for name, levels in self.cannot_link.items():
            valid = BUILTIN_LEVELS.get(name)
            if valid is None:
                problems.append(f"cannot_link: unknown comparison {name!r}")
            problems += [f"cannot_link.{name}: unknown level {lv!r} (valid: {', '.join(valid)})"
                         for lv in levels if valid and lv not in valid]
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class ExtraComparison:
    name: str
    column: str
    kind: str
    block: bool
    identifier: bool = False


@dataclass(frozen=True)
class Settings:
    """Resolved linkage settings; build with :func:`load_settings` or :func:`compile_settings`."""

    auto_match: float
    review: float
    max_block_size: int
    passes: tuple[tuple, ...]  # (name, keys, max_block_size or None, window, sort column or None)
    comparisons: tuple[str, ...]
    tf_comparisons: frozenset[str]
    u_distinct: frozenset[str] = frozenset()
    extras: tuple[ExtraComparison, ...] = ()
    refine: tuple[str, ...] = ()
    cannot_link: tuple[tuple[str, tuple[str, ...]], ...] = ()
    em_max_iterations: int = 40
    u_sample_pairs: int = 200_000
    seed: int = 42
    tf_min_weight: float = -3.0
    tf_max_weight: float = 6.0
    u_prior: tuple[tuple[str, tuple[float, ...]], ...] = ()
    u_prior_pairs: int = 2000
    m_prior: tuple[tuple[str, tuple[float, ...]], ...] = ()
    source: str = field(default="", compare=False)

    def levels(self, comparison: str) -> list[str]:
        """Level names of a comparison, worst first."""
        if comparison in BUILTIN_LEVELS:
            return BUILTIN_LEVELS[comparison]
        return EXTRA_LEVELS[next(e.kind for e in self.extras if e.name == comparison)]

    @property
    def all_comparisons(self) -> tuple[str, ...]:
        return self.comparisons + tuple(e.name for e in self.extras)

    def with_extras(self, extras: list[dict]) -> Settings:
        """A copy with extra comparisons on non-canonical columns (e.g. from a benchmark mapping)."""
        models = [ExtraComparisonModel.model_validate(e) for e in extras]
        return replace(self, extras=self.extras + tuple(_extra(m) for m in models))


def _extra(m: ExtraComparisonModel) -> ExtraComparison:
    name = "x_" + "".join(ch if ch.isalnum() else "_" for ch in m.column.removeprefix("src:").lower())
    return ExtraComparison(name=name, column=m.column, kind=m.kind, block=m.block, identifier=m.identifier)


def compile_settings(model: MatchingFile, source: str = "") -> Settings:
    """Resolve an authoring model into :class:`Settings`."""
    return Settings(
        auto_match=model.thresholds.auto_match, review=model.thresholds.review,
        max_block_size=model.blocking.max_block_size, refine=tuple(model.blocking.refine),
        passes=tuple((p.name, tuple(p.keys), p.max_block_size, p.window, p.sort) for p in model.blocking.passes),
        comparisons=tuple(model.comparisons), tf_comparisons=frozenset(c for c, m in model.comparisons.items() if m.tf),
        u_distinct=frozenset(c for c, m in model.comparisons.items() if m.u_distinct),
        extras=tuple(_extra(e) for e in model.extra_comparisons),
        cannot_link=tuple((k, tuple(v)) for k, v in model.cannot_link.items()),
        em_max_iterations=model.model.em_max_iterations, u_sample_pairs=model.model.u_sample_pairs,
        seed=model.model.seed, tf_min_weight=model.model.tf_min_weight, tf_max_weight=model.model.tf_max_weight,
        u_prior=tuple((k, tuple(v)) for k, v in model.model.u_prior.items()), u_prior_pairs=model.model.u_prior_pairs,
        m_prior=tuple((k, tuple(v)) for k, v in model.model.m_prior.items()), source=source,
    )


def load_settings(path: str | Path | None = None) -> Settings:
    """Load and compile ``rules/matching.yaml`` (or ``path``); raises ConfigError listing every problem."""
    file = Path(path) if path else resource("rules", "matching.yaml")
    return compile_settings(load_model(file, MatchingFile), source=str(file))
