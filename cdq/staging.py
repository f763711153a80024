"""Build the staging frame: canonical columns plus lineage, with the input's own columns kept beside them.

:func:`stage` maps one :class:`RawTable` (headers from the synonym table, an adapter's own pre-mapping, or
an explicit mapping file), splits combined fields and fills lineage. :func:`import_inputs` reads any
number of inputs and stacks them into one :class:`ImportResult`. Rows without any usable customer data go
to the quarantine with ``NO_USABLE_FIELDS``; a table where no column is recognised at all is an input
error (exit code 2) that names the headers found and suggests ``--mapping``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from cdq.address_parts import split_address_line, split_house_number, split_street
from cdq.columns import CANONICAL, QUARANTINE, RAW_PREFIX, empty_quarantine
from cdq.errors import InputError
from cdq.headers import (
    ADDRESS_TARGETS,
    CONTACT_TARGETS,
    ColumnMatch,
    MappingFile,
    numbered_duplicates,
    recognise,
)
from cdq.hygiene import (
    FIELD_TOO_LONG,
    MAX_CANONICAL,
    ColumnFacts,
    clean_frame,
    clean_frame_with_facts,
    clean_headers,
    overlong,
)
from cdq.importers import RawTable, read_input
from cdq.importers._columns import address_blocks, choose_blocks, contact_values, multiline_address, ordered
from cdq.log import Progress, ProgressLog
from cdq.normalize.name_parsing import split_name

logger = logging.getLogger(__name__)

#: Canonical columns that identify a customer; a row with none of them cannot become one.
IDENTIFYING = [
    "first_name", "initials", "last_name", "company_name", "email", "phone", "mobile",
    "street", "postcode", "kvk_number", "other_emails", "other_phones",
]
_NAME_FIELDS = ["title", "initials", "first_name", "infix", "last_name", "gender"]


@dataclass(frozen=True)
class TableCount:
    """One input table's accounting: where it came from and where its rows went (rows in = staged +
    quarantined), with the adapter's notes (``RawTable.notes``: encoding, header row, column mapping, ...)."""

    source: str
    file: str
    table: str | None
    rows_in: int
    staged: int
    quarantined: int
    notes: Mapping[str, object] = field(default_factory=dict)

    def __getitem__(self, key: str) -> object:
        """The dict form callers used before this was typed: ``t["rows_in"]``, ``t["note_mapping"]``."""
        if key.startswith("note_") and key[5:] in self.notes:
            return self.notes[key[5:]]
        if key in {f.name for f in fields(self)} - {"notes"}:
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: object = None) -> object:
        """``t.get("note_mapping")`` as on the dict form."""
        try:
            return self[key]
        except KeyError:
            return default


@dataclass
class ImportResult:
    """The staging frame, the quarantine, and per-table accounting (one :class:`TableCount` per table)."""

    staging: pd.DataFrame
    quarantine: pd.DataFrame
    tables: list[TableCount] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return sum(t.rows_in for t in self.tables)

    def accounting_line(self) -> str:
        """'rows in = staged + quarantined', the line every import ends with."""
        return f"{self.rows_in} rows in = {len(self.staging)} staged + {len(self.quarantine)} quarantined"


def _clean_text(series: pd.Series) -> pd.Series:
    """Strip whitespace; empty strings become None. Values stay text (a number becomes its ``str``).

    One list comprehension over the cells: ``split``/``join`` run in C, so a call per cell costs less than any
    pass that first looks for cells needing it (a regex over the joined values, ``pd.unique``, a dict map).
    """
    cells = series.tolist()
    try:  # the usual column: text and empty cells only
        tidy = [None if v is None else " ".join(v.split()) or None for v in cells]
    except (AttributeError, TypeError):  # numbers, dates or NaN/NA/NaT from a typed reader
        missing = pd.isna(series.to_numpy(dtype=object)).tolist()
        tidy = [None if m else " ".join(str(v).split()) or None for v, m in zip(cells, missing, strict=True)]
    return pd.Series(_object_array(tidy), index=series.index, dtype="object", copy=False)


def _object_array(values: list) -> np.ndarray:
    """A 1-D object array of ``values`` (text or None), without pandas' per-element checks of a list."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _apply_split(frame: pd.DataFrame, column: pd.Series, splitter, assign) -> None:
    """Split each distinct value once (exports repeat values a lot) and fill empty targets only."""
    cache = {v: splitter(v) for v in column.dropna().unique()}
    for target, getter in assign.items():
        values = column.map(lambda v: getter(cache[v]) if v in cache else None)  # noqa: B023 - runs at once
        frame[target] = frame[target].where(frame[target].notna(), values)


def _split_combined(frame: pd.DataFrame, combined: dict[str, pd.Series], beside_contact_person: bool = False) -> None:
    if "name_or_company" in combined or "full_name" in combined:
        names = combined.get("full_name", combined.get("name_or_company"))
        _assign_names(frame, names, beside_contact_person)
    if "address_line" in combined:
        _apply_split(frame, combined["address_line"], split_address_line, {
            "street": lambda a: a.street.street, "house_number": lambda a: a.street.house_number.number,
            "house_letter": lambda a: a.street.house_number.letter,
            "house_number_addition": lambda a: a.street.house_number.addition,
            "postcode": lambda a: a.postcode, "city": lambda a: a.city,
        })
    if "street_and_number" in combined:
        _apply_split(frame, combined["street_and_number"], split_street, {
            "street": lambda a: a.street, "house_number": lambda a: a.house_number.number,
            "house_letter": lambda a: a.house_number.letter,
            "house_number_addition": lambda a: a.house_number.addition,
        })
    _split_house_numbers(frame, combined.get("house_number_full"))


def _split_house_numbers(frame: pd.DataFrame, full: pd.Series | None) -> None:
    """A number column holding "12-A" or "12 hs" is split; a clean "12" stays as it is.

    An addition column that holds the whole number ("202", "7-A": the Dutch government layouts'
    HUISNUMMER-TOEVOEGING) gives the number where the number column is empty, or repeats it.
    """
    addition = frame["house_number_addition"]
    # per cell in C (str.isdecimal is regex \d); the regex only for the few additions that start with a digit
    whole = pd.Series([t is not None and t[:1].isdecimal() and _LEADING_NUMBER.match(t) is not None
                       for t in _texts(addition)], index=addition.index, dtype=bool)
    if whole.any():
        leading = addition.astype(str).str.extract(r"^(\d{1,5})", expand=False)
        repeats = whole & (frame["house_number"].isna() | (frame["house_number"].astype(str) == leading))
        if repeats.any():
            full = (full if full is not None else pd.Series([None] * len(frame), dtype="object")).copy()
            full[repeats] = addition[repeats]
            frame.loc[repeats, "house_number_addition"] = None
    number = frame["house_number"] if full is None else full.where(full.notna(), frame["house_number"])
    frame["house_number"] = frame["house_number"].where(frame["house_number"].notna(), number)
    needs_split = pd.Series([t is not None and not (t.isdecimal() and len(t) <= 5) for t in _texts(number)],
                            index=number.index, dtype=bool)  # not a plain 1-5 digit number (regex \d{1,5})
    if not needs_split.any():
        return
    parts = number[needs_split]
    split = {v: split_house_number(v) for v in parts.unique()}
    frame.loc[needs_split, "house_number"] = parts.map(lambda v: split[v].number)
    for target, attr in (("house_letter", "letter"), ("house_number_addition", "addition")):
        values = parts.map(lambda v, a=attr: getattr(split[v], a))
        frame.loc[needs_split, target] = frame.loc[needs_split, target].where(
            frame.loc[needs_split, target].notna(), values
        )


#: 1-5 digits at the start of an addition, then a non-digit or the end: "202", "7-A" (the whole number).
_LEADING_NUMBER = re.compile(r"\d{1,5}(?:\D|$)")


def _texts(series: pd.Series) -> list[str | None]:
    """Each cell as ``astype(str)`` writes it, None where the cell is missing (for per-cell tests in C)."""
    present = series.notna().tolist()
    return [(v if type(v) is str else str(v)) if p else None for v, p in zip(series.tolist(), present, strict=True)]


def _assign_names(frame: pd.DataFrame, names: pd.Series, beside_contact_person: bool = False) -> None:
    """Split a one-field name; a value that looks like a company goes to company_name instead."""
    from cdq.normalize.organisations import looks_like_company

    names = names.reset_index(drop=True)
    is_company = names.notna() & names.map(lambda v: v is not None and looks_like_company(v))
    # row by row: a company typed in the name column of a row whose company column is empty is its company
    free = is_company & frame["company_name"].isna()
    frame.loc[free, "company_name"] = names[free]
    person_names = names.where(~is_company, None)
    has_person_fields = frame[["first_name", "initials", "last_name"]].notna().any(axis=1)
    # a name beside the row's own person fields that does not hold that person's surname is the
    # relation's (organisation's) name: Exact's "Naam" beside ContactpersoonVoornaam/-Achternaam
    other = has_person_fields & person_names.notna() & frame["company_name"].isna() & frame["last_name"].notna()
    if beside_contact_person and other.any():
        surname_in = [str(last).lower() in str(name).lower() or str(name).lower() in str(last).lower()
                      for name, last in zip(person_names[other], frame.loc[other, "last_name"], strict=True)]
        relation = other.copy()
        relation[other] = [not s for s in surname_in]
        frame.loc[relation, "company_name"] = person_names[relation]
    person_names = person_names.where(~has_person_fields, None)
    _apply_split(frame, person_names, split_name, {f: (lambda p, f=f: getattr(p, f)) for f in _NAME_FIELDS})


def _table_error_if_unmapped(raw: RawTable, matches: list[ColumnMatch]) -> None:
    if not any(m.target for m in matches) and len(raw.frame):
        headers = ", ".join(map(str, list(raw.frame.columns)[:12]))
        where = f"{raw.source_file}" + (f" [{raw.table}]" if raw.table else "")
        raise InputError(
            where, f"no column is recognised as customer data (headers: {headers})",
            hint="pass --mapping FILE to say which column is which (see README: mapping files)",
        )


def recognise_table(raw: RawTable, mapping: MappingFile | None = None) -> list[ColumnMatch]:
    """Where each column of a raw table goes (see :func:`cdq.headers.recognise`)."""
    headers = [str(c) for c in raw.frame.columns]
    frame = raw.frame.copy()
    frame.columns = headers
    if raw.premapped_only:
        premapped = {h: t for h, t in raw.premapped.items() if h in headers}
        explicit = mapping.columns if mapping else {}
        for header in [h for h in explicit if h not in headers]:
            recognise(headers, mapping=MappingFile(columns={header: explicit[header]}))  # raises, listing columns
        return [ColumnMatch(h, explicit[h], 1.0, "mapping file") if h in explicit and explicit[h] else
                ColumnMatch(h, premapped[h], 1.0, "named by the reader")
                if h in premapped and h not in explicit else
                ColumnMatch(h, None, 0.0, "kept as src: (extra detail)") for h in headers]
    try:
        layout = raw.notes.get("layout")
        return recognise(headers, mapping=mapping, premapped=raw.premapped,
                         layout=layout if isinstance(layout, str) else None,
                         frame=frame.head(2000))
    except InputError as error:
        where = f"{raw.source_file}" + (f" [{raw.table}]" if raw.table else "")
        raise InputError(where, error.problem, hint=error.hint) from None


#: Contact targets whose value is one part of one of their own cells (the others join several: "a; b").
_FIRST_ONLY = frozenset({"email", "phone", "mobile"})
#: Targets the splits of combined fields write (names, address lines, street and number, house numbers).
_NAME_SPLIT = frozenset({*_NAME_FIELDS, "company_name"})
_STREET_SPLIT = frozenset({"street", "house_number", "house_letter", "house_number_addition"})
_LINE_SPLIT = _STREET_SPLIT | {"postcode", "city"}


class _Bounds:
    """How long the values of each canonical column of a staging frame can be, from the hygiene pass's
    :class:`ColumnFacts` of the raw columns they came from (None: not known).

    Sound because every value :func:`stage` writes is a raw cell cleaned (whitespace collapsed: never
    longer), a part of one, or a split's output, and the split targets are marked unknown. A new write to a
    canonical column in :func:`stage` must note its bound here, or the overlong check would skip it.
    """

    def __init__(self, facts: dict[str, ColumnFacts]):
        self.facts = facts
        self.longest: dict[str, int | None] = dict.fromkeys(CANONICAL, 0)  # np.empty columns: all None

    def line_break(self, header: str) -> bool:
        """Whether a cell of the raw column may hold a line break (unknown for a column that was cleaned)."""
        fact = self.facts.get(header)
        return fact is None or fact.line_break

    def note(self, target: str, headers: list[str] | None) -> None:
        """``target`` now also holds values from these raw columns' cells (None: values of unknown length)."""
        if headers is None or any(h not in self.facts for h in headers) or self.longest.get(target, 0) is None:
            self.longest[target] = None
            return
        # 5: the text of a falsy non-text cell (0, 0.0, False), which the facts do not count
        self.longest[target] = max([self.longest.get(target) or 0, 5] + [self.facts[h].longest for h in headers])

    def after_splits(self, combined: dict[str, pd.Series]) -> None:
        """Mark what :func:`_split_combined` may have written (the house number split always runs)."""
        touched = set(_STREET_SPLIT) - {"street"}
        if "full_name" in combined or "name_or_company" in combined:
            touched |= _NAME_SPLIT
        if "address_line" in combined:
            touched |= _LINE_SPLIT
        if "street_and_number" in combined:
            touched |= _STREET_SPLIT
        for target in touched:
            self.longest[target] = None

    def short(self) -> frozenset[str]:
        """The columns no value of which is longer than MAX_CANONICAL."""
        return frozenset(c for c, n in self.longest.items() if n is not None and n <= MAX_CANONICAL)


def stage(raw: RawTable, *, source: str | None = None, mapping: MappingFile | None = None,
          keep_unusable: bool = False, matches: list[ColumnMatch] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map one raw table to the staging frame; return ``(staging, quarantine)``.

    Args:
        raw: an adapter's output.
        source: system name recorded in ``source`` (default: mapping's ``source`` or the file stem).
        mapping: explicit header mapping; overrides the adapter's pre-mapping and the synonym table.
        keep_unusable: keep rows without any identifying field in the staging frame, flagged
            ``NO_USABLE_FIELDS`` in ``issues``, instead of quarantining them (file-transforming commands
            such as ``cdq clean`` and ``cdq dedupe`` write every input row).
        matches: where each column goes, decided already (:func:`recognise_table` on the whole table): a
            table staged in parts (the Spark engine stages each partition) must map every part alike.
    """
    # Text hygiene, once for every importer: no NUL, control character or runaway value gets past here.
    raw, hygiene_codes, facts = _hygienic(raw)
    frame_in = raw.frame  # _hygienic's own copy, its index reset
    matches = matches if matches is not None else recognise_table(raw, mapping)
    raw.notes["mapping"] = [m.as_dict() for m in matches]
    _table_error_if_unmapped(raw, matches)
    n = len(frame_in)
    # np.empty(dtype=object) is all None, made without a Python list per column
    staging = pd.DataFrame({c: pd.Series(np.empty(n, dtype=object), dtype="object") for c in CANONICAL})
    # Every write to a canonical column below notes how long its values can be (see _Bounds): a column known
    # to be short needs no overlong check, which was a pass over every cell of every column.
    bounds = _Bounds(facts)
    combined: dict[str, pd.Series] = {}
    mapped = [m for m in matches if m.target]
    simple = [m for m in mapped if m.target not in ADDRESS_TARGETS and m.target not in CONTACT_TARGETS]
    for m in ordered(simple)[::-1]:  # the most trusted column is written last, so it wins
        values = _clean_text(frame_in[m.header]).reset_index(drop=True)
        if m.target in CANONICAL:
            staging[m.target] = values
            bounds.note(m.target, [m.header])
        elif m.target:
            combined[m.target] = values
    for target, values in contact_values(frame_in, mapped, _clean_text).items():
        staging[target] = values
        # the first value per row is a part of one of the target's own cells; the others are joined
        bounds.note(target, [m.header for m in mapped if m.target == target] if target in _FIRST_ONLY else None)
    _fill_address(staging, frame_in, mapped, combined, bounds)
    contact_person = any(m.target in ("first_name", "last_name", "initials") and (
        m.group == "contact" or any(w in m.header.lower() for w in ("contact", "ansprechpartner"))) for m in mapped)
    _split_combined(staging, combined, contact_person)
    bounds.after_splits(combined)
    source_name = source or (mapping.source if mapping and mapping.source else _default_source(raw))
    staging["source"] = source_name
    staging["source_file"] = str(raw.source_file)
    staging["source_row"] = list(raw.rows)
    staging["record_id"] = [f"{source_name}#{r}" for r in raw.rows]
    staging["issues"] = hygiene_codes.reset_index(drop=True)
    for column in ("source", "source_row", "record_id"):
        bounds.note(column, None)
    raw_values = frame_in.reset_index(drop=True).add_prefix(RAW_PREFIX)
    staging = pd.concat([staging, raw_values], axis=1)
    return _quarantine_unusable(staging, raw, source_name, keep_unusable, bounds.short())


def _fill_address(staging: pd.DataFrame, frame: pd.DataFrame, mapped: list[ColumnMatch],
                  combined: dict[str, pd.Series], bounds: _Bounds) -> None:
    """Address columns from the fullest address block per row; multi-line addresses read line by line."""
    blocks = address_blocks(mapped)
    if not blocks:
        return
    # a line break in no address cell (the hygiene pass looked): no cell is read line by line
    lines = any(bounds.line_break(h) for cols in blocks.values() for h in cols.values())
    organisation = staging["company_name"].notna() & staging[["first_name", "last_name", "initials"]].isna().all(axis=1)
    if "full_name" in combined or "name_or_company" in combined:
        organisation &= False
    values = {b: {t: _clean_multiline(frame[h]) if lines else _clean_text(frame[h].reset_index(drop=True))
                  for t, h in cols.items()} for b, cols in blocks.items()}
    chosen = choose_blocks(values, organisation.reset_index(drop=True))
    for target, series in chosen.items():
        series = series.reset_index(drop=True)
        if target in ("street_and_number", "address_line") and lines:  # else _clean_text's text already
            series = _expand_multiline(staging, series)
            series = pd.Series(_object_array([" ".join(v.split()) if isinstance(v, str) else v for v in series.tolist()]),
                               index=series.index, dtype="object", copy=False)
        if target in CANONICAL:
            staging[target] = series.where(series.notna(), staging[target])
            bounds.note(target, [cols[target] for cols in blocks.values() if target in cols])
        else:
            combined[target] = series
    if lines:  # a multi-line cell fills postcode, city and country from its own lines
        for target in ADDRESS_TARGETS & set(CANONICAL):
            bounds.note(target, None)
    if "street_and_number" in combined and "address_line" not in combined:
        text = combined["street_and_number"]
        texts = _texts(text)
        # one search over the joined cells first: a cell's match is a match there too (line breaks are \b)
        maybe = _POSTCODE_IN_TEXT.search("\n".join([t for t in texts if t is not None])) is not None
        with_postcode = pd.Series([maybe and t is not None and _POSTCODE_IN_TEXT.search(t) is not None
                                   for t in texts], index=text.index, dtype=bool)
        if with_postcode.any():  # "Kerkstraat 1, 1234 AB Utrecht" in a street column: the whole address
            combined["address_line"] = text.where(with_postcode, None)
            combined["street_and_number"] = text.where(~with_postcode, None)


_POSTCODE_IN_TEXT = re.compile(r"\b[1-9]\d{3}\s?[A-Za-z]{2}\b")


def _clean_multiline(series: pd.Series) -> pd.Series:
    """Like :func:`_clean_text`, but line breaks survive (a formatted address is read line by line)."""
    s = series.reset_index(drop=True)
    lines = _with_line_break(s)
    if lines is None:  # the usual column: no line break anywhere
        return _clean_text(s)
    s = s.astype("object").where(s.notna(), None)
    multi = s[lines].map(lambda v: "\n".join(" ".join(x.split()) for x in str(v).splitlines() if x.strip()) or None)
    return _clean_text(s.where(~lines, None)).where(~lines, multi)


def _with_line_break(series: pd.Series) -> pd.Series | None:
    """Per cell, whether its text holds a line break; None when no cell does (one C-level pass decides that)."""
    texts = _texts(series)
    if "\n" not in "".join([t for t in texts if t is not None]):
        return None
    return pd.Series([t is not None and "\n" in t for t in texts], index=series.index, dtype=bool)


def _expand_multiline(staging: pd.DataFrame, series: pd.Series) -> pd.Series:
    """A multi-line address fills postcode, city and country (where empty) and leaves its street line."""
    multi = _with_line_break(series)
    if multi is None:
        return series
    parsed = {v: multiline_address(v) for v in series[multi].unique()}
    for target in ("postcode", "city", "country"):
        found = series[multi].map(lambda v, t=target: (parsed[v] or {}).get(t))
        staging.loc[multi, target] = staging.loc[multi, target].where(staging.loc[multi, target].notna(), found)
    return series.where(~multi, series[multi].map(lambda v: (parsed[v] or {}).get("street_and_number", v)))


def _default_source(raw: RawTable) -> str:
    if "://" in str(raw.source_file):  # a database table: the table is the source
        return str(raw.table or "sql")
    stem = Path(Path(str(raw.source_file)).name).stem
    return f"{stem}:{raw.table}" if raw.table else stem


def _hygienic(raw: RawTable) -> tuple[RawTable, pd.Series, dict[str, ColumnFacts]]:
    """``raw`` with every header and cell cleaned (:mod:`cdq.hygiene`), each row's reason codes, and the
    facts of each clean column by its (cleaned) header."""
    import dataclasses

    original = [str(c) for c in raw.frame.columns]
    # made unique again after cleaning ("Naam" and "Naam<NUL>" would both be "Naam"): "Naam (2)"
    headers = numbered_duplicates(clean_headers(original))
    renamed = dict(zip(original, headers))
    frame, codes, facts = clean_frame_with_facts(raw.frame.reset_index(drop=True))
    frame.columns = headers
    premapped = {renamed[h]: t for h, t in raw.premapped.items() if h in renamed}
    return (dataclasses.replace(raw, frame=frame, premapped=premapped), codes,
            {headers[p]: fact for p, fact in facts.items()})


def _add_issue(staging: pd.DataFrame, rows: pd.Series, code: str) -> None:
    current = staging.loc[rows, "issues"].fillna("").astype(str)
    staging.loc[rows, "issues"] = (current + ";" + code).str.strip(";")


def _quarantine_unusable(staging: pd.DataFrame, raw: RawTable, source: str, keep_unusable: bool = False,
                         short: frozenset[str] = frozenset()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quarantine rows without an identifying field, and rows with an overlong canonical field (columns in
    ``short`` are known to hold no value over MAX_CANONICAL: not looked at)."""
    usable = staging[IDENTIFYING].notna().any(axis=1)
    too_long = overlong(staging, [c for c in CANONICAL if c not in ("source_file", "issues") and c not in short])
    if keep_unusable:
        _add_issue(staging, ~usable, "NO_USABLE_FIELDS")
        for column in too_long.dropna().unique():
            rows = too_long == column
            staging.loc[rows, column] = staging.loc[rows, column].map(lambda v: v[:MAX_CANONICAL])
        _add_issue(staging, too_long.notna(), FIELD_TOO_LONG)
        usable = pd.Series(True, index=staging.index)
        too_long[:] = None
    rejected = staging[~usable]
    cut = staging[usable & too_long.notna()]
    quarantine = pd.DataFrame({
        "source": source,
        "source_file": str(raw.source_file),
        "source_row": pd.array(rejected["source_row"].tolist(), dtype="Int64"),
        "column": None,
        "reason_code": "NO_USABLE_FIELDS",
        "detail": "no name, company, e-mail, phone or address in this row",
        "raw": [_raw_text(r) for r in rejected.filter(like=RAW_PREFIX).itertuples(index=False)],
    }, columns=QUARANTINE)
    long_q = pd.DataFrame({
        "source": source, "source_file": str(raw.source_file),
        "source_row": pd.array(cut["source_row"].tolist(), dtype="Int64"), "column": too_long[cut.index].tolist(),
        "reason_code": FIELD_TOO_LONG, "detail": f"longer than {MAX_CANONICAL} characters: not a real value",
        "raw": [_raw_text(r) for r in cut.filter(like=RAW_PREFIX).itertuples(index=False)],
    }, columns=QUARANTINE)
    adapter_q = raw.quarantine.assign(source=source) if len(raw.quarantine) else empty_quarantine()
    adapter_q = clean_frame(adapter_q)[0] if len(adapter_q) else adapter_q
    kept = usable & too_long.isna()
    if kept.all() and staging.index.equals(pd.RangeIndex(len(staging))):
        return staging, _stack_quarantine([adapter_q, quarantine, long_q])  # the usual table: no copy of it
    return staging[kept].reset_index(drop=True), _stack_quarantine([adapter_q, quarantine, long_q])


def _unrecognised_table(raw: RawTable, source: str, error: InputError) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quarantine every row of a table (sheet) in which no column is customer data."""
    logger.warning("%s: table %s has no customer columns; its %d rows are quarantined",
                   raw.source_file, raw.table, len(raw.frame))
    quarantine = pd.DataFrame({
        "source": source, "source_file": str(raw.source_file), "source_row": pd.array(list(raw.rows), dtype="Int64"),
        "column": None, "reason_code": "TABLE_NOT_RECOGNISED",
        "detail": f"sheet/table {raw.table!r}: {error.problem}",
        "raw": [_raw_text(r) for r in raw.frame.itertuples(index=False)],
    }, columns=QUARANTINE)
    adapter_q = raw.quarantine.assign(source=source) if len(raw.quarantine) else empty_quarantine()
    return pd.DataFrame(columns=CANONICAL), _stack_quarantine([adapter_q, quarantine])


def _stack_quarantine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate quarantine frames, skipping empty ones (they would decide the column dtypes)."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty_quarantine()


def _raw_text(values) -> str:
    return " | ".join("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in values)


def _unique_source(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}~{n}", n + 1
    used.add(candidate)
    return candidate


def import_inputs(
    paths: Sequence[str | Path],
    *,
    mapping: MappingFile | None = None,
    progress: Progress | None = None,
    keep_unusable: bool = False,
    used_sources: set[str] | None = None,
    **options,
) -> ImportResult:
    """Read and stage every input; source names are made unique so ``record_id`` is unique in the run.

    ``keep_unusable`` keeps rows without identifying fields (flagged ``NO_USABLE_FIELDS``); see :func:`stage`.
    ``used_sources`` carries the source names taken by earlier calls (a pipeline imports input by input).
    Rows an adapter could not read at all (a ragged CSV row, an unreadable vCard) are always quarantined.
    """
    stagings, quarantines, tables = [], [], []
    used = used_sources if used_sources is not None else set()
    tick = ProgressLog(logger, "import", len(paths), progress=progress)
    for i, path in enumerate(paths, start=1):
        raws = read_input(path, **options)
        for raw in raws:
            wanted = mapping.source if mapping and mapping.source else _default_source(raw)
            try:
                staged, quarantined = stage(raw, source=_unique_source(wanted, used), mapping=mapping,
                                            keep_unusable=keep_unusable)
            except InputError as error:
                if len(raws) == 1:
                    raise
                # A notes or lookup sheet beside the customer sheets: account for its rows, don't fail.
                staged, quarantined = _unrecognised_table(raw, wanted, error)
            stagings.append(staged)
            quarantines.append(quarantined)
            tables.append(TableCount(
                source=staged["source"].iat[0] if len(staged) else wanted, file=str(raw.source_file),
                table=raw.table, rows_in=raw.rows_in or 0, staged=len(staged), quarantined=len(quarantined),
                notes=dict(raw.notes)))
            logger.info("imported %s: %d rows in, %d staged, %d quarantined",
                        raw.source_file, raw.rows_in, len(staged), len(quarantined))
        tick(i)
    staging = pd.concat(stagings, ignore_index=True) if stagings else pd.DataFrame(columns=CANONICAL)
    quarantine = _stack_quarantine(quarantines)
    return ImportResult(staging, quarantine, tables)
