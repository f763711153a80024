"""Low-level workbook readers: each yields sheets as grids of raw Python cell values plus merged ranges.

A :class:`Sheet` holds ``(row number, [values])`` for every non-blank row, where the row number is the
1-based row a person sees in the spreadsheet, and ``merged`` holds 1-based inclusive
``(first row, last row, first column, last column)`` ranges. Values are still typed (int, float,
datetime, bool, str); :mod:`cdq.importers.excel` turns them into text once it knows each column's role.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import unescape

from cdq.errors import InputError

_FORMULA = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*)?>(.*?)</(?:\w+:)?f>", re.S)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


@dataclass
class Sheet:
    """One worksheet's non-blank rows (with their spreadsheet row numbers) and merged ranges."""

    name: str
    rows: list[tuple[int, list[object]]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value != value  # NaN


def _trimmed(values: list[object]) -> list[object]:
    end = len(values)
    while end and _blank(values[end - 1]):
        end -= 1
    return list(values[:end])


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def read_xlsx(path: Path, wanted: str | None) -> Iterator[Sheet]:
    """Sheets of an .xlsx/.xlsm via openpyxl in read-only mode.

    Formula cells give their cached value; a formula without one (a workbook written by a program, never
    recalculated by Excel) gives its formula text, ``=HYPERLINK(...)``, rather than an empty cell.
    """
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style" and friends: harmless for reading values
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        raise InputError(
            path,
            f"the workbook is damaged or truncated ({type(e).__name__})",
            hint="open it in Excel and save it again",
        ) from e
    try:
        for ws in book.worksheets:
            if wanted is not None and ws.title != wanted:
                continue
            if getattr(ws, "reset_dimensions", None):
                ws.reset_dimensions()  # Gnumeric writes A1:XFD1048576; trust the cells, not the claim
            xml = _sheet_xml(ws)
            formulas = _uncached_formulas(xml)
            rows = []
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                values = list(values)
                for column, text in formulas.get(number, ()):
                    values.extend([None] * (column - len(values)))
                    if _blank(values[column - 1]):
                        values[column - 1] = text
                values = _trimmed(values)
                if values and not all(_blank(v) for v in values):
                    rows.append((number, values))
            yield Sheet(ws.title, rows, _xlsx_merged(xml))
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, OSError) as e:
        raise InputError(
            path,
            f"the workbook is damaged or truncated ({type(e).__name__}: {e})",
            hint="open it in Excel and save it again",
        ) from e
    finally:
        book.close()


def _sheet_xml(ws) -> bytes:
    """The worksheet's XML (read once for merged ranges and formulas; read-only sheets parse neither)."""
    source = ws._get_source()
    try:
        return source.read()
    finally:
        source.close()


def _uncached_formulas(data: bytes) -> dict[int, list[tuple[int, str]]]:
    """``row -> [(column, '=FORMULA')]`` for formula cells that have no cached value.

    A workbook without formulas costs one ``find``; shared formulas without text are left out.

    Examples:
        >>> xml = b'<c r="R40"><f>HYPERLINK("x","&amp;")</f><v /></c><c r="A1"><f>1+1</f><v>2</v></c>'
        >>> _uncached_formulas(xml)
        {40: [(18, '=HYPERLINK("x","&")')]}
    """
    found: dict[int, list[tuple[int, str]]] = {}
    if b"<f" not in data and b":f" not in data:
        return found
    for m in _FORMULA.finditer(data):
        start = max(data.rfind(b"<c ", 0, m.start()), data.rfind(b":c ", 0, m.start()))
        end = data.find(b"</", m.end())
        cell_end = data.find(b"c>", end)
        if start < 0 or end < 0:
            continue
        ref = _CELL_REF.search(data, start, m.start())
        text = m.group(1)
        if ref is None or not text:
            continue
        value = _VALUE.search(data[m.end() : cell_end])
        if value and value.group(1).strip():
            continue  # Excel cached a value: openpyxl already gave it
        formula = unescape(text.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})
        found.setdefault(int(ref.group(2)), []).append((_column_number(ref.group(1)), "=" + formula))
    return found


def _xlsx_merged(data: bytes) -> list[tuple[int, int, int, int]]:
    """Merged ranges from the sheet XML."""
    ranges = []
    for c1, r1, c2, r2 in _MERGE.findall(data):
        ranges.append((int(r1), int(r2 or r1), _column_number(c1), _column_number(c2 or c1)))
    return ranges


def read_xls(path: Path, wanted: str | None) -> Iterator[Sheet]:
    """Sheets of a BIFF .xls via xlrd; dates are converted with the book's own datemode (1900 or 1904)."""
    import xlrd

    try:
        try:
            book = xlrd.open_workbook(path, formatting_info=True, on_demand=True)
        except NotImplementedError:  # BIFF versions without formatting records
            book = xlrd.open_workbook(path, on_demand=True)
    except xlrd.XLRDError as e:
        if "encrypt" in str(e).lower():
            raise InputError(
                path,
                "the workbook is password-protected (encrypted)",
                hint="remove the password in Excel (File > Info > Protect Workbook) and save again",
            ) from e
        raise InputError(
            path, f"not a readable .xls workbook ({e})", hint="open it in Excel and save it as .xlsx"
        ) from e
    except (
        xlrd.compdoc.CompDocError,
        EOFError,
        IndexError,
        ValueError,
        KeyError,
        AssertionError,
        OSError,
    ) as e:
        raise InputError(
            path,
            f"the workbook is damaged or truncated ({type(e).__name__})",
            hint="open it in Excel and save it again",
        ) from e
    try:
        for name in book.sheet_names():
            if wanted is not None and name != wanted:
                continue
            sheet = book.sheet_by_name(name)
            yield Sheet(
                name,
                _xls_rows(sheet, book.datemode),
                [(r0 + 1, r1, c0 + 1, c1) for r0, r1, c0, c1 in sheet.merged_cells],
            )
    finally:
        book.release_resources()


def _xls_rows(sheet, datemode: int) -> list[tuple[int, list[object]]]:
    import xlrd

    rows = []
    for r in range(sheet.nrows):
        values = []
        for cell in sheet.row(r):
            if cell.ctype == xlrd.XL_CELL_DATE:
                values.append(_xls_date(cell.value, datemode))
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                values.append(bool(cell.value))
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                values.append(xlrd.error_text_from_code.get(cell.value, "#ERROR"))
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                values.append(None)
            else:
                values.append(cell.value)
        values = _trimmed(values)
        if values and not all(_blank(v) for v in values):
            rows.append((r + 1, values))
    return rows


def _xls_date(value: float, datemode: int) -> object:
    import xlrd

    try:
        if 0 <= value < 1:  # a time of day without a date
            return (dt.datetime(1900, 1, 1) + dt.timedelta(days=value)).time().replace(microsecond=0)
        return xlrd.xldate.xldate_as_datetime(value, datemode)
    except (xlrd.xldate.XLDateError, OverflowError, ValueError):
        return value


def read_ods(path: Path, wanted: str | None) -> Iterator[Sheet]:
    """Sheets of an OpenDocument spreadsheet via pandas' odf engine (repeated rows/columns expanded)."""
    import pandas as pd

    try:
        frames = pd.read_excel(
            path, sheet_name=wanted if wanted is not None else None, header=None, dtype=object, engine="odf"
        )
    except ValueError as e:
        if wanted is not None and "not found" in str(e).lower():
            raise InputError(path, f"there is no sheet {wanted!r}") from e
        raise InputError(
            path, f"not a readable .ods spreadsheet ({e})", hint="open it and save it again"
        ) from e
    except (zipfile.BadZipFile, KeyError, OSError, AttributeError, IndexError, TypeError) as e:
        raise InputError(
            path,
            f"the spreadsheet is damaged or truncated ({type(e).__name__})",
            hint="open it and save it again",
        ) from e
    except Exception as e:  # noqa: BLE001 - odfpy raises bare XML errors (ExpatError, SAXParseException)
        raise InputError(
            path, f"the spreadsheet is damaged ({type(e).__name__})", hint="open it and save it again"
        ) from e
    if not isinstance(frames, dict):
        frames = {wanted: frames}
    for name, frame in frames.items():
        rows = []
        for number, values in enumerate(frame.itertuples(index=False, name=None), start=1):
            values = _trimmed([_from_pandas(v) for v in values])
            if values and not all(_blank(v) for v in values):
                rows.append((number, values))
        yield Sheet(str(name), rows)


def _from_pandas(value: object) -> object:
    import pandas as pd

    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if value is pd.NaT:
        return None
    return value
