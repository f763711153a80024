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

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cdq.config import load_model
from cdq.errors import ConfigError
from cdq.linkage.compare import COMPARISONS
from cdq.linkage.prepare import PREPARED_COLUMNS
from cdq.resources import resource

EXTRA_LEVELS = {
    "exact": ["different", "exact"],
    "string": ["different", "similar", "very_similar", "exact"],
    "number": ["different", "close", "exact"],
}
#: A blocking pass, a refine key or a sort key may name any prepared column (what records must share).
BLOCKING_KEYS = PREPARED_COLUMNS


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
    """One comparison as data: the prepared columns it reads, its named levels (worst first), the thresholds
    of its similarity levels, the term-frequency column, the cannot-link (veto) levels and its priors."""

    #: prepared columns it reads (documentation, checked against cdq.linkage.prepare's output)
    columns: list[str] = []
    #: the level names, worst first: must be the ones cdq.linkage.compare implements for it
    levels: list[str] | None = None
    #: similarity thresholds of the levels (Jaro-Winkler / similarity ratios), by name
    thresholds: dict[str, float] = {}
    #: term-frequency adjustment: true (its default column), a prepared column, or false
    tf: bool | str = False
    #: estimate u from random pairs of records with different values (an identifier-like field whose
    #: repeats in a file are its duplicates)
    u_distinct: bool = False
    #: a pair at one of these levels can never be linked, directly or through a chain
    cannot_link: list[str] = []
    u_prior: list[float] | None = None
    m_prior: list[float] | None = None


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
        problems = [f"unknown comparison {c!r} (valid: {', '.join(COMPARISONS)})" for c in self.comparisons
                    if c not in COMPARISONS]
        problems += _comparison_problems(self.comparisons)
        # the per-comparison form wins over the older top-level cannot_link / model.u_prior / model.m_prior
        self.cannot_link = dict(self.cannot_link)
        self.model = self.model.model_copy(deep=True)
        for name, c in self.comparisons.items():
            if c.cannot_link:
                self.cannot_link[name] = c.cannot_link
            if c.u_prior:
                self.model.u_prior[name] = c.u_prior
            if c.m_prior:
                self.model.m_prior[name] = c.m_prior
        problems += [f"pass {p.name!r}: unknown key {k!r} (valid: {', '.join(sorted(BLOCKING_KEYS))})"
                     for p in self.blocking.passes for k in p.keys if k not in BLOCKING_KEYS]
        problems += [f"blocking.refine: unknown key {k!r}" for k in self.blocking.refine if k not in BLOCKING_KEYS]
        problems += [f"pass {p.name!r}: unknown sort key {p.sort!r}" for p in self.blocking.passes
                     if p.sort and p.sort not in BLOCKING_KEYS]
        for key, table in (("u_prior", self.model.u_prior), ("m_prior", self.model.m_prior)):
            for name, values in table.items():
                valid = _levels_of(name)
                if valid is None or len(values) != len(valid) or min(values) <= 0:
                    problems.append(f"model.{key}.{name}: needs {len(valid or [])} positive values (one per level)")
        for name, levels in self.cannot_link.items():
            valid = _levels_of(name)
            if valid is None:
                problems.append(f"cannot_link: unknown comparison {name!r}")
            problems += [f"cannot_link.{name}: unknown level {lv!r} (valid: {', '.join(valid)})"
                         for lv in levels if valid and lv not in valid]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _levels_of(name: str) -> list[str] | None:
    """A built-in comparison's level names (worst first), None for an unknown name."""
    found = COMPARISONS.get(name)
    return list(found.levels) if found else None


def _comparison_problems(comparisons: dict[str, ComparisonModel]) -> list[str]:
    problems = []
    for name, c in comparisons.items():
        valid = _levels_of(name)
        if valid is None:
            continue
        known = COMPARISONS[name].thresholds
        if c.levels is not None and c.levels != valid:
            problems.append(f"comparisons.{name}.levels: cdq.linkage.compare implements {valid}")
        problems += [f"comparisons.{name}.thresholds: unknown {k!r} (known: {', '.join(known)})"
                     for k in c.thresholds if k not in known]
        problems += [f"comparisons.{name}.columns: {col!r} is not a prepared column" for col in c.columns
                     if col not in PREPARED_COLUMNS]
        if isinstance(c.tf, str) and c.tf not in PREPARED_COLUMNS:
            problems.append(f"comparisons.{name}.tf: {c.tf!r} is not a prepared column")
        if c.tf is True and COMPARISONS[name].tf_column is None:
            problems.append(f"comparisons.{name}.tf: no default column; name one")
        problems += [f"comparisons.{name}.cannot_link: unknown level {lv!r} (valid: {', '.join(valid)})"
                     for lv in c.cannot_link if lv not in valid]
        for key, values in (("u_prior", c.u_prior), ("m_prior", c.m_prior)):
            if values is not None and (len(values) != len(valid) or min(values) <= 0):
                problems.append(f"comparisons.{name}.{key}: needs {len(valid)} positive values (one per level)")
    return problems


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
    #: (comparison, threshold name, value) over the defaults its registration in cdq.linkage.compare gives
    thresholds: tuple[tuple[str, str, float], ...] = ()
    #: (comparison, prepared column) of every term-frequency comparison
    tf_columns: tuple[tuple[str, str], ...] = ()
    source: str = field(default="", compare=False)

    def threshold(self, comparison: str, name: str) -> float:
        """A comparison's threshold (``comparisons.<name>.thresholds`` in the YAML, else the default)."""
        for c, key, value in self.thresholds:
            if c == comparison and key == name:
                return value
        return COMPARISONS[comparison].thresholds[name]

    def tf_column(self, comparison: str) -> str:
        """The prepared column a term-frequency comparison counts values of."""
        column = dict(self.tf_columns).get(comparison) or COMPARISONS[comparison].tf_column
        if column is None:
            raise KeyError(f"comparison {comparison!r} has no term-frequency column")
        return column

    def levels(self, comparison: str) -> list[str]:
        """Level names of a comparison, worst first."""
        if comparison in COMPARISONS:
            return list(COMPARISONS[comparison].levels)
        return EXTRA_LEVELS[next(e.kind for e in self.extras if e.name == comparison)]

    @property
    def all_comparisons(self) -> tuple[str, ...]:
        return self.comparisons + tuple(e.name for e in self.extras)

    @property
    def extra_passes(self) -> tuple[tuple, ...]:
        """Blocking passes of the extra comparisons with ``block: true``: the value itself, and for a number
        its digits in sorted order (``<name>_digits``, see cdq.linkage.prepare): two digits swapped
        ("2579575" / "2579557") leave no exact key to meet on."""
        out: tuple[tuple, ...] = ()
        for e in self.extras:
            if e.block:
                out += ((f"extra_{e.name}", (e.name,), None),)
                if e.kind == "number":
                    out += ((f"extra_{e.name}_digits", (f"{e.name}_digits",), None),)
        return out

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
        thresholds=tuple((c, k, v) for c, m in model.comparisons.items() for k, v in m.thresholds.items()),
        tf_columns=tuple((c, m.tf if isinstance(m.tf, str) else str(COMPARISONS[c].tf_column))
                         for c, m in model.comparisons.items() if m.tf),
        u_distinct=frozenset(c for c, m in model.comparisons.items() if m.u_distinct),
        extras=tuple(_extra(e) for e in model.extra_comparisons),
        cannot_link=tuple((k, tuple(v)) for k, v in model.cannot_link.items()),
        em_max_iterations=model.model.em_max_iterations, u_sample_pairs=model.model.u_sample_pairs,
        seed=model.model.seed, tf_min_weight=model.model.tf_min_weight, tf_max_weight=model.model.tf_max_weight,
        u_prior=tuple((k, tuple(v)) for k, v in model.model.u_prior.items()), u_prior_pairs=model.model.u_prior_pairs,
        m_prior=tuple((k, tuple(v)) for k, v in model.model.m_prior.items()), source=source,
    )


def settings_to_dict(s: Settings) -> dict[str, Any]:
    """The resolved settings as JSON-ready data (what a model file keeps); :func:`settings_from_dict` reads it
    back equal.

    Examples:
        >>> import json
        >>> s = load_settings()
        >>> settings_from_dict(json.loads(json.dumps(settings_to_dict(s)))) == s
        True
    """
    data = asdict(s)
    for name in ("tf_comparisons", "u_distinct"):
        data[name] = sorted(data[name])
    return data


def settings_from_dict(data: Mapping[str, Any]) -> Settings:
    """:class:`Settings` from :func:`settings_to_dict`'s data; a comparison this version does not implement, or
    other level names, is a ConfigError (the settings were saved by another version of cdq)."""

    def tuples(value: Any) -> Any:  # JSON turned the tuples into lists
        return tuple(tuples(v) for v in value) if isinstance(value, list) else value

    known = {f.name for f in fields(Settings)}
    values = {k: tuples(v) for k, v in data.items() if k in known}
    values["tf_comparisons"] = frozenset(values.get("tf_comparisons", ()))
    values["u_distinct"] = frozenset(values.get("u_distinct", ()))
    values["extras"] = tuple(ExtraComparison(**e) for e in data.get("extras", ()))
    unknown = [c for c in values.get("comparisons", ()) if c not in COMPARISONS]
    if unknown or set(data) - known:
        raise ConfigError(f"saved linkage settings name what this cdq does not know: "
                          f"{', '.join(unknown + sorted(set(data) - known))}",
                          hint="train the model again with this version (`cdq model train` or --save-model)")
    return Settings(**values)


def load_settings(path: str | Path | None = None) -> Settings:
    """Load and compile ``rules/matching.yaml`` (or ``path``); raises ConfigError listing every problem."""
    file = Path(path) if path else resource("rules", "matching.yaml")
    return compile_settings(load_model(file, MatchingFile), source=str(file))
