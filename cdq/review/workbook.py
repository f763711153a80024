"""The steward's review workbook: one row per uncertain pair, the two records side by side.

Sheet ``review``: ``pair``, ``decision`` (a drop-down: match / no match), ``note``, the match probability
and weight, the field-level explanation, then ``<field> A`` / ``<field> B`` for each record field (cells
that differ are highlighted), and the stable refs last (the key the decision is stored under).
Reading back is tolerant of how Excel or LibreOffice save the file (``.xlsx`` or ``.ods``, extra rows,
moved columns, case and spacing of the decision, Dutch yes/no words).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from cdq.errors import InputError
from cdq.export import FORMULA_START

logger = logging.getLogger(__name__)

SHEET = "review"
FIELDS = ["source", "title", "initials", "first_name", "infix", "last_name", "gender", "birth_date",
          "company_name", "street", "house_number", "house_letter", "house_number_addition", "postcode", "city",
          "country", "email", "phone", "mobile"]
HEAD = ["pair", "decision", "note", "match probability", "match weight", "explanation"]
TAIL = ["ref A", "ref B", "record A", "record B"]
#: A match a cannot-link rule (different gender, birth date, ...) refuses, unless the steward insists.
FORCE_WORDS = {"force match", "match anyway", "forced match", "toch match", "toch dezelfde"}
MATCH_WORDS = {"match", "yes", "y", "ja", "j", "same", "duplicate", "dubbel", "zelfde", "m"}
NO_MATCH_WORDS = {"no match", "nomatch", "no_match", "non_match", "non match", "non-match", "no-match", "no", "n",
                  "nee", "different", "geen match", "anders", "niet dezelfde"}
_DIFF_FILL = "FFF2CC"


def explanation(pairs: pd.DataFrame) -> pd.Series:
    """Per pair: ``field: level (weight)``, strongest first (a stored ``explanation`` column is used as it is)."""
    if "explanation" in pairs.columns:
        return pairs["explanation"].astype(object).where(pairs["explanation"].notna(), "")
    return _explain(pairs)


def _explain(pairs: pd.DataFrame) -> pd.Series:
    """Per pair: ``field: level (weight)`` for every comparison, strongest evidence first.

    Examples:
        >>> p = pd.DataFrame({"surname_level": ["exact"], "surname_weight": [6.5],
        ...                   "birth_date_level": ["different"], "birth_date_weight": [-8.0]})
        >>> _explain(p).tolist()
        ['birth_date: different (-8.0); surname: exact (+6.5)']
    """
    names = [c[: -len("_level")] for c in pairs.columns if c.endswith("_level") and f"{c[:-6]}_weight" in pairs]
    texts = []
    for _, row in pairs.iterrows():
        parts = [(abs(float(row[f"{n}_weight"])), f"{n}: {row[f'{n}_level']} ({float(row[f'{n}_weight']):+.1f})")
                 for n in names if pd.notna(row[f"{n}_weight"]) and str(row[f"{n}_level"]) != "missing"]
        texts.append("; ".join(text for _, text in sorted(parts, key=lambda p: -p[0])))
    return pd.Series(texts, index=pairs.index, dtype=object)


def review_rows(pairs: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """The review band as workbook rows (values as text), strongest pairs first."""
    from cdq.golden import record_refs

    band = pairs[pairs["decision"].astype(str).eq("review")].copy()
    for column in ("match_probability", "match_weight"):
        band[column] = pd.to_numeric(band.get(column), errors="coerce")
    band = band.sort_values("match_probability", ascending=False).reset_index(drop=True)
    refs = records["ref"] if "ref" in records.columns else record_refs(records)
    recs = records.assign(_ref=refs.to_numpy()).astype({"record_id": str}).set_index("record_id")
    fields = [f for f in FIELDS if f in recs.columns]
    left = recs.reindex(band["record_id_l"].astype(str))
    right = recs.reindex(band["record_id_r"].astype(str))
    out = pd.DataFrame({"pair": range(1, len(band) + 1), "decision": None, "note": None,
                        "match probability": band["match_probability"].round(4).to_numpy(),
                        "match weight": band["match_weight"].round(2).to_numpy(),
                        "explanation": explanation(band).to_numpy()})
    if "golden_id" in recs.columns:  # each record's current golden record (from the store)
        out["golden A"], out["golden B"] = _text(left["golden_id"]), _text(right["golden_id"])
    for field in fields:
        out[f"{field} A"] = _text(left[field])
        out[f"{field} B"] = _text(right[field])
    out["ref A"], out["ref B"] = left["_ref"].to_numpy(), right["_ref"].to_numpy()
    out["record A"], out["record B"] = band["record_id_l"].astype(str).to_numpy(), band["record_id_r"].astype(str).to_numpy()
    return out


def _text(values: pd.Series) -> list:
    return [None if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else str(v)
            for v in values.to_numpy(dtype=object)]


def write_workbook(rows: pd.DataFrame, path: str | Path) -> Path:
    """Write the review rows with highlighting, a decision drop-down and an instructions sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(rows.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows.itertuples(index=False):
        sheet.append(list(values))
    _mark(sheet, rows, PatternFill("solid", fgColor=_DIFF_FILL), Font(bold=True))
    column = rows.columns.get_loc("decision") + 1
    letter = sheet.cell(row=1, column=column).column_letter
    validation = DataValidation(type="list", formula1='"match,no match,force match"', allow_blank=True,
                                showErrorMessage=True, errorTitle="decision",
                                error="Choose match, no match or force match.")
    validation.add(f"{letter}2:{letter}{max(len(rows) + 1, 2)}")
    sheet.add_data_validation(validation)
    sheet.freeze_panes = sheet.cell(row=2, column=len(HEAD) + 1)
    for k, name in enumerate(rows.columns, start=1):
        width = 60 if name == "explanation" else 14 if name not in ("pair", "decision") else 11
        sheet.column_dimensions[sheet.cell(row=1, column=k).column_letter].width = width
    info = book.create_sheet("instructions")
    for text in ("For each row, choose a decision: 'match' (the two records are the same customer) or "
                 "'no match'. Leave it empty to decide later; undecided pairs come back in every run's workbook.",
                 "'golden A' / 'golden B' are the golden records the two records are in now.",
                 "A 'match' that a rule refuses (different gender, birth date, ...) is reported and not applied; "
                 "choose 'force match' to join them anyway. The note column is kept with the decision.",
                 "'no match' on two records of one golden record takes the newer record out into a golden record "
                 "of its own (kept apart in later runs); the other records stay.",
                 "Highlighted cells differ between record A and record B.",
                 "Save the file (xlsx or ods) and run: cdq review apply FILE --store URL",
                 "Decisions are remembered: a decided pair is never asked again and never overridden."):
        info.append([text])
    book.save(path)
    return path


def _mark(sheet, rows: pd.DataFrame, fill, font) -> None:
    """Highlight differing A/B cells; keep formula-like text (phones like +31...) as text."""
    columns = list(rows.columns)
    for name in columns:
        if not name.endswith(" A") or f"{name[:-2]} B" not in columns:
            continue
        a, b = columns.index(name) + 1, columns.index(f"{name[:-2]} B") + 1
        for i in range(2, len(rows) + 2):
            left, right = sheet.cell(row=i, column=a), sheet.cell(row=i, column=b)
            if _norm(left.value) != _norm(right.value):
                for cell in (left, right):
                    cell.fill, cell.font = fill, font
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type, cell.quotePrefix = "s", True


def _norm(value: object) -> str:
    return "" if value is None else " ".join(str(value).lower().split())


def read_decisions(path: str | Path) -> pd.DataFrame:
    """``ref_a, ref_b, decision`` (match / non_match) for every decided row; blank rows are skipped.

    An unreadable file or an unknown decision word raises InputError naming the file, row and column.
    """
    path = Path(path)
    table = _read_sheet(path)
    header_row, header = _find_header(path, table)
    body = table.iloc[header_row + 1:]
    body.columns = header
    decision = body["decision"].fillna("").astype(str).str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    decided = decision.ne("")
    known = MATCH_WORDS | NO_MATCH_WORDS | FORCE_WORDS
    problems = [f"row {i + 1}: {body.at[i, 'decision']!r}" for i in body.index[decided] if decision[i] not in known]
    if problems:
        raise InputError(path, "unknown decision(s) " + ", ".join(problems[:10]), column="decision",
                         hint="use 'match', 'no match' or 'force match' (or leave it empty)")
    missing_ref = decided & (body["ref a"].isna() | body["ref b"].isna())
    if missing_ref.any():
        raise InputError(path, "decided rows without their 'ref A'/'ref B' key", row=int(body.index[missing_ref][0]) + 1,
                         hint="do not delete the ref columns; export a fresh workbook with cdq review export")
    chosen = decision[decided].map(lambda d: "non_match" if d in NO_MATCH_WORDS else "match")
    note = body["note"] if "note" in body.columns else pd.Series(None, index=body.index)
    return pd.DataFrame({"ref_a": body.loc[decided, "ref a"].astype(str).str.strip().to_numpy(),
                         "ref_b": body.loc[decided, "ref b"].astype(str).str.strip().to_numpy(),
                         "decision": chosen.to_numpy(), "force": decision[decided].isin(FORCE_WORDS).to_numpy(),
                         "note": note[decided].where(note[decided].notna(), None).to_numpy(),
                         "row": (body.index[decided] + 1).to_numpy()})


def _read_sheet(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(path, "file not found", hint="give the review workbook (.xlsx or .ods)")
    engine = {".ods": "odf", ".xlsx": "openpyxl", ".xlsm": "openpyxl"}.get(path.suffix.lower())
    if engine is None:
        raise InputError(path, f"unsupported format {path.suffix!r}", hint="save the workbook as .xlsx or .ods")
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str, engine=engine)
    except Exception as e:  # noqa: BLE001 - any reader failure means the file is not a readable workbook
        raise InputError(path, f"cannot read the workbook: {type(e).__name__}") from e
    for name, frame in sheets.items():
        if str(name).strip().lower() == SHEET:
            return frame.reset_index(drop=True)
    return next(iter(sheets.values())).reset_index(drop=True)


def _find_header(path: Path, table: pd.DataFrame) -> tuple[int, list[str]]:
    for i in range(min(len(table), 20)):
        header = [" ".join(str(v).lower().split()) if pd.notna(v) else f"_{k}" for k, v in enumerate(table.iloc[i])]
        if {"decision", "ref a", "ref b"} <= set(header):
            return i, header
    raise InputError(path, "no header row with 'decision', 'ref A' and 'ref B'",
                     hint="export the workbook with cdq review export and keep its header row")
