"""Fill canonical staging columns from recognised input columns (:func:`cdq.headers.recognise`).

Three things need more than "copy the column":

* **Address blocks.** An Outlook export has a home and a business address, an Exact export a visiting,
  postal and invoice address. Each block's columns are kept together; per row the fullest block fills the
  address columns (an organisation row prefers its business/visiting address on a tie), so a street is
  never paired with another block's city. The other blocks stay in the ``src:`` columns.
* **Several e-mail or phone columns, several values in one cell** (``a@x.de, b@x.de``). The first filled
  value (columns in order of confidence) is the main ``email`` / ``phone`` / ``mobile``; every other value
  goes, typed with its block (``work:...``), to ``other_emails`` / ``other_phones``. Nothing is dropped.
* **A street column without a number column** holds the number too (``Straße geschäftlich``); a multi-line
  address (Google's ``Ring 22⏎21423 Winsen``) is read line by line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from cdq.headers import ADDRESS_TARGETS, ColumnMatch

#: Preference between address blocks when two are equally full (persons; organisations prefer business).
_PERSON_ORDER = ["", "home", "visit", "postal", "business", "billing", "delivery", "contact"]
_ORGANISATION_ORDER = ["", "visit", "business", "postal", "billing", "home", "delivery", "contact"]
_EMAIL_SPLIT = re.compile(r"[,;\s|]+")
_PHONE_SPLIT = re.compile(r"\s*(?:[;,|\n]|\s/\s|\s+(?:of|or|oder|ou|en|and)\s+)\s*", re.I)
_DIGITS = re.compile(r"\d")
_MAYBE_SEVERAL = re.compile(r"[;,|\n/]|\s(?:of|or|oder|ou|en|and)\s")
_NUMBER_IN_STREET = re.compile(r"\d")


def ordered(matches: list[ColumnMatch]) -> list[ColumnMatch]:
    """Most trusted first; on a tie, the synonym's priority, then the column order."""
    position = {m.header: i for i, m in enumerate(matches)}
    return sorted(matches, key=lambda m: (-m.confidence, m.rank, position[m.header]))


def address_blocks(matches: list[ColumnMatch]) -> dict[str, dict[str, str]]:
    """``{block: {target: header}}`` for address columns; a street without a number column holds both."""
    blocks: dict[str, dict[str, str]] = {}
    for m in ordered(matches):
        if m.target in ADDRESS_TARGETS:
            blocks.setdefault(m.group, {}).setdefault(m.target, m.header)
    for block in blocks.values():
        if "street" in block and not {"house_number", "house_number_full", "street_and_number"} & set(block):
            block["street_and_number"] = block.pop("street")
    return blocks


def choose_blocks(blocks: dict[str, dict[str, pd.Series]], organisation: pd.Series) -> dict[str, pd.Series]:
    """Per row, the values of the fullest address block (ties: the preferred block for the row's kind)."""
    names = list(blocks)
    if len(names) == 1:
        return blocks[names[0]]
    n = len(organisation)
    counts = np.column_stack([
        np.sum([s.notna().to_numpy() for s in blocks[b].values()], axis=0) if blocks[b] else np.zeros(n)
        for b in names])
    def preference(order: list[str]) -> np.ndarray:
        return np.array([-(order.index(b) if b in order else len(order)) * 1e-3 for b in names])
    score = np.where(organisation.to_numpy()[:, None], counts + preference(_ORGANISATION_ORDER),
                     counts + preference(_PERSON_ORDER))
    pick = score.argmax(axis=1)
    targets = {t for b in names for t in blocks[b]}
    out: dict[str, pd.Series] = {}
    for target in targets:
        stacked = np.column_stack([
            (blocks[b][target] if target in blocks[b] else pd.Series([None] * n)).to_numpy(dtype=object)
            for b in names])
        out[target] = pd.Series(stacked[np.arange(n), pick], dtype="object")
    return out


def split_emails(cell: str) -> list[str]:
    """Several addresses in one cell, else the cell itself.

    Examples:
        >>> split_emails("a@x.de, b@x.de; c@x.de"), split_emails("Jan <jan@x.nl>")
        (['a@x.de', 'b@x.de', 'c@x.de'], ['Jan <jan@x.nl>'])
    """
    if cell.count("@") < 2:
        return [cell]
    parts = [p for p in _EMAIL_SPLIT.split(cell) if p]
    return parts if all("@" in p for p in parts) else [cell]


def split_phones(cell: str) -> list[str]:
    """Several phone numbers in one cell (``;``, ``,``, `` / ``, "of"), each with 6+ digits, else the cell.

    ``020/1234567`` and ``0987 /6543`` are one number.

    Examples:
        >>> split_phones("06-12345678 / 020-1234567"), split_phones("0987 /6543")
        (['06-12345678', '020-1234567'], ['0987 /6543'])
    """
    parts = [p.strip() for p in _PHONE_SPLIT.split(cell) if p and p.strip()]
    if len(parts) < 2 or any(len(_DIGITS.findall(p)) < 6 for p in parts):
        return [cell]
    return parts


def _typed(value: str, group: str) -> str:
    clean = value.replace(";", ",")
    return f"{group}:{clean}" if group else clean


def contact_values(frame: pd.DataFrame, matches: list[ColumnMatch], clean: Callable[[pd.Series], pd.Series]
                   ) -> dict[str, pd.Series]:
    """``email``/``other_emails`` and ``phone``/``mobile``/``other_phones`` from every contact column."""
    by_target: dict[str, list[ColumnMatch]] = {}
    for m in ordered(matches):
        if m.target in ("email", "other_emails", "phone", "mobile", "other_phones"):
            by_target.setdefault(m.target, []).append(m)
    out: dict[str, pd.Series] = {}
    n = len(frame)
    if {"email", "other_emails"} & set(by_target):
        cols = [(m, clean(frame[m.header])) for m in by_target.get("email", [])]
        extra = [(m, clean(frame[m.header])) for m in by_target.get("other_emails", [])]
        out["email"], out["other_emails"] = _first_and_rest(n, cols, extra, split_emails)
    if {"phone", "mobile", "other_phones"} & set(by_target):
        phones = [(m, clean(frame[m.header])) for m in by_target.get("phone", [])]
        mobiles = [(m, clean(frame[m.header])) for m in by_target.get("mobile", [])]
        extra = [(m, clean(frame[m.header])) for m in by_target.get("other_phones", [])]
        out["phone"], rest_phone = _first_and_rest(n, phones, [], split_phones)
        out["mobile"], rest_mobile = _first_and_rest(n, mobiles, [], split_phones, label="cell")
        _, rest_extra = _first_and_rest(n, [], extra, split_phones)
        out["other_phones"] = _join([rest_phone, rest_mobile, rest_extra])
    return out


def _first_and_rest(n: int, columns: list[tuple[ColumnMatch, pd.Series]], extra: list[tuple[ColumnMatch, pd.Series]],
                    splitter: Callable[[str], list[str]], label: str = "") -> tuple[pd.Series, pd.Series]:
    """The first value per row over ``columns`` (cells split), the rest typed and '; '-joined."""
    if not columns and not extra:  # no such column (a file without mobiles): nothing to walk row by row
        return pd.Series([None] * n, dtype="object"), pd.Series([None] * n, dtype="object")
    if len(columns) == 1 and not extra:
        only = columns[0][1].reset_index(drop=True)
        if not any(len(splitter(v)) > 1 for v in _maybe_several(only, splitter)):
            return only, pd.Series([None] * n, dtype="object")
    firsts: list[str | None] = [None] * n
    rests: list[list[str]] = [[] for _ in range(n)]
    for m, series in columns + extra:
        is_extra = any(m is e for e, _ in extra)
        kind = m.group or (label if not is_extra else "")
        for i, value in enumerate(series.tolist()):
            if value is None:
                continue
            for part in splitter(str(value)):
                if firsts[i] is None and not is_extra:
                    firsts[i] = part
                elif part != firsts[i] and part not in rests[i]:
                    rests[i].append(part if is_extra and ":" in part else _typed(part, kind))
    return (pd.Series(firsts, dtype="object"),
            pd.Series(["; ".join(r) or None for r in rests], dtype="object"))


def _maybe_several(column: pd.Series, splitter: Callable[[str], list[str]]) -> list[str]:
    """The cells of ``column`` that may hold several values (a superset; the splitter decides), in C-level
    passes: a second "@" per cell for e-mail, one search over all cells joined for a phone separator."""
    texts = [v if type(v) is str else str(v) for v in column.dropna().tolist()]
    if splitter is split_emails:
        return [v for v in texts if v.count("@") > 1]
    # NUL is no separator nor space, so the joined text matches only where a cell does
    if _MAYBE_SEVERAL.search("\x00".join(texts)) is None:
        return []
    return [v for v in texts if _MAYBE_SEVERAL.search(v)]


def _join(parts: list[pd.Series]) -> pd.Series:
    filled = [p for p in parts if p.notna().any()]
    if not filled:
        return pd.Series([None] * len(parts[0]), dtype="object")
    if len(filled) == 1:
        return filled[0].reset_index(drop=True)
    parts = filled
    frame = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    return pd.Series([("; ".join(v for v in row if v) or None) for row in frame.itertuples(index=False)],
                     dtype="object")


_POSTCODE_LINE = re.compile(
    r"^(?:(?P<nl>[1-9]\d{3}\s?[A-Za-z]{2})|(?P<num>(?:[A-Z]{1,2}-)?\d{4,5}))\s+(?P<city>\D.*)$"
    r"|^(?P<city2>\D.*?)\s+(?P<nl2>[1-9]\d{3}\s?[A-Za-z]{2}|\d{4,5})$")


def multiline_address(text: str) -> dict[str, str | None] | None:
    """Read a formatted multi-line address: ``street number`` line, ``postcode city`` line, country line.

    ``None`` when the text is a single line (the one-line splitter handles that).

    Examples:
        >>> multiline_address("Ring 22\\nWinsen")
        {'street_and_number': 'Ring 22', 'postcode': None, 'city': 'Winsen', 'country': None}
        >>> multiline_address("Kerkstraat 1\\n1234 AB  Utrecht\\nNederland")["postcode"]
        '1234AB'
    """
    lines = [" ".join(line.split()) for line in re.split(r"[\r\n]+", str(text)) if line.strip()]
    if len(lines) < 2:
        return None
    street_i = next((i for i, line in enumerate(lines) if _NUMBER_IN_STREET.search(line)
                     and not _POSTCODE_LINE.match(line)), 0)
    postcode = city = country = None
    place_i = None
    for i, line in enumerate(lines):
        if i == street_i:
            continue
        m = _POSTCODE_LINE.match(line)
        if m:
            postcode = m.group("nl") or m.group("num") or m.group("nl2")
            if postcode and re.fullmatch(r"[1-9]\d{3}\s?[A-Za-z]{2}", postcode):
                postcode = postcode.replace(" ", "").upper()  # the form the one-line splitter gives
            city = (m.group("city") or m.group("city2") or "").strip(" ,") or None
            place_i = i
            break
    rest = [line for i, line in enumerate(lines) if i not in (street_i, place_i)]
    if place_i is None and rest:
        city, rest = rest[0].strip(" ,"), rest[1:]
    if rest:
        country = rest[-1]
    return {"street_and_number": lines[street_i], "postcode": postcode, "city": city, "country": country}
