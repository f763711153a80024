"""Survivorship rules: the YAML authoring model and its compiled, frozen form.

``rules/survivorship.yaml`` lists attribute *groups* (columns that always come from one record, such as the
address parts) and, per group, a *strategy chain*. Each strategy keeps the best candidates of a cluster;
the chain stops narrowing once one record is left. A group may instead ``aggregate`` several columns
(every distinct e-mail address or phone number, with its type). :func:`load_rules` validates the file with
errors that name file, key and line, and :func:`compile_rules` resolves it into :class:`Rules`.

Examples:
    >>> rules = compile_rules(SurvivorshipFile.model_validate({
    ...     "groups": {"email": {"columns": ["email"], "chain": ["most_frequent", "most_recent"]}}}))
    >>> [s.label for s in rules.groups[0].steps]
    ['most_frequent', 'most_recent']
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from cdq.columns import CANONICAL, NAME_DERIVED
from cdq.config import load_model
from cdq.resources import resource

STRATEGIES = ("steward", "source_priority", "most_recent", "most_complete", "most_frequent", "validated")
VALIDATORS = ("bag_verified", "email_valid", "phone_valid", "date_valid", "name_plausible")

ChainItem = str | dict[str, Any]


def _check_step(item: ChainItem) -> tuple[str, dict]:
    """Normalise one chain item to ``(name, params)``; raise ValueError naming valid choices."""
    params: dict[str, Any]
    if isinstance(item, str):
        name, params = item, {}
    elif isinstance(item, dict) and len(item) == 1:
        name, raw = next(iter(item.items()))
        params = raw if isinstance(raw, dict) else {"check": raw} if name == "validated" else {"value": raw}
    else:
        raise ValueError(f"a chain step is a strategy name or a one-key mapping, not {item!r}")
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; valid: {', '.join(STRATEGIES)}")
    allowed = {"validated": {"check", "column", "min"}, "source_priority": {"order", "value"},
               "most_recent": {"column"}}.get(name, set())
    if unknown := set(params) - allowed:
        raise ValueError(f"strategy {name!r} takes no parameter(s) {sorted(unknown)}; valid: {sorted(allowed)}")
    if name == "validated" and params.get("check", "") not in VALIDATORS:
        raise ValueError(f"validated needs a check from: {', '.join(VALIDATORS)} (got {params.get('check')!r})")
    return name, params


class GroupSpec(BaseModel):
    """One attribute group: ``columns`` + ``chain``, or ``aggregate`` (column -> type label)."""

    model_config = ConfigDict(extra="forbid")
    columns: list[str] = []
    chain: list[ChainItem] | None = None
    aggregate: dict[str, str] | None = None
    #: a validity check (as in ``validated``) a value must pass to be a candidate at all: an invalid value
    #: stays a finding of its source record but never becomes a golden value
    require: ChainItem | None = None

    @field_validator("require")
    @classmethod
    def _valid_require(cls, value: ChainItem | None) -> ChainItem | None:
        if value is not None:
            _check_step({"validated": value})
        return value

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CANONICAL and c not in NAME_DERIVED]
        if unknown:
            raise ValueError(f"unknown column(s) {unknown}; use canonical staging columns")
        return value

    @field_validator("chain")
    @classmethod
    def _valid_chain(cls, value: list[ChainItem] | None) -> list[ChainItem] | None:
        names = [_check_step(item)[0] for item in value or []]
        if "steward" in names[1:]:
            raise ValueError("'steward' must be the first step of a chain (a person's value always wins)")
        return value

    @field_validator("aggregate")
    @classmethod
    def _valid_aggregate(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        unknown = [c for c in value or {} if c not in CANONICAL]
        if unknown:
            raise ValueError(f"unknown column(s) {unknown}; use canonical staging columns")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> GroupSpec:
        if self.aggregate is not None and self.columns:
            raise ValueError("a group has either 'columns' (with a chain) or 'aggregate', not both")
        if self.aggregate is None and not self.columns:
            raise ValueError("a group needs 'columns' (with a chain) or 'aggregate'")
        return self


class SurvivorshipFile(BaseModel):
    """The authoring model of ``rules/survivorship.yaml``."""

    model_config = ConfigDict(extra="forbid")
    source_priority: list[str] = []
    default_chain: list[ChainItem] = ["steward", "source_priority", "most_recent"]
    groups: dict[str, GroupSpec]
    #: groups whose values the golden organisation takes from its locations (``party_type`` aside)
    #: (default: the group named ``organisation``, when there is one)
    organisation_groups: list[str] | None = None

    @field_validator("default_chain")
    @classmethod
    def _valid_default(cls, value: list[ChainItem]) -> list[ChainItem]:
        GroupSpec._valid_chain(value)
        return value

    @model_validator(mode="after")
    def _columns_once(self) -> SurvivorshipFile:
        seen: dict[str, str] = {}
        for name, group in self.groups.items():
            for column in group.columns:
                if column in seen:
                    raise ValueError(f"column {column!r} is in groups {seen[column]!r} and {name!r}")
                seen[column] = name
            if group.aggregate is not None and name in CANONICAL:
                raise ValueError(f"aggregate group {name!r} must not be named like a staging column")
        unknown = [g for g in self.organisation_groups or () if g not in self.groups or self.groups[g].aggregate]
        if unknown:
            raise ValueError(f"organisation_groups {unknown} are not groups with columns; valid: "
                             f"{', '.join(n for n, g in self.groups.items() if not g.aggregate)}")
        return self


@dataclass(frozen=True)
class Step:
    """A resolved strategy step; ``label`` is what lineage records (e.g. ``validated:email_valid``)."""

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        check = dict(self.params).get("check")
        return f"{self.name}:{check}" if check else self.name

    def param(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)


@dataclass(frozen=True)
class Group:
    """A resolved group: output ``columns`` and its ``steps``, or ``aggregate`` pairs (column, type)."""

    name: str
    columns: tuple[str, ...]
    steps: tuple[Step, ...] = ()
    aggregate: tuple[tuple[str, str], ...] = ()
    require: Step | None = None

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,) if self.aggregate else self.columns

    @property
    def steward(self) -> bool:
        return any(s.name == "steward" for s in self.steps)


@dataclass(frozen=True)
class Rules:
    """Compiled survivorship rules, the only form :func:`cdq.survivorship.survive` sees."""

    groups: tuple[Group, ...]
    source_priority: tuple[str, ...] = ()
    outputs: tuple[str, ...] = field(default=())
    organisation_groups: tuple[str, ...] = ("organisation",)

    def for_organisations(self) -> Rules:
        """The rules a golden organisation is survived with: its groups, without ``party_type``.

        Examples:
            >>> load_rules().for_organisations().outputs
            ('company_name', 'legal_form', 'kvk_number', 'vat_number')
        """
        groups = tuple(replace(g, columns=tuple(c for c in g.columns if c != "party_type"))
                       for g in self.groups if g.name in self.organisation_groups)
        return Rules(groups, self.source_priority, tuple(c for g in groups for c in g.outputs), ())


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _step(item: ChainItem) -> Step:
    name, params = _check_step(item)
    return Step(name, tuple(sorted((k, _freeze(v)) for k, v in params.items())))


def compile_rules(spec: SurvivorshipFile) -> Rules:
    """Resolve the authoring model: default chains filled in, parameters frozen."""
    groups = []
    for name, g in spec.groups.items():
        require = _step({"validated": g.require}) if g.require is not None else None
        if g.aggregate is not None:
            groups.append(Group(name, (), aggregate=tuple(g.aggregate.items()), require=require))
            continue
        steps = tuple(map(_step, g.chain if g.chain is not None else spec.default_chain))
        groups.append(Group(name, tuple(g.columns), steps, require=require))
    outputs = tuple(c for g in groups for c in g.outputs)
    organisation = spec.organisation_groups
    if organisation is None:
        organisation = [g for g in ("organisation",) if g in spec.groups and not spec.groups[g].aggregate]
    return Rules(tuple(groups), tuple(spec.source_priority), outputs, tuple(organisation))


def load_rules(path: str | Path | None = None) -> Rules:
    """Load and compile a survivorship YAML file (default: the bundled ``rules/survivorship.yaml``)."""
    return compile_rules(load_model(path or resource("rules", "survivorship.yaml"), SurvivorshipFile))
