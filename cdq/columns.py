"""The canonical staging columns (``../shared/DESIGN.md``) and the fixed quarantine/findings schemas.

Every import adapter produces a frame whose canonical columns are exactly :data:`CANONICAL`; the input's
own columns are kept beside them, prefixed with :data:`RAW_PREFIX`, so nothing typed by a person is lost.
"""

from __future__ import annotations

import pandas as pd

LINEAGE = [
    "record_id", "source", "source_file", "source_row", "source_key", "adviser", "source_updated_at",
]
PERSON = ["title", "initials", "first_name", "infix", "last_name", "gender", "birth_date"]
ORGANISATION = ["party_type", "company_name", "legal_form", "kvk_number", "vat_number"]
ADDRESS = [
    "street", "house_number", "house_letter", "house_number_addition", "postcode", "city", "country",
    "bag_address_id",
]
CONTACT = ["email", "phone", "mobile"]
#: Extra contact values (a vCard with three e-mail addresses) kept ';'-joined, for survivorship to aggregate.
EXTRA = ["other_emails", "other_phones"]
QUALITY = ["issues", "name_plausibility", "address_status"]

CANONICAL = LINEAGE + PERSON + ORGANISATION + ADDRESS + CONTACT + EXTRA + QUALITY

#: Name columns normalize derives (partner name, name use as words and as the BRP code E/P/V/N, the letter
#: lines): stored with every source record and carried into the golden record, the CRM and the exports.
NAME_DERIVED = ["suffix", "partner_infix", "partner_last_name", "name_use", "name_use_brp", "salutation",
                "envelope_name"]

#: The part of a staging frame a header can map to (lineage bookkeeping and quality are computed).
MAPPABLE = ["source_key", "adviser", "source_updated_at"] + PERSON + ORGANISATION + ADDRESS + CONTACT + EXTRA

#: Pseudo-targets for combined input fields that are split into canonical columns.
COMBINED = ["full_name", "address_line", "street_and_number", "house_number_full", "name_or_company"]

RAW_PREFIX = "src:"

QUARANTINE = ["source", "source_file", "source_row", "column", "reason_code", "detail", "raw"]
FINDINGS = ["stage", "rule", "column", "record_id", "value", "severity", "reason_code", "detail"]


def empty_quarantine() -> pd.DataFrame:
    """A quarantine frame with the fixed columns and no rows."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in QUARANTINE})


def empty_findings() -> pd.DataFrame:
    """A findings frame with the fixed columns and no rows."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDINGS})
