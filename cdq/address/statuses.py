"""Which register statuses an address may be completed or verified with (``reference_data/address_statuses.yaml``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from cdq.config import load_model
from cdq.resources import resource


class StatusRules(BaseModel):
    """The authoring form of ``address_statuses.yaml``."""

    model_config = ConfigDict(extra="forbid")
    not_usable: list[str]
    true_words: list[str]


@lru_cache(maxsize=1)
def rules() -> StatusRules:
    """The bundled status rules (validated once)."""
    return load_model(resource("reference_data", "address_statuses.yaml"), StatusRules)


@lru_cache(maxsize=1)
def _not_usable() -> frozenset[str]:
    return frozenset(s.strip().lower() for s in rules().not_usable)


def usable_status(status: str | None) -> bool:
    """False for a withdrawn / not realised / retired address; True otherwise (also when no status is known).

    Examples:
        >>> usable_status("Verblijfsobject in gebruik"), usable_status("Naamgeving ingetrokken"), usable_status("")
        (True, False, True)
    """
    return (status or "").strip().lower() not in _not_usable()


TRUE_WORDS = frozenset(rules().true_words)
