"""Address completion and verification against the BAG reference: ``complete(frame, store)``.

For each record with postcode + house number (+ letter/addition) the register fills street, city,
municipality, province and the BAG address id; a typed street or city is compared with the register's
(tolerant of abbreviations, case, accents and typos) and corrected; a number that does not exist under
its postcode is ``not_found``; a missing postcode is found from street + number + city. Every row gets an
``address_status`` (:data:`STATUSES`), every change a finding, and every overwritten value is kept in
``orig:<column>``. Lookups are batched (:class:`~cdq.address.store.AddressStore`), comparisons run once
per distinct (typed, register) pair.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cdq.address import belgium, postal
from cdq.address import pc4 as pc4_module
from cdq.address.find import find_postcodes
from cdq.address.keys import (
    canonical_postcode,
    encode_postcodes,
    number_ranges,
    per_distinct,
    split_numbers,
    valid_postcode,
)
from cdq.address.resolve import resolve
from cdq.address.text import city_key, compare, street_key
from cdq.columns import FINDINGS, empty_findings
from cdq.log import Progress, ProgressLog

logger = logging.getLogger(__name__)
#: completion's steps (progress): postal and invalid addresses, Belgian addresses, the lookup, the new columns
_STEPS = 4

ADDRESS_COLUMNS = ["street", "house_number", "house_letter", "house_number_addition", "postcode", "city"]
NEW_COLUMNS = ["municipality", "province", "bag_address_id", "address_status"]
#: Every ``address_status`` value (docs/address_status.md says what each means).
STATUSES = ("verified", "completed", "corrected", "ambiguous", "not_found", "addition_not_found", "withdrawn",
            "range", "postbus", "antwoordnummer", "invalid", "no_reference")
#: Kinds of match (cdq.address.resolve) that identify one register address.
_SURE = ("exact", "suffix", "notation", "single")
ORIG_PREFIX = "orig:"
_NUMBER_ONLY = r"\d{1,5}\s*[-/ ]?\s*[A-Za-z0-9]{0,4}"
STAGE = "address"

#: Comparison outcome -> (reason code suffix, severity) for street and city findings.
_OUTCOME_FINDING = {"standardised": ("STANDARDISED", "info"), "corrected": ("CORRECTED", "warning"),
                    "completed": ("COMPLETED", "info")}


class _Findings:
    """Collects findings as small frames; one ``add`` per reason code, vectorised over rows."""

    def __init__(self, record_ids: pd.Series):
        self.ids = record_ids.to_numpy(dtype=object)
        self.parts: list[pd.DataFrame] = []

    def add(self, pos: np.ndarray, rule: str, column: str, value, severity: str, reason: str, detail) -> None:
        pos = np.asarray(pos, dtype=np.int64)
        if len(pos) == 0:
            return
        self.parts.append(pd.DataFrame({
            "stage": STAGE, "rule": rule, "column": column, "record_id": self.ids[pos],
            "value": _as_array(value, len(pos)), "severity": severity, "reason_code": reason,
            "detail": _as_array(detail, len(pos)),
        }, columns=FINDINGS))

    def frame(self) -> pd.DataFrame:
        return pd.concat(self.parts, ignore_index=True) if self.parts else empty_findings()


def _as_array(value, n: int) -> np.ndarray:
    if isinstance(value, (pd.Series, np.ndarray, list)):
        return np.asarray(value, dtype=object)
    return np.full(n, value, dtype=object)


def _text(series: pd.Series) -> pd.Series:
    """Stripped text, ``None`` where empty (computed once per distinct value)."""
    return pd.Series(per_distinct(series, lambda v: str(v).strip() or None), index=series.index, dtype=object)


def _given(frame: pd.DataFrame) -> pd.DataFrame:
    """The typed address in canonical pieces, positional index."""
    f = frame.reset_index(drop=True)
    street, number = _text(f["street"]), _text(f["house_number"])
    # Back-office exports put only "36A" or "30-hs" in the address field: that is a number, not a street.
    only_number = number.isna() & (street.str.fullmatch(_NUMBER_ONLY).to_numpy(dtype=object) == True)  # noqa: E712
    number, street = number.where(~only_number, street), street.where(~only_number, None)
    numbers = split_numbers(number, f["house_letter"], f["house_number_addition"])
    pc = canonical_postcode(f["postcode"])
    return pd.DataFrame({
        "pc": pc, "pc_ok": valid_postcode(pc).to_numpy(), "number": numbers["number"],
        "letter": numbers["letter"], "addition": numbers["addition"], "number_text": number,
        "street": street, "city": _text(f["city"]), "range": number_ranges(number),
    })


def complete(frame: pd.DataFrame, store=None, *, progress: Progress | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete and verify the address columns of ``frame`` against ``store``.

    Args:
        frame: a frame with (some of) ``street, house_number, house_letter, house_number_addition,
            postcode, city``; ``record_id`` names records in findings (the index otherwise).
        store: an :class:`~cdq.address.store.AddressStore` (or anything with its ``lookup`` interface),
            or ``None`` for no reference (every valid row is ``no_reference``).
        progress: optional ``(done, total)`` callback, called after each of the completion's steps.

    Returns:
        ``(frame, findings)``: every input column kept, address columns completed, plus ``municipality``,
        ``province``, ``bag_address_id``, ``address_status`` and ``orig:<column>`` for changed values.
    """
    step = ProgressLog(logger, f"address completion of {len(frame)} records: step", _STEPS, progress=progress)
    out = frame.copy()
    for column in ADDRESS_COLUMNS:
        if column not in out.columns:
            out[column] = None
    ids = out["record_id"] if "record_id" in out.columns else pd.Series(out.index)
    findings = _Findings(ids.reset_index(drop=True))
    given = _given(out)
    result = _Result(len(out))
    # country per record: Belgian addresses are checked against BeST-Address, the rest against the BAG
    be = belgium.detect(given, out["country"] if "country" in out.columns else None, store)
    settled = postal.mark_postal(given, ~be, store, result, findings) | be
    todo = _mark_invalid(given, result, findings, settled)
    step(1)
    belgium.complete_be(given, np.flatnonzero(be), store, result, findings, given["number_text"],
                        out["house_number_addition"].reset_index(drop=True).astype(object))
    step(2)
    has_addresses = store is not None and getattr(store, "has_addresses", True)
    if not has_addresses:
        _no_reference(given, todo, store, result, findings)
    else:
        _verify(given, todo, store, result, findings)
    step(3)
    logger.info("address completion: %d records; %s", len(out),
                ", ".join(f"{k} {v}" for k, v in pd.Series(result.status).value_counts().items()))
    completed = result.apply(out), findings.frame()
    step(4)
    return completed


class _Result:
    """The new values per record position (``None`` = leave the column as typed)."""

    def __init__(self, n: int):
        self.status = np.full(n, None, dtype=object)
        self.values = {c: np.full(n, None, dtype=object) for c in ADDRESS_COLUMNS + NEW_COLUMNS[:3]}
        self.set_mask = {c: np.zeros(n, dtype=bool) for c in ADDRESS_COLUMNS}

    def set(self, column: str, pos: np.ndarray, values) -> None:
        self.values[column][pos] = _as_array(values, len(pos))
        if column in self.set_mask:
            self.set_mask[column][pos] = True

    def apply(self, out: pd.DataFrame) -> pd.DataFrame:
        for column in ADDRESS_COLUMNS:
            mask = self.set_mask[column]
            before = out[column].to_numpy(dtype=object).copy()
            after = before.copy()
            after[mask] = self.values[column][mask]
            if column == "postcode":
                after = _display_postcodes(after)
            changed = mask & (_comparable(before) != _comparable(after))
            out[column] = after
            if changed.any():
                out[ORIG_PREFIX + column] = np.where(changed, before, None)
        for column in NEW_COLUMNS[:3]:
            out[column] = self.values[column]
        out["bag_address_id"] = self.values["bag_address_id"]
        out["address_status"] = self.status
        return out


def _display_postcodes(values: np.ndarray) -> np.ndarray:
    """Valid postcodes in the product's canonical form ``1234 AB`` (what normalization writes too)."""
    text = pd.Series(values, dtype=object)
    spaced = text.str.replace(r"^([1-9]\d{3})\s?([A-Z]{2})$", r"\1 \2", regex=True)
    return spaced.where(text.notna(), None).to_numpy(dtype=object)


def _comparable(values: np.ndarray) -> np.ndarray:
    """Values as text with missing as '' (so None, NaN and '' count as the same "nothing")."""
    return np.where(pd.isna(values), "", values.astype(str))


def _mark_invalid(given: pd.DataFrame, result: _Result, findings: _Findings, settled: np.ndarray) -> np.ndarray:
    """Flag malformed or too incomplete addresses as ``invalid``; return the mask of rows still to do
    (``settled`` rows, e.g. Postbus addresses, are left alone)."""
    has_pc = given["pc"].notna().to_numpy() & ~settled
    bad_pc = has_pc & ~given["pc_ok"].to_numpy()
    has_number = given["number"].notna().to_numpy()
    bad_number = given["number_text"].notna().to_numpy() & ~has_number & ~settled
    searchable = ~has_pc & has_number & given["street"].notna().to_numpy() & given["city"].notna().to_numpy()
    incomplete = ~bad_pc & ~bad_number & ~(has_pc & has_number) & ~searchable & ~settled
    rule = "address_syntax"
    findings.add(np.flatnonzero(bad_pc), rule, "postcode", given["pc"][bad_pc], "error",
                 "ADDRESS_INVALID_POSTCODE", "postcode is not 4 digits + 2 letters (not SA/SD/SS)")
    findings.add(np.flatnonzero(bad_number), rule, "house_number", given["number_text"][bad_number], "error",
                 "ADDRESS_INVALID_HOUSE_NUMBER", "house number is not 1-5 digits")
    findings.add(np.flatnonzero(incomplete), rule, "postcode", None, "warning", "ADDRESS_INCOMPLETE",
                 "needs postcode + house number, or street + house number + city")
    invalid = (bad_pc | bad_number | incomplete) & ~settled
    result.status[invalid] = "invalid"
    return ~invalid & ~settled


def _no_reference(given, todo, store, result: _Result, findings: _Findings) -> None:
    """No street-level register: status ``no_reference``; PC4 plausibility where a PC4 table is loaded."""
    result.status[todo] = "no_reference"
    table = store.pc4_table() if store is not None else pd.DataFrame()
    rows = np.flatnonzero(todo & given["pc"].notna().to_numpy())
    result.set("postcode", rows, given["pc"].to_numpy()[rows])
    if table.empty or len(rows) == 0:
        return
    sub = given.iloc[rows]
    check = pc4_module.plausibility(sub["pc"].str[:4].astype(int).reset_index(drop=True),
                                    sub["city"].reset_index(drop=True), table)
    bad = ~check["plausible"].to_numpy()
    findings.add(rows[bad], "pc4_plausibility", "city", sub["city"].to_numpy()[bad], "warning",
                 "POSTCODE_CITY_MISMATCH", "city is not a place or municipality of this PC4 area")
    result.set("municipality", rows, check["municipality"].to_numpy())
    result.set("province", rows, check["province"].to_numpy())


def _verify(given: pd.DataFrame, todo: np.ndarray, store, result: _Result, findings: _Findings) -> None:
    """Look up, resolve, compare and fill every record still to do."""
    pc_code = np.full(len(given), -1, dtype=np.int64)
    has_pc = todo & given["pc"].notna().to_numpy()
    pc_code[has_pc] = encode_postcodes(given["pc"][has_pc])
    found_mask = np.zeros(len(given), dtype=bool)
    search = np.flatnonzero(todo & ~has_pc)
    if len(search):
        # An online provider searches in its own way; the local store uses cdq.address.find.
        finder = getattr(store, "find_postcodes", None)
        found = finder(given.iloc[search]) if finder else find_postcodes(store, given.iloc[search])
        ok = found["pc_code"].to_numpy() >= 0
        pc_code[search[ok]] = found["pc_code"].to_numpy()[ok]
        found_mask[search[ok]] = True
        findings.add(search[ok], "bag_lookup", "postcode", None, "info", "ADDRESS_POSTCODE_FOUND",
                     "postcode found from street + house number + city")
        for status, reason in (("not_found", "ADDRESS_NOT_FOUND"), ("ambiguous", "ADDRESS_AMBIGUOUS")):
            rows = search[found["status"].to_numpy() == status]
            result.status[rows] = status
            findings.add(rows, "bag_lookup", "street", given["street"].to_numpy()[rows], "warning", reason,
                         f"postcode search by street + house number + city: {status.replace('_', ' ')}")
    pos = np.flatnonzero(pc_code >= 0)
    numbers = given["number"].to_numpy(dtype=object)[pos].astype(np.int64)
    candidates = store.lookup(pc_code[pos], numbers)
    records = pd.DataFrame({"pos": pos, "pc_code": pc_code[pos], "number": numbers,
                            "letter": given["letter"].to_numpy()[pos], "addition": given["addition"].to_numpy()[pos]})
    usable = candidates["usable"].to_numpy(dtype=bool) if "usable" in candidates.columns else None
    if usable is not None and not usable.all():
        withdrawn, candidates = candidates[~usable].reset_index(drop=True), candidates[usable].reset_index(drop=True)
    else:
        withdrawn = None
    matched = resolve(records, candidates)
    _not_found(matched, pc_code, store, result, findings)
    _apply_matches(given, matched, candidates, found_mask, result, findings)
    if withdrawn is not None:
        _withdrawn(records, matched, withdrawn, result, findings)
    _ranges(given, matched, result, findings)


def _withdrawn(records: pd.DataFrame, matched: pd.DataFrame, withdrawn: pd.DataFrame, result: _Result,
               findings: _Findings) -> None:
    """Records the usable register did not settle but a withdrawn address matches: ``withdrawn``, no id."""
    open_kinds = matched.index.to_numpy()[np.isin(matched["kind"].to_numpy(), ["not_found", "addition_not_found"])]
    rec = records[records["pos"].isin(open_kinds)]
    if rec.empty:
        return
    again = resolve(rec, withdrawn)
    hit = again[np.isin(again["kind"].to_numpy(), ["exact", "suffix", "notation", "single"])]
    pos = hit.index.to_numpy()
    if len(pos) == 0:
        return
    result.status[pos] = "withdrawn"
    for column in ("house_number", "bag_address_id"):
        result.values[column][pos] = None
    status = withdrawn["register_status"].to_numpy(dtype=object)[hit["cidx"].to_numpy()]
    findings.add(pos, "bag_lookup", "house_number", None, "warning", "ADDRESS_WITHDRAWN",
                 [f"the register lists this address as withdrawn ({s})" for s in status])


def _ranges(given: pd.DataFrame, matched: pd.DataFrame, result: _Result, findings: _Findings) -> None:
    """A typed number range ("150-152", "112 t/m 113") is several addresses: ``range``, nothing completed,
    unless the register holds exactly that text as number + addition."""
    ranged = given["range"].notna().to_numpy()
    if not ranged.any():
        return
    exact = np.zeros(len(given), dtype=bool)
    exact[matched.index.to_numpy()[matched["kind"].to_numpy() == "exact"]] = True
    pos = np.flatnonzero(ranged & ~exact & (result.status != None))  # noqa: E711 - elementwise
    pos = pos[np.isin(result.status[pos], ["verified", "completed", "corrected", "ambiguous", "not_found",
                                            "addition_not_found"])]
    if len(pos) == 0:
        return
    result.status[pos] = "range"
    for column in ("house_number", "house_letter", "house_number_addition", "bag_address_id"):
        result.set_mask.get(column, np.zeros(len(given), dtype=bool))[pos] = False
        result.values[column][pos] = None
    findings.add(pos, "address_syntax", "house_number", given["number_text"].to_numpy()[pos], "warning",
                 "ADDRESS_NUMBER_RANGE",
                 [f"a range of house numbers ({r}) is several addresses, not one" for r in given["range"].to_numpy()[pos]])


def _not_found(matched: pd.DataFrame, pc_code: np.ndarray, store, result: _Result, findings: _Findings) -> None:
    """Numbers with no register address under their postcode: ``not_found``, never a neighbour."""
    pos = matched.index.to_numpy()[matched["kind"].to_numpy() == "not_found"]
    if len(pos) == 0:
        return
    result.status[pos] = "not_found"
    known = np.isin(pc_code[pos], list(store.existing_postcodes(pc_code[pos])))
    findings.add(pos[known], "bag_lookup", "house_number", None, "error", "ADDRESS_NOT_FOUND",
                 "this house number does not exist under this postcode in the register")
    findings.add(pos[~known], "bag_lookup", "postcode", None, "error", "ADDRESS_NOT_FOUND",
                 "this postcode has no addresses in the register")


def _compare_column(typed: np.ndarray, register: np.ndarray, key, also: np.ndarray | None = None) -> np.ndarray:
    """Comparison outcome per record, computed once per distinct (typed, register[, also]) triple."""
    outcome = np.full(len(typed), "verified", dtype=object)
    empty = pd.isna(typed)
    outcome[empty] = "completed"
    rest = np.flatnonzero(~empty & (typed != register))
    also = also if also is not None else np.full(len(typed), None, dtype=object)
    triples = list(zip(typed[rest], register[rest], also[rest]))
    cache = {t: compare(t[0], t[1], key=key, also=t[2]) for t in set(triples)}
    outcome[rest] = [cache[t] for t in triples]
    return outcome


def _outcome_findings(findings: _Findings, column: str, pos: np.ndarray, outcome: np.ndarray,
                      typed: np.ndarray, register: np.ndarray) -> None:
    """One finding per changed (or mismatching) street/city value."""
    name = column.upper()
    for kind, (suffix, severity) in _OUTCOME_FINDING.items():
        sel = outcome == kind
        findings.add(pos[sel], "bag_lookup", column, typed[sel], severity, f"ADDRESS_{name}_{suffix}",
                     pd.Series(register[sel], dtype=object).map(lambda v: f"register: {v}").to_numpy())
    sel = outcome == "mismatch"
    reason = "ADDRESS_STREET_MISMATCH" if column == "street" else "POSTCODE_CITY_MISMATCH"
    findings.add(pos[sel], "bag_lookup", column, typed[sel], "warning", reason,
                 pd.Series(register[sel], dtype=object).map(lambda v: f"register has {v} here; kept as typed"
                                                            ).to_numpy())


def _addition_findings(findings: _Findings, pos: np.ndarray, kind: np.ndarray, reg: pd.DataFrame,
                       variants: np.ndarray) -> None:
    """Findings about the letter/addition: corrected ("12 II" -> "12-2"), completed, unknown, ambiguous."""
    label = (reg["number"].astype(str) + reg["letter"].fillna("") +
             ("-" + reg["addition"].fillna("")).where(reg["addition"].notna(), "")).to_numpy()
    rule = "bag_lookup"
    for k, severity, reason, detail in (
        ("suffix", "info", "ADDRESS_ADDITION_CORRECTED", "register: "),
        ("single", "info", "ADDRESS_ADDITION_COMPLETED", "register: "),
        ("notation", "info", "ADDRESS_ADDITION_CORRECTED", "register: "),
    ):
        sel = kind == k
        findings.add(pos[sel], rule, "house_number_addition", None, severity, reason,
                     [detail + v for v in label[sel]])
    sel = kind == "addition_not_found"
    findings.add(pos[sel], rule, "house_number_addition", None, "warning", "ADDRESS_ADDITION_NOT_FOUND",
                 ["the register does not hold this letter/addition at this number"] * int(sel.sum()))
    sel = kind == "ambiguous"
    findings.add(pos[sel], rule, "house_number_addition", None, "warning", "ADDRESS_AMBIGUOUS",
                 [f"{n} register addresses under this number; give the letter or addition" for n in variants[sel]])


def _apply_matches(given, matched: pd.DataFrame, cand: pd.DataFrame, found_mask: np.ndarray, result: _Result,
                   findings: _Findings) -> None:
    """Turn resolved matches into values, statuses and findings."""
    all_kind = matched["kind"].to_numpy()
    amb_pos = matched.index.to_numpy()[(all_kind == "ambiguous") & (matched["cidx"].to_numpy() < 0)]
    result.status[amb_pos] = "ambiguous"
    findings.add(amb_pos, "bag_lookup", "house_number_addition", None, "warning", "ADDRESS_AMBIGUOUS",
                 "several register addresses with different streets under this number")
    has = matched["cidx"].to_numpy() >= 0
    pos, kind, cidx = matched.index.to_numpy()[has], all_kind[has], matched["cidx"].to_numpy()[has]
    reg = cand.iloc[cidx].reset_index(drop=True)
    conflict = reg["conflict"].to_numpy(dtype=bool) if "conflict" in reg.columns else np.zeros(len(reg), bool)
    street = _compare_column(given["street"].to_numpy()[pos], reg["street"].to_numpy(), street_key)
    city = _compare_column(given["city"].to_numpy()[pos], reg["city"].to_numpy(), city_key,
                           reg["municipality"].to_numpy())
    mismatch = (street == "mismatch") | (city == "mismatch")
    sure = ~mismatch & np.isin(kind, _SURE) & ~conflict
    for column, outcome in (("street", street), ("city", city)):
        values = reg[column].to_numpy()
        fill = (outcome != "mismatch") & (outcome != "verified")
        result.set(column, pos[fill], values[fill])
        _outcome_findings(findings, column, pos, outcome, given[column].to_numpy()[pos], values)
    result.set("municipality", pos, reg["municipality"].to_numpy())
    result.set("province", pos, reg["province"].to_numpy())
    result.set("postcode", pos[sure], reg["postcode"].to_numpy()[sure])
    result.set("house_number", pos[sure], reg["number"].astype(str).to_numpy()[sure])
    fixed = sure
    result.set("house_letter", pos[fixed], reg["letter"].to_numpy()[fixed])
    result.set("house_number_addition", pos[fixed], reg["addition"].to_numpy()[fixed])
    result.set("bag_address_id", pos[sure], reg["bag_id"].to_numpy()[sure])
    _addition_findings(findings, pos, kind, reg, matched["variants"].to_numpy()[has])
    corrected = (street == "corrected") | (city == "corrected") | np.isin(kind, ["suffix", "notation"])
    completed = (street == "completed") | (city == "completed") | (kind == "single") | found_mask[pos]
    status = np.where(corrected, "corrected", np.where(completed, "completed", "verified"))
    status = np.where(kind == "addition_not_found", "addition_not_found", status)
    result.status[pos] = np.where(mismatch | (kind == "ambiguous") | conflict, "ambiguous", status)
    findings.add(pos[conflict], "bag_lookup", "house_number", None, "warning", "ADDRESS_REGISTER_DUPLICATE",
                 "the register lists this address twice with different streets, places or ids")
    lone = matched.index.to_numpy()[(all_kind == "addition_not_found") & (matched["cidx"].to_numpy() < 0)]
    result.status[lone] = "addition_not_found"
    findings.add(lone, "bag_lookup", "house_number_addition", None, "warning", "ADDRESS_ADDITION_NOT_FOUND",
                 "the register does not hold this letter/addition at this number")
