"""Normalization settings: the authoring model of ``rules/normalization.yaml`` and its resolved form."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cdq.config import load_model
from cdq.resources import resource

Family = Literal["organisations", "names", "addresses", "phones", "emails", "dates"]


class NamesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_names_file: str | None = None
    gender_threshold: float = Field(0.9, gt=0.5, le=1.0)


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    check_deliverability: bool = False


class NormalizationRules(BaseModel):
    """``rules/normalization.yaml`` as written (authoring form, defaults in the model)."""

    model_config = ConfigDict(extra="forbid")
    region: str = "NL"
    name_convention: Literal["dutch", "belgian"] = "dutch"
    hyphenated_name_use: Literal["partner-own", "own-partner"] = "partner-own"
    names: NamesSettings = NamesSettings()
    email: EmailSettings = EmailSettings()
    families: list[Family] = ["organisations", "names", "addresses", "phones", "emails", "dates"]


@dataclass(frozen=True)
class NormalizeConfig:
    """The resolved settings the normalize stage uses.

    Examples:
        >>> NormalizeConfig().belgian, NormalizeConfig(belgian=True).belgian
        (False, True)
    """

    region: str = "NL"
    belgian: bool = False
    hyphenated_name_use: str = "partner-own"
    first_names_file: str | None = None
    gender_threshold: float = 0.9
    check_deliverability: bool = False
    families: tuple[str, ...] = ("organisations", "names", "addresses", "phones", "emails", "dates")


def load_config(path: str | Path | None = None, *, belgian: bool | None = None) -> NormalizeConfig:
    """Read and resolve ``rules/normalization.yaml`` (or ``path``); ``belgian`` overrides the convention."""
    rules = load_model(path or resource("rules", "normalization.yaml"), NormalizationRules)
    return NormalizeConfig(
        region=rules.region,
        belgian=rules.name_convention == "belgian" if belgian is None else belgian,
        hyphenated_name_use=rules.hyphenated_name_use,
        first_names_file=rules.names.first_names_file,
        gender_threshold=rules.names.gender_threshold,
        check_deliverability=rules.email.check_deliverability,
        families=tuple(rules.families),
    )
