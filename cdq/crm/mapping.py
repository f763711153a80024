"""``rules/crm_mapping.yaml``: which CRM table and column each golden field goes to.

Examples:
    >>> m = CrmMapping.model_validate({"entities": {"contacts": {"table": "klant", "key": "gid",
    ...     "columns": {"achternaam": "last_name"}}}})
    >>> m.entities["contacts"].name, m.entities["contacts"].columns
    ('contacts', {'achternaam': 'last_name'})
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from cdq.config import load_model
from cdq.resources import resource


class Entity(BaseModel):
    """One CRM table: its key column (holds the golden id), party type and column → golden field map."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = ""
    table: str
    key: str = "cdq_golden_id"
    #: ``organisation_group``: the golden organisation above its locations (accounts) and contacts
    party_type: Literal["person", "organisation", "organisation_group"] = "person"
    merged_into: str | None = "cdq_merged_into"
    columns: dict[str, str]

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        outputs = golden_fields(info.data.get("party_type", "person"))
        unknown = sorted(v for v in value.values() if v not in outputs)
        if unknown:
            raise ValueError(f"unknown golden field(s) {unknown}; valid: {', '.join(sorted(outputs))}")
        return value


def golden_fields(party_type: str) -> set[str]:
    """The fields a CRM column may take: a golden record's values and its ``organisation_id``; for the golden
    organisation its own values and the golden ids of its ``locations`` and ``contacts`` (';'-joined).

    Examples:
        >>> sorted(golden_fields("organisation_group"))
        ['company_name', 'contacts', 'kvk_number', 'legal_form', 'locations', 'vat_number']
    """
    from cdq.survivorship import load_rules

    if party_type == "organisation_group":
        return {*load_rules().for_organisations().outputs, "locations", "contacts"}
    return {*load_rules().outputs, "organisation_id"}


class CrmMapping(BaseModel):
    """The whole mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    create_tables: bool = True
    entities: dict[str, Entity]

    @model_validator(mode="after")
    def _names(self) -> CrmMapping:
        kinds = [e.party_type for e in self.entities.values()]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each party_type (person, organisation, organisation_group) may go to one entity only")
        for name, entity in self.entities.items():
            object.__setattr__(entity, "name", name)
        return self


def load_mapping(path: str | Path | None = None) -> CrmMapping:
    """Load and validate a CRM mapping (default: the bundled ``rules/crm_mapping.yaml``)."""
    return load_model(path or resource("rules", "crm_mapping.yaml"), CrmMapping)
