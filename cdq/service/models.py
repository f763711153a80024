"""Request bodies: canonical field names, bounded lengths, unknown fields refused (422 names them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cdq.leads import QUALIFICATIONS, SOURCE_CODES

_S = Field(None, max_length=200)


class CustomerRecord(BaseModel):
    """One customer as a form or a client system types it (every field optional)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(None, max_length=40)
    initials: str | None = Field(None, max_length=40)
    first_name: str | None = _S
    infix: str | None = Field(None, max_length=40)
    last_name: str | None = _S
    gender: str | None = Field(None, max_length=10)
    birth_date: str | None = Field(None, max_length=40)
    company_name: str | None = _S
    kvk_number: str | None = Field(None, max_length=20)
    street: str | None = _S
    house_number: str | None = Field(None, max_length=20)
    house_letter: str | None = Field(None, max_length=5)
    house_number_addition: str | None = Field(None, max_length=10)
    postcode: str | None = Field(None, max_length=10)
    city: str | None = _S
    country: str | None = Field(None, max_length=60)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    mobile: str | None = Field(None, max_length=40)

    def values(self) -> dict[str, str]:
        """The given (non-empty) fields."""
        return {k: v for k, v in self.model_dump().items() if v not in (None, "")}


SourceCode = Literal[SOURCE_CODES]  # type: ignore[valid-type]
Qualification = Literal[QUALIFICATIONS]  # type: ignore[valid-type]


class LeadIn(CustomerRecord):
    """A web lead: the customer's fields plus where it came from and how warm it is."""

    source_code: SourceCode = Field(description="where the lead came from: " + ", ".join(SOURCE_CODES))
    qualification: Qualification = Field(description="warm or cold")
    campaign: str | None = Field(None, max_length=200)
