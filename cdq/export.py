"""Write frames to CSV, Excel or Parquet, safely.

Spreadsheet programs execute cells that start with ``=``, ``+``, ``-`` or ``@`` as formulas ("CSV
injection"), so every text cell that starts with one of them is neutralised with a leading apostrophe
in CSV, and stored as quoted text (Excel's own quote prefix) in ``.xlsx``. A plain signed number such as
an E.164 phone number (``+31612345678``) or ``-12,5`` cannot carry a formula and is written as it is, so
canonical columns stay canonical. Parquet is not opened by spreadsheets and keeps values as they are.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from cdq.errors import UsageError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]\d+(?:[.,]\d+)?$")


def neutralise(value: object) -> object:
    """Prefix an apostrophe to text that a spreadsheet would run as a formula.

    Examples:
        >>> neutralise("=HYPERLINK(\\"http://x\\")")
        '\\'=HYPERLINK("http://x")'
        >>> neutralise("+31612345678")
        '+31612345678'
        >>> neutralise("+31 6 1234 5678")
        "'+31 6 1234 5678"
        >>> neutralise("@SUM(A1)")
        "'@SUM(A1)"
        >>> neutralise("Jansen")
        'Jansen'
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every formula-like text cell (and header) neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


#: Characters an .xlsx cell cannot hold (openpyxl raises on them) and its length limit.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
XLSX_CELL_LIMIT = 32_767


def safe_sheet(sheet) -> None:
    """Make every text cell of an openpyxl worksheet safe: text, never a formula; valid; short enough.

    Import already cleans input (:mod:`cdq.hygiene`); this is the last line for values that came
    another way (a store written by an older version, a steward's note). Use it on every sheet written,
    hidden ones too.
    """
    for row in sheet.iter_rows():
        for cell in row:
            safe_cell(cell)


def safe_cell(cell) -> None:
    """One openpyxl cell made safe as :func:`safe_sheet` does (for a writer that visits every cell anyway)."""
    value = cell.value
    if not isinstance(value, str):
        return
    if _XLSX_ILLEGAL.search(value) or len(value) > XLSX_CELL_LIMIT:
        value = _XLSX_ILLEGAL.sub(" ", value)[:XLSX_CELL_LIMIT]
        cell.value = value
    if value.startswith(FORMULA_START):  # text, never a formula
        cell.data_type = "s"
        cell.quotePrefix = True


def _for_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].map(lambda v: isinstance(v, (list, tuple))).any():
            out[column] = out[column].map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    return out


def write_table(frame: pd.DataFrame, path: str | Path, *, sheet_name: str = "data") -> Path:
    """Write ``frame`` to ``path``; the format follows the extension (.csv, .xlsx, .parquet)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        neutralise_frame(_for_text(frame)).to_csv(path, index=False, encoding="utf-8")
    elif suffix == ".xlsx":
        _write_xlsx(_for_text(frame), path, sheet_name)
    elif suffix == ".parquet":
        _for_text(frame).astype({c: "string" for c in frame.columns if frame[c].dtype == object}).to_parquet(
            path, index=False
        )
    else:
        raise UsageError(f"{path}: unsupported output format {suffix!r}; use .csv, .xlsx or .parquet")
    return path


def xlsx_text(value: object) -> object:
    """A value openpyxl accepts in a cell (its append raises on control characters)."""
    if isinstance(value, str) and (_XLSX_ILLEGAL.search(value) or len(value) > XLSX_CELL_LIMIT):
        return _XLSX_ILLEGAL.sub(" ", value)[:XLSX_CELL_LIMIT]
    return value


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet_name: str) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name[:31]
    sheet.append([xlsx_text(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([None if v is None or (isinstance(v, float) and pd.isna(v)) else xlsx_text(v) for v in row])
    safe_sheet(sheet)
    sheet.freeze_panes = "A2"
    workbook.save(path)
