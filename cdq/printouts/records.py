"""Load the customers to print (any customer file, or a golden store) and prepare them for print.

:func:`load_customers` returns a frame with canonical columns, a stable ``row_key`` (the golden id for a
store, the source record ref ``source|key`` for a file) and ``adviser_label``. :func:`prepare` normalizes,
runs the name checks (and address completion when a reference store is given) so ``issues`` holds every
reason code, and :func:`entries` turns one adviser's sorted rows into :class:`~cdq.printouts.layout.Entry`.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cdq.errors import UsageError
from cdq.normalize.countries import country_code, country_name
from cdq.normalize.name_lines import surname_as_used
from cdq.printouts.dutch import NO_ADVISER
from cdq.printouts.layout import Entry

__all__ = ["load_customers", "prepare", "entries", "is_store_url", "resolve_adviser_column"]

logger = logging.getLogger(__name__)


def is_store_url(value: str | Path) -> bool:
    """A SQLAlchemy URL (``sqlite:///golden.sqlite``) rather than a file path."""
    return "://" in str(value)


def _store_frame(url: str) -> pd.DataFrame:
    """Active golden records of the store at ``url``, one column per golden value, key = golden id."""
    from cdq.golden import golden_frame
    from cdq.store import GoldenStore

    rows = GoldenStore(url, must_exist=True).changes_since(0, full=True)
    rows = rows[rows["status"] == "active"].reset_index(drop=True)
    if rows.empty:
        raise UsageError(f"the golden store {url} has no active golden records",
                         hint="fill it with `cdq run pipelines/batch_cleanse.yaml` or `cdq demo`")
    frame = golden_frame(rows[["golden_id", "data"]])
    frame.insert(0, "record_id", frame["golden_id"])
    frame["row_key"] = frame["golden_id"]
    return frame


def _file_frame(path: str | Path) -> pd.DataFrame:
    from cdq.golden import record_refs
    from cdq.staging import import_inputs

    staging = import_inputs([path], keep_unusable=True).staging
    staging["row_key"] = record_refs(staging).to_numpy()
    return staging


def resolve_adviser_column(frame: pd.DataFrame, column: str) -> str:
    """The frame column meant by ``--adviser-column`` (canonical name, the input's own header, any case)."""
    candidates = [column, f"src:{column}"]
    lowered = {str(c).lower(): c for c in frame.columns}
    for name in candidates:
        if name in frame.columns:
            return name
        if name.lower() in lowered:
            return lowered[name.lower()]
    headers = ", ".join(str(c).removeprefix("src:") for c in frame.columns if str(c).startswith("src:"))
    raise UsageError(f"no adviser column {column!r} in the input",
                     hint=f"use --adviser-column with one of: adviser{', ' + headers if headers else ''}")


def load_customers(source: str | Path, adviser_column: str = "adviser") -> pd.DataFrame:
    """The customers of a file or golden store, with ``row_key`` and ``adviser_label`` columns."""
    frame = _store_frame(str(source)) if is_store_url(source) else _file_frame(source)
    column = resolve_adviser_column(frame, adviser_column)
    adviser = frame[column].astype(object).where(frame[column].notna(), "")
    frame["adviser_label"] = adviser.astype(str).str.split().str.join(" ").replace("", None)
    logger.info("printouts: %d customers, %d advisers", len(frame), frame["adviser_label"].nunique())
    return frame


def prepare(frame: pd.DataFrame, reference=None) -> pd.DataFrame:
    """Normalize, check names and (with a reference store) addresses; ``issues`` gets every code."""
    from cdq.names import check
    from cdq.normalize import normalize

    extra = frame[["row_key", "adviser_label"]].reset_index(drop=True)
    out, _ = normalize(frame.drop(columns=["issues"], errors="ignore"))
    out[["row_key", "adviser_label"]] = extra
    if reference is not None:
        from cdq.address import complete

        out, findings = complete(out, reference)
        codes = findings.groupby("record_id")["reason_code"].agg(lambda c: ";".join(dict.fromkeys(c)))
        more = out["record_id"].map(codes).fillna("")
        out["issues"] = (out["issues"].fillna("") + ";" + more).str.strip(";")
    out, _ = check(out)
    return out


@lru_cache(maxsize=8192)
def phone_nl(value: str) -> str:
    """An E.164 number as a Dutch reader writes it ('+31612345678' -> '06 12345678')."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        return value
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 31 else \
        phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def _v(row: dict, column: str) -> str:
    value = row.get(column)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return " ".join(str(value).split())


def house_number_text(row: dict) -> str:
    """'12', '12A', '12-2', '12A-bis': the number, letter and addition as written on an envelope."""
    number = _v(row, "house_number") + _v(row, "house_letter")
    addition = _v(row, "house_number_addition")
    return f"{number}-{addition}" if addition and number else number or addition


def _name_lines(row: dict) -> list[str]:
    company = _v(row, "company_name")
    # the envelope line normalize wrote (name use applied); else initials and the surname as used
    person = _v(row, "envelope_name") or " ".join(
        p for p in (_v(row, "initials") or _v(row, "first_name"), surname_as_used(row) or "") if p)
    if company:
        form = _v(row, "legal_form")
        name = company if not form or form.lower().replace(".", "") in company.lower().replace(".", "") \
            else f"{company} {form}"
        return [name] + ([f"t.a.v. {person}"] if person and person != company else [])
    return [person or "(naam ontbreekt)"]


def _address_lines(row: dict) -> list[str]:
    street = " ".join(p for p in (_v(row, "street"), house_number_text(row)) if p)
    city = re.sub(r"^'S-", "'s-", _v(row, "city").upper())  # envelope style: capitals, but 's-Hertogenbosch
    place = "  ".join(p for p in (_v(row, "postcode"), city) if p)
    country = _v(row, "country")
    lines = [line for line in (street, place) if line]
    code = country_code(country)
    if country and code != "NL":  # abroad: the country's Dutch name in capitals on the last line
        lines.append((country_name(code) if code else country).upper())
    return lines or ["(adres ontbreekt)"]


def _contact(row: dict) -> list[tuple[str, str]]:
    out = []
    for label, column in (("Telefoon", "phone"), ("Mobiel", "mobile")):
        if value := _v(row, column):
            out.append((label, phone_nl(value)))
    if value := _v(row, "email"):
        out.append(("E-mail", value))
    if value := _v(row, "birth_date"):
        parts = value[:10].split("-")
        out.append(("Geboren", "-".join(reversed(parts)) if len(parts) == 3 else value))
    if value := _v(row, "kvk_number"):
        out.append(("KvK", value))
    return out


_ADDRESS_PARTS = {"street": "straat", "house_number": "huisnummer", "postcode": "postcode", "city": "woonplaats"}


def missing_parts(row: dict) -> list[str]:
    """'adres is onvolledig: ... ontbreekt' when a part of the address is empty (checked without reference).

    Examples:
        >>> missing_parts({"street": None, "house_number": "76", "postcode": "7009 PF", "city": "Doetinchem"})
        ['adres is onvolledig: straat ontbreekt']
    """
    gone = [label for column, label in _ADDRESS_PARTS.items() if not _v(row, column)]
    if not gone or len(gone) == len(_ADDRESS_PARTS):
        return ["adres ontbreekt"] if gone else []
    listed = gone[0] if len(gone) == 1 else f"{', '.join(gone[:-1])} en {gone[-1]}"
    return [f"adres is onvolledig: {listed} {'ontbreekt' if len(gone) == 1 else 'ontbreken'}"]


def entries(rows: pd.DataFrame) -> list[Entry]:
    """Print entries for one adviser's rows (already in print order, with ``group_key`` and ``nr``)."""
    sizes = rows["group_key"].where(rows["group_key"] != "").value_counts()
    seen: set[str] = set()
    out = []
    for row in rows.to_dict("records"):
        group = row.get("group_key") or ""
        heading = None
        if group and sizes.get(group, 0) > 1 and group not in seen:
            seen.add(group)
            heading = f"{_name_lines(row)[0]}: {sizes[group]} vestigingen"
        out.append(Entry(nr=int(row["nr"]), key=str(row["row_key"]), name_lines=_name_lines(row),
                         address_lines=_address_lines(row), contact=_contact(row),
                         problems=_problems(row), group_heading=heading))
    return out


def _problems(row: dict) -> list[str]:
    from cdq.printouts.dutch import problems_nl

    found = problems_nl(row.get("issues"))
    if any(t.startswith("adres is onvolledig") for t in found):
        return found
    return found + [t for t in missing_parts(row) if t not in found]


def adviser_groups(frame: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """``(adviser or None, rows)`` per adviser, sorted by name; the records without adviser come last."""
    labels = frame["adviser_label"]
    named = sorted(labels.dropna().unique(), key=lambda a: str(a).lower())
    groups = [(a, frame[labels == a]) for a in named]
    if labels.isna().any():
        groups.append((None, frame[labels.isna()]))
    return groups


def label_of(adviser: str | None) -> str:
    return adviser if adviser else NO_ADVISER
