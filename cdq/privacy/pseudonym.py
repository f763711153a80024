"""Consistent pseudonyms for test and vendor exports: same input and key → same pseudonym, so the data
stays linkable (two records of one person still match) while nobody can read who it is.

Each value is replaced by a choice made from HMAC-SHA256(key, field kind + normalised value): first names
and surnames from cdq's own authored name lists (``reference_data/names``; a first name keeps its gender),
e-mail addresses as ``<hash>@example.invalid``, phone numbers as Dutch numbers of the same kind (mobile
06 / fixed line), house numbers as another number, birth dates as another day in the same year. Initials,
salutation and envelope lines are derived from the pseudonymised names. The key comes from
``CDQ_PSEUDONYM_KEY``; without it nothing is exported (a pseudonym without a secret is a lookup table).

Examples:
    >>> frame = pd.DataFrame({"first_name": ["Jan", "Jan"], "last_name": ["Jansen", "Jansen"],
    ...                       "email": ["jan@x.nl", "JAN@x.nl"]})
    >>> out = pseudonymise(frame, b"k")
    >>> out["first_name"].nunique(), out["email"].nunique(), out.at[0, "first_name"] == "Jan"
    (1, 1, False)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from functools import lru_cache

import pandas as pd

from cdq.errors import UsageError
from cdq.resources import resource

__all__ = ["pseudonymise", "pseudonym_key", "KEY_ENV"]

KEY_ENV = "CDQ_PSEUDONYM_KEY"
_DERIVED = ("initials", "salutation", "envelope_name", "all_emails", "all_phones", "other_emails", "other_phones",
            "orig:", "src:")


def pseudonym_key() -> bytes:
    """The secret from ``CDQ_PSEUDONYM_KEY`` (a usage error without it)."""
    key = os.environ.get(KEY_ENV, "")
    if len(key) < 16:
        raise UsageError(f"pseudonymised exports need a secret key of at least 16 characters in {KEY_ENV}",
                         hint=f"export {KEY_ENV}=$(openssl rand -hex 32) and keep it as safe as the data")
    return key.encode()


@lru_cache(maxsize=1)
def _names() -> tuple[dict[str, list[str]], list[str]]:
    first: dict[str, list[str]] = {"M": [], "F": [], "U": []}
    for line in resource("reference_data", "names", "first_names.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, gender = line.split("\t")[:2]
            first.setdefault(gender, []).append(name)
    surnames = [line.split("\t")[0] for line in
                resource("reference_data", "names", "surnames.tsv").read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#")]
    return first, surnames


def _number(key: bytes, kind: str, value: str) -> int:
    digest = hmac.new(key, f"{kind}\x1f{value.strip().lower()}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def _first(key: bytes, value: str) -> str:
    first, _ = _names()
    gender = next((g for g, names in first.items() if value in names), "U")
    pool = first.get(gender) or first["M"] + first["F"]
    return pool[_number(key, "first", value) % len(pool)]


def _surname(key: bytes, value: str) -> str:
    _, surnames = _names()
    return surnames[_number(key, "last", value) % len(surnames)]


def _email(key: bytes, value: str) -> str:
    return f"p{_number(key, 'email', value) % 10**10:010d}@example.invalid"


def _phone(key: bytes, value: str) -> str:
    n = _number(key, "phone", re.sub(r"\D", "", value)[-9:])
    return f"+316{n % 10**8:08d}" if re.sub(r"\D", "", value)[-9:].startswith("6") else f"+3110{n % 10**7:07d}"


def _house_number(key: bytes, value: str) -> str:
    return str(1 + _number(key, "house", value) % 250)


def _birth_date(key: bytes, value: str) -> str:
    year = value[:4]
    if not year.isdigit():
        return value
    day = _number(key, "birth", value) % 365
    return str((pd.Timestamp(f"{year}-01-01") + pd.Timedelta(days=day)).date())


_FIELDS = {"first_name": _first, "last_name": _surname, "email": _email, "phone": _phone, "mobile": _phone,
           "house_number": _house_number, "birth_date": _birth_date}


def pseudonymise(frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """A copy of ``frame`` with names, e-mails, phones, house numbers and birth dates pseudonymised, and the
    columns derived from them recomputed or dropped (they would give the real values away)."""
    out = frame.drop(columns=[c for c in frame.columns if str(c).startswith(_DERIVED) and c != "initials"])
    for column, fake in _FIELDS.items():
        if column in out.columns:
            values = out[column].astype(object)
            distinct = {v: fake(key, str(v)) for v in values.dropna().unique() if str(v).strip()}
            out[column] = values.map(lambda v, d=distinct: d.get(v, v))
    if "initials" in out.columns and "first_name" in out.columns:
        out["initials"] = out["first_name"].map(lambda v: f"{v[0]}." if isinstance(v, str) and v else None)
    elif "initials" in out.columns:
        out["initials"] = out["initials"].map(lambda v: f"{_first(key, str(v))[0]}." if isinstance(v, str) else v)
    if "infix" in out.columns:
        out["infix"] = None  # the surname pseudonym carries its own particles
    return out
