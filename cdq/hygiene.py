"""Text hygiene at import: every value any importer produces passes through here (``cdq.staging.stage``).

Real files carry bytes no target accepts: a NUL aborts a PostgreSQL or CRM load, a vertical tab or an
escape makes every ``.xlsx`` write fail, a byte-order mark in the middle of a file sticks to a value, and
a runaway field is longer than any column or spreadsheet cell. Cleaning them once, at the door, makes
every later target (xlsx, CSV, PostgreSQL, SQLite, CRM APIs, PDFs) safe, and the reason codes say which
row was touched — never what the value was.

- NUL bytes are removed: ``NUL_REMOVED``.
- Other control characters (C0 but tab/newline/carriage return, DEL, C1), terminal escape sequences,
  byte-order marks and non-characters inside a value, and lone surrogates are replaced by a space:
  ``CONTROL_CHARACTER_REPLACED``.
- A value longer than :data:`MAX_FIELD` characters is cut, with :data:`CUT_MARKER`:
  ``FIELD_TOO_LONG`` (the staging step quarantines a record whose customer field is that long).
"""

from __future__ import annotations

import re
from functools import partial
from operator import is_not
from typing import NamedTuple

import pandas as pd

from cdq.reasons import register

__all__ = ["clean_value", "clean_frame", "clean_frame_with_facts", "ColumnFacts", "clean_headers", "MAX_FIELD", "MAX_CANONICAL", "CUT_MARKER"]

NUL_REMOVED = register("NUL_REMOVED", "a NUL byte was removed from a field (databases and CRMs refuse it)",
                       stage="import")
CONTROL_REPLACED = register(
    "CONTROL_CHARACTER_REPLACED",
    "a control character (vertical tab, escape sequence, form feed, byte-order mark inside a value, ...) was "
    "replaced by a space", stage="import")
FIELD_TOO_LONG = register(
    "FIELD_TOO_LONG", "a field is longer than any real value of its kind; the record is quarantined (a customer "
    "field) or the value is cut with a marker (another column)", stage="import")

#: Longest value kept whole in any column: below a spreadsheet cell's 32,767 characters.
MAX_FIELD = 32_000
#: Longest plausible value of a canonical customer field (an e-mail address is at most 254).
MAX_CANONICAL = 255
CUT_MARKER = " …[cut]"

_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])")
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff\ud800-\udfff]")


def clean_value(value: str, limit: int = MAX_FIELD) -> tuple[str, list[str]]:
    """One text value made safe for every target; returns it and the reason codes of what was done.

    Examples:
        >>> clean_value("Jan\\x00")
        ('Jan', ['NUL_REMOVED'])
        >>> clean_value("Jan\\x0bJansen")
        ('Jan Jansen', ['CONTROL_CHARACTER_REPLACED'])
        >>> clean_value("\\x1b[31mBakker\\x1b[0m")
        (' Bakker ', ['CONTROL_CHARACTER_REPLACED'])
        >>> clean_value("de Vries\\ufeff")
        ('de Vries ', ['CONTROL_CHARACTER_REPLACED'])
        >>> clean_value("x" * 12, limit=10)
        ('xxx …[cut]', ['FIELD_TOO_LONG'])
        >>> clean_value("Müller")
        ('Müller', [])
    """
    codes = []
    if "\x00" in value:
        value = value.replace("\x00", "")
        codes.append(NUL_REMOVED)
    if _CONTROL.search(value):
        value = _CONTROL.sub(" ", _ESCAPE_SEQUENCE.sub(" ", value))
        codes.append(CONTROL_REPLACED)
    if len(value) > limit:
        value = value[: max(limit - len(CUT_MARKER), 0)] + CUT_MARKER
        codes.append(FIELD_TOO_LONG)
    return value, codes


def _needs_cleaning(value: object, limit: int) -> bool:
    return isinstance(value, str) and (len(value) > limit or "\x00" in value or _CONTROL.search(value) is not None)


def _as_text(cells: list) -> list[str]:
    """Every cell but None (and "" or 0) as text, in C: str(v) is v for text and only adds characters to anything
    else, so a bound or a clean verdict over these holds for the column's text cells (numbers never need
    cleaning)."""
    try:
        present = list(filter(None, cells))  # C truthiness drops None and "" (neither is long or dirty) and 0
    except (TypeError, ValueError):  # a cell without a truth value (pd.NA): the same test, a call per cell
        present = list(filter(partial(is_not, None), cells))
    return list(map(str, present))


class ColumnFacts(NamedTuple):
    """What the hygiene pass learnt of a clean column, for later steps to skip their own pass over it:
    its longest text (``str`` of a cell; falsy cells such as 0 or False count as 0, their text is at most 5
    characters) and whether any text holds a line break."""

    longest: int
    line_break: bool


def _column_facts(values: pd.Series, limit: int) -> ColumnFacts | None:
    """The facts of a column none of whose text cells needs cleaning, None when one does; two C-level passes
    (almost every column of a real export is clean, and a Python call per cell was a third of an import's
    time)."""
    texts = _as_text(values.tolist())
    if not texts:
        return ColumnFacts(0, False)
    longest = max(map(len, texts))
    if longest > limit:
        return None
    joined = "".join(texts)
    if "\x00" in joined or _CONTROL.search(joined) is not None:
        return None
    return ColumnFacts(longest, "\n" in joined)


def clean_frame(frame: pd.DataFrame, limit: int = MAX_FIELD) -> tuple[pd.DataFrame, pd.Series]:
    """Clean every text cell; returns the cleaned copy and, per row, its reason codes joined by ``;``.

    Examples:
        >>> out, codes = clean_frame(pd.DataFrame({"a": ["Jan\\x00", "Piet"], "b": ["x\\x0by", None]}))
        >>> out.values.tolist(), codes.tolist()
        ([['Jan', 'x y'], ['Piet', None]], ['NUL_REMOVED;CONTROL_CHARACTER_REPLACED', ''])
    """
    out, codes, _ = clean_frame_with_facts(frame, limit)
    return out, codes


def clean_frame_with_facts(frame: pd.DataFrame, limit: int = MAX_FIELD
                           ) -> tuple[pd.DataFrame, pd.Series, dict[int, ColumnFacts]]:
    """:func:`clean_frame`, and the :class:`ColumnFacts` of each column that was clean, by position.

    Examples:
        >>> clean_frame_with_facts(pd.DataFrame({"a": ["Jan", "Piet\\nJan"], "b": ["x\\x0by", None]}))[2]
        {0: ColumnFacts(longest=8, line_break=True)}
    """
    out = frame.copy()
    facts = {p: _column_facts(frame.iloc[:, p], limit) for p in range(len(frame.columns))}
    dirty_columns = [p for p, fact in facts.items() if fact is None]
    clean = {p: fact for p, fact in facts.items() if fact is not None}
    if not dirty_columns:  # the usual case: no list per row to build and join
        return out, pd.Series([""] * len(frame), index=frame.index, dtype="object"), clean
    codes: list[list[str]] = [[] for _ in range(len(frame))]
    for position in dirty_columns:
        values = frame.iloc[:, position]
        dirty = [i for i, v in enumerate(values) if _needs_cleaning(v, limit)]
        if not dirty:
            continue
        cleaned = values.tolist()
        for i in dirty:
            cleaned[i], found = clean_value(cleaned[i], limit)
            codes[i].extend(c for c in found if c not in codes[i])
        out.iloc[:, position] = pd.Series(cleaned, index=out.index, dtype="object")
    return out, pd.Series([";".join(c) for c in codes], index=frame.index, dtype="object"), clean


def clean_headers(headers: list[str]) -> list[str]:
    """Headers made safe the same way (a header is written to every output, and named in messages).

    Examples:
        >>> clean_headers(["Naam\\x00", "Plaats\\x0b"])
        ['Naam', 'Plaats ']
    """
    return [clean_value(str(h), MAX_CANONICAL)[0] for h in headers]


def overlong(frame: pd.DataFrame, columns: list[str], limit: int = MAX_CANONICAL) -> pd.Series:
    """Per row, the first of ``columns`` whose value is longer than ``limit`` (None where none is).

    Examples:
        >>> overlong(pd.DataFrame({"a": ["x" * 300, "y"], "b": [None, "z" * 300]}), ["a", "b"]).tolist()
        ['a', 'b']
    """
    found = pd.Series(None, index=frame.index, dtype="object")
    for column in columns:
        if column not in frame:
            continue
        cells = frame[column].tolist()
        if max(map(len, _as_text(cells)), default=0) <= limit:
            continue  # the usual case, decided without a Python call per cell
        long = pd.Series([isinstance(v, str) and len(v) > limit for v in cells], index=frame.index) & found.isna()
        found[long] = column
    return found
