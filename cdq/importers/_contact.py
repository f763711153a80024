"""Shared helpers for adapters that build contact rows themselves (vCard, mailbox, Outlook contacts).

These adapters name their columns by canonical column names, so staging maps them 1:1. Multi-valued
contact data (three e-mail addresses, five phone numbers) keeps one preferred value in ``email`` /
``phone`` / ``mobile`` and the rest, typed, in ``other_emails`` / ``other_phones``: nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cdq.columns import QUARANTINE
from cdq.importers.base import RawTable

#: Columns every contact row may fill, in output order; all are canonical except the raw extras below.
CONTACT_COLUMNS = [
    "source_key", "source_updated_at", "full_name", "title", "initials", "first_name", "infix", "last_name",
    "gender", "birth_date", "company_name", "street", "house_number", "postcode", "city", "country",
    "email", "other_emails", "phone", "mobile", "other_phones",
]
#: Columns the adapter maps to a split target instead of a canonical column of the same name.
SPLIT_TARGETS = {"street": "street_and_number", "address_label": "address_line"}
_MOBILE_TYPES = {"cell", "mobile", "iphone", "car", "pager"}
_NON_VOICE = {"fax"}


@dataclass
class Value:
    """One typed contact value (an e-mail address or phone number) with its preference."""

    value: str
    types: tuple[str, ...] = ()
    pref: int | None = None

    def typed(self) -> str:
        """``work:+31...`` (types joined by '/'); a bare value when it has no type.

        Examples:
            >>> Value("+31 20 1234567", ("work", "voice")).typed()
            'work/voice:+31 20 1234567'
        """
        clean = self.value.replace(";", ",")
        return f"{'/'.join(self.types)}:{clean}" if self.types else clean


def _ordered(values: list[Value]) -> list[Value]:
    """Preferred values first (lowest PREF number), otherwise file order."""
    indexed = list(enumerate(values))
    indexed.sort(key=lambda iv: (iv[1].pref if iv[1].pref is not None else 10_000, iv[0]))
    return [v for _, v in indexed]


def pick_emails(values: list[Value]) -> dict[str, str | None]:
    """The preferred address in ``email``, the others typed and ';'-joined in ``other_emails``.

    Examples:
        >>> pick_emails([Value("a@x.nl", ("home",)), Value("b@x.nl", ("work",), 1)])
        {'email': 'b@x.nl', 'other_emails': 'home:a@x.nl'}
    """
    values = [v for v in values if v.value.strip()]
    if not values:
        return {"email": None, "other_emails": None}
    first, *rest = _ordered(values)
    return {"email": first.value.strip(), "other_emails": "; ".join(v.typed() for v in rest) or None}


def pick_phones(values: list[Value]) -> dict[str, str | None]:
    """Preferred mobile in ``mobile``, preferred other voice number in ``phone``, the rest typed.

    Examples:
        >>> pick_phones([Value("1", ("home",)), Value("2", ("cell",)), Value("3", ("fax",))])
        {'phone': '1', 'mobile': '2', 'other_phones': 'fax:3'}
    """
    values = _ordered([v for v in values if v.value.strip()])
    mobiles = [v for v in values if _MOBILE_TYPES & set(v.types)]
    mobile_ids = {id(v) for v in mobiles}  # identity, not equality: linear in the number of numbers
    voice = [v for v in values if id(v) not in mobile_ids and not (_NON_VOICE & set(v.types))]
    mobile = mobiles[0] if mobiles else None
    phone = voice[0] if voice else None
    rest = [v for v in values if v is not mobile and v is not phone]
    return {
        "phone": phone.value.strip() if phone else None,
        "mobile": mobile.value.strip() if mobile else None,
        "other_phones": "; ".join(v.typed() for v in rest) or None,
    }


def contact_table(records: list[dict], rows: list[int], source_file: str, *, quarantine: list[dict] | None = None,
                  rows_in: int | None = None, notes: dict | None = None, table: str | None = None) -> RawTable:
    """Build the RawTable: canonical columns first, then any extra raw columns with at least one value."""
    extras: list[str] = sorted({str(k) for r in records for k, v in r.items() if v is not None and k not in CONTACT_COLUMNS})
    columns = [c for c in CONTACT_COLUMNS if any(r.get(c) is not None for r in records)] + extras
    if not columns:
        columns = ["full_name"]
    frame = pd.DataFrame([[r.get(c) for c in columns] for r in records], columns=columns, dtype="object")
    frame = frame.where(frame.notna(), None)
    premapped = {c: SPLIT_TARGETS.get(c, c) for c in columns if c in CONTACT_COLUMNS or c in SPLIT_TARGETS}
    q = pd.DataFrame(quarantine or [], columns=QUARANTINE, dtype="object")
    # the adapter named every column itself: its extra columns (job title, display name) are no targets
    return RawTable(frame=frame, rows=list(rows), source_file=source_file, table=table, quarantine=q,
                    premapped=premapped, rows_in=rows_in, notes=dict(notes or {}), premapped_only=True)


def quarantine_row(source_file: str, row: int, reason: str, detail: str, raw: str | None = None) -> dict:
    """One adapter quarantine row (``source`` is filled in by staging)."""
    return {"source": None, "source_file": source_file, "source_row": row, "column": None,
            "reason_code": reason, "detail": detail, "raw": (raw or "")[:2000]}
