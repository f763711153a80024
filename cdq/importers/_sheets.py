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

#: Excel's own limits; a workbook beyond them was not written by a spreadsheet program.
MAX_COLUMNS = 16_384
MAX_CELLS = 50_000_000
MAX_UNPACKED = 1024 * 2**20
MAX_RATIO = 200

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
            book = xlrd.open_workbook(path, formatting_info=True, on_demand=True, logfile=_QUIET)
        except NotImplementedError:  # BIFF versions without formatting records
            book = xlrd.open_workbook(path, on_demand=True, logfile=_QUIET)
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


class _Quiet:
    """xlrd writes warnings ("No CODEPAGE record") to stdout; the CLI's output is not the place."""

    def write(self, text: str) -> int:
        return len(text)


_QUIET = _Quiet()


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


def read_calamine(path: Path, wanted: str | None) -> Iterator[Sheet]:
    """Sheets via python-calamine (Rust): .xlsb, Strict Open XML .xlsx, .ods, and what openpyxl refuses.

    Calamine reads every cell into memory, so the caller checks the file's unpacked size first
    (:func:`check_zip`) and an .ods file's repeat counts (:func:`check_ods_repeats`).
    """
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        for name in book.sheet_names:
            if wanted is not None and name != wanted:
                continue
            sheet = book.get_sheet_by_name(name)
            cells = sheet.height * sheet.width
            if cells > MAX_CELLS:
                raise InputError(path, f"sheet {name!r} has {sheet.height} rows x {sheet.width} columns; cdq reads at "
                                 f"most {MAX_CELLS:,} cells per sheet", hint="split the workbook")
            start_row = (sheet.start or (0, 0))[0]
            grid = list(sheet.iter_rows())
            offset = 0 if len(grid) == start_row + sheet.height else start_row  # padded from row 1, or not
            rows: list[tuple[int, list[object]]] = []
            for i, cells_of_row in enumerate(grid):
                values = _trimmed([None if v == "" else v for v in cells_of_row])
                if values and not all(_blank(v) for v in values):
                    rows.append((offset + i + 1, values))
            merged = [(r0 + 1, r1 + 1, c0 + 1, c1 + 1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
            yield Sheet(name, rows, merged)
    finally:
        book.close()


def read_xlsb(path: Path, wanted: str | None) -> Iterator[Sheet]:
    """Sheets of an .xlsb: every cell from the record reader, with calamine's typed values (dates) laid over."""
    from cdq.importers._xlsb import xlsb_cells

    cells = xlsb_cells(path, MAX_COLUMNS, MAX_CELLS)
    typed: dict[str, Sheet] = {}
    try:
        typed = {s.name: s for s in read_calamine(path, wanted)}
    except Exception:  # noqa: BLE001 - the record reader's values stand on their own
        typed = {}
    for name, grid in cells.items():
        if wanted is not None and name != wanted:
            continue
        rows: dict[int, list[object]] = {}
        for (r, c), value in sorted(grid.items()):
            row = rows.setdefault(r + 1, [])
            row.extend([None] * (c + 1 - len(row)))
            row[c] = value
        sheet = typed.get(name)
        for number, values in (sheet.rows if sheet else []):
            row = rows.setdefault(number, [])
            row.extend([None] * (len(values) - len(row)))
            for c, value in enumerate(values):
                if not _blank(value):
                    row[c] = value
        yield Sheet(name, [(n, _trimmed(v)) for n, v in sorted(rows.items()) if not all(_blank(x) for x in v)],
                    sheet.merged if sheet else [])


def check_zip(path: Path) -> None:
    """Refuse zip bombs and XML entity tricks before any reader unpacks a workbook.

    Limits: :data:`MAX_UNPACKED` bytes unpacked in all; a part above 100 MB unpacked at a ratio above
    :data:`MAX_RATIO`; a ``<!DOCTYPE``/``<!ENTITY`` in any XML part (Office files never declare entities).
    """
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_UNPACKED:
                raise InputError(path, f"the workbook unpacks to {total / 2**20:,.0f} MB; cdq reads at most "
                                 f"{MAX_UNPACKED / 2**20:,.0f} MB", hint="split the workbook or export it as CSV")
            for info in infos:
                if info.file_size > 100 * 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    raise InputError(path, f"part {info.filename} unpacks {info.file_size / max(info.compress_size, 1):,.0f}"
                                     f" times its packed size (a zip bomb); cdq refuses more than {MAX_RATIO}x",
                                     hint="this is not a workbook a spreadsheet program wrote")
                if info.filename.endswith((".xml", ".rels")) and info.file_size:
                    with z.open(info) as part:
                        head = part.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise InputError(path, f"part {info.filename} declares XML entities (an 'XML bomb' such as "
                                         "billion laughs); spreadsheet programs never write that, so cdq refuses it")
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError, NotImplementedError) as e:
        raise InputError(path, f"the workbook is damaged or truncated (the zip archive cannot be read: "
                         f"{type(e).__name__})", hint="open it in Excel and save it again") from e


def check_ods_repeats(path: Path) -> None:
    """An .ods sheet may say "this cell 20,000,000 times": refuse repeats of filled cells beyond the limits.

    One streaming pass over ``content.xml`` (linear): filled cells expanded must stay within
    :data:`MAX_COLUMNS` columns per row and :data:`MAX_CELLS` cells per file; empty repeats (LibreOffice
    writes ``number-rows-repeated="1048553"`` for the unused rest of a sheet) cost nothing.
    """
    from xml.etree.ElementTree import iterparse

    table = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
    office = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
    cells = 0
    with zipfile.ZipFile(path) as z, z.open("content.xml") as content:
        row_repeat, column = 1, 0
        for event, element in iterparse(content, events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == table + "table-row":
                    row_repeat, column = int(element.get(table + "number-rows-repeated", "1")), 0
                continue
            if tag in (table + "table-cell", table + "covered-table-cell"):
                repeat = int(element.get(table + "number-columns-repeated", "1"))
                filled = element.get(office + "value-type") is not None or len(element)
                column += repeat
                if filled:
                    if column > MAX_COLUMNS:
                        raise InputError(path, f"a row has filled cells beyond column {MAX_COLUMNS} (a cell repeated "
                                         f"{repeat:,} times); cdq reads at most {MAX_COLUMNS} columns, as Excel does")
                    cells += repeat * row_repeat
                    if cells > MAX_CELLS:
                        raise InputError(path, f"the sheet repeats filled cells to more than {MAX_CELLS:,} cells "
                                         f"(a row repeated {row_repeat:,} times); cdq reads at most {MAX_CELLS:,}",
                                         hint="split the spreadsheet")
                element.clear()
            elif tag == table + "table-row":
                element.clear()


def read_ods(path: Path, wanted: str | None) -> Iterator[Sheet]:
    """Sheets of an OpenDocument spreadsheet via python-calamine, after the repeat check."""
    check_ods_repeats(path)
    yield from read_calamine(path, wanted)
