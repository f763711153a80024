"""Spreadsheets (.xlsx/.xlsm, .xls, .ods) into one :class:`RawTable` per non-empty sheet.

The header row is found even below notes and titles (the first row within the first 30 that is mostly
text and is followed by data; ``header_row=`` overrides). Merged header cells give their text to every
column they span. Every cell becomes text as Excel shows it: ``612345678.0`` becomes ``612345678``,
dates become ISO ``YYYY-MM-DD`` (the 1904 date system of old Mac workbooks included). A phone column
that Excel turned into a number gets its leading zero back where that is certain (``612345678`` ->
``0612345678``). Blank rows are skipped and not counted; row numbers are those Excel shows.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path

from cdq.errors import InputError
from cdq.importers._sheets import Sheet, check_zip, read_calamine, read_ods, read_xls, read_xlsb, read_xlsx
from cdq.importers._tabular import generated_headers, looks_like_data, text_frame, unique_headers
from cdq.importers.base import RawTable

logger = logging.getLogger(__name__)

HEADER_SCAN_ROWS = 30
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
#: BOF record ids of BIFF2, BIFF3, BIFF4 and BIFF5 streams (the first two bytes of a pre-OLE .xls).
_BIFF_BOF = {b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08"}
_PHONE_TARGETS = {"phone", "mobile", "other_phones"}


def read_excel(
    path: str | Path, *, sheet: str | None = None, header_row: int | None = None, **_
) -> list[RawTable]:
    """Read every non-empty sheet of a workbook (or only ``sheet``) as text.

    Args:
        path: an .xlsx, .xlsm, .xls or .ods file (the format is taken from the bytes, not the name).
        sheet: read only this sheet.
        header_row: the 1-based row holding the headers (default: detected per sheet).

    Raises:
        InputError: empty, truncated, encrypted or not a workbook; or ``sheet`` does not exist.
    """
    path = Path(path)
    reader = _reader_for(path)
    tables = []
    found = False
    for ws in _guarded(path, reader, sheet):
        found = True
        if ws.rows:
            tables.append(_sheet_table(path, ws, header_row))
    if sheet is not None and not found:
        raise InputError(
            path, f"there is no sheet {sheet!r}", hint="check the name with --sheet, or leave it out"
        )
    if not tables:
        raise InputError(path, "the workbook has no data (every sheet is empty)")
    return tables


def _guarded(path: Path, reader, sheet: str | None) -> list[Sheet]:
    """The reader's sheets; whatever a reading library raises becomes a clear InputError (no library text).

    openpyxl is tried first for .xlsx (it keeps formula text); when it fails, python-calamine gets the file.
    """
    try:
        return list(reader(path, sheet))
    except InputError as error:
        if reader is not read_xlsx or "no sheet" in error.problem or "declares XML" in error.problem:
            raise
        first: Exception = error
    except MemoryError as e:
        raise InputError(path, "the workbook is too large to read in memory", hint="export it as CSV") from e
    except Exception as e:  # noqa: BLE001 - library internals (AssertionError, KeyError...) are no message
        logger.debug("%s: %s failed: %r", path, getattr(reader, "__name__", reader), e)
        if reader is not read_xlsx:
            raise InputError(path, _unreadable(path), hint="open it in Excel or LibreOffice and save it as .xlsx") from e
        first = e
    logger.info("%s: openpyxl could not read it (%s); trying python-calamine", path, type(first).__name__)
    try:
        return list(read_calamine(path, sheet))
    except InputError:
        raise
    except MemoryError as e:
        raise InputError(path, "the workbook is too large to read in memory", hint="export it as CSV") from e
    except Exception as e:  # noqa: BLE001
        logger.debug("%s: calamine failed: %r", path, e)
        raise InputError(path, _unreadable(path), hint="open it in Excel or LibreOffice and save it again") from e


def _unreadable(path: Path) -> str:
    return "the workbook is damaged or uses a structure cdq's spreadsheet readers cannot read"


def _zip_kind(path: Path) -> str:
    """``xlsx``, ``xlsx-strict``, ``xlsb``, ``ods``, ``ods-encrypted``, or a refusal for other archives."""
    import zipfile

    check_zip(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "xl/workbook.bin" in names:
                return "xlsb"
            if "xl/workbook.xml" in names:
                with z.open("xl/workbook.xml") as f:
                    head = f.read(4096)
                return "xlsx-strict" if b"purl.oclc.org/ooxml" in head else "xlsx"
            mimetype = z.read("mimetype") if "mimetype" in names else b""
            if b"opendocument" in mimetype or "content.xml" in names:
                manifest = z.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
                if b"encryption-data" in manifest:
                    return "ods-encrypted"
                if b"spreadsheet" not in mimetype and mimetype:
                    raise InputError(path, f"this is an OpenDocument {mimetype.decode('ascii', 'replace').rsplit('.', 1)[-1]}"
                                     " file, not a spreadsheet", hint="save the data as .ods, .xlsx or .csv")
                return "ods"
            if "word/document.xml" in names or "ppt/presentation.xml" in names:
                raise InputError(path, "this is a Word or PowerPoint file, not a workbook",
                                 hint="save the table as .xlsx or .csv")
    except (zipfile.BadZipFile, OSError, KeyError, EOFError) as e:
        raise InputError(path, f"the workbook is damaged or truncated ({type(e).__name__})",
                         hint="open it in Excel and save it again") from e
    raise InputError(path, "this zip archive is not an Excel or OpenDocument workbook",
                     hint="unpack it and import the files inside")


def _reader_for(path: Path):
    """Choose the reader from the file's first bytes; reject what is not a workbook with the reason."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise InputError(path, f"cannot read the file ({e.strerror})") from e
    if not head:
        raise InputError(path, "the file is empty (0 bytes)", hint="export the workbook again")
    if head.startswith(_ZIP):
        kind = _zip_kind(path)
        if kind == "ods-encrypted":
            raise InputError(path, "the spreadsheet is password-protected (encrypted)",
                             hint="open it in LibreOffice, remove the password (File > Properties) and save again")
        return {"xlsb": read_xlsb, "xlsx-strict": read_calamine, "ods": read_ods}.get(kind, read_xlsx)
    if len(head) >= 4 and head[:2] in _BIFF_BOF and head[3] == 0 and 4 <= head[2] <= 20:
        return read_xls  # Excel 2.1/3.0/4.0 (and raw BIFF5) worksheets are no OLE files (a BOF record is 4+ bytes)
    if head.startswith(_OLE):
        if is_encrypted(path):
            raise InputError(
                path,
                "the workbook is password-protected (encrypted)",
                hint="remove the password in Excel (File > Info > Protect Workbook) and save again",
            )
        return read_xls
    raise InputError(path, _not_a_workbook(path, head), hint=_not_a_workbook_hint(head))


def is_encrypted(path: Path) -> bool:
    """True for a password-protected workbook (OLE file with an 'EncryptedPackage', or a flagged .xls)."""
    import msoffcrypto

    try:
        with path.open("rb") as f:
            return bool(msoffcrypto.OfficeFile(f).is_encrypted())
    except Exception:  # noqa: BLE001 - msoffcrypto raises many types on odd files; xlrd judges those next
        return _has_encrypted_package(path)


def _has_encrypted_package(path: Path) -> bool:
    import olefile

    try:
        return olefile.OleFileIO(str(path)).exists("EncryptedPackage")
    except Exception:  # noqa: BLE001
        return False


def _not_a_workbook(path: Path, head: bytes) -> str:
    lower = head.lower().lstrip()
    if lower.startswith((b"<?xml", b"<html", b"<!doc", b"<table")):
        return "this is an HTML/XML file with a spreadsheet extension, not a workbook"
    try:
        path.read_bytes()[:4096].decode("utf-8")
        return "this is a text file, not an Excel or OpenDocument workbook"
    except UnicodeDecodeError:
        return "not an Excel or OpenDocument workbook (unrecognised binary content)"


def _not_a_workbook_hint(head: bytes) -> str:
    if head.lower().lstrip().startswith((b"<?xml", b"<html", b"<!doc", b"<table")):
        return "open it in Excel and save it as .xlsx"
    return "if it is a CSV export, give it the .csv extension"


def detect_header_row(
    rows: list[tuple[int, list[object]]], merged=(), scan: int = HEADER_SCAN_ROWS
) -> int | None:
    """The spreadsheet row number of the header, or ``None`` when the first row is already data.

    The header is the first row within the first ``scan`` rows whose cells are at least 70% text
    (of the table's width), followed by a well-filled row, with only text notes above it. Rows that a
    merged header cell reaches down into (a two-row header) belong to the header, not to the data.

    Examples:
        >>> detect_header_row([(3, ["Note"]), (9, ["Naam", "Telefoon"]), (10, ["Jan", 612345678])])
        9
        >>> detect_header_row([(1, [1, "a"]), (2, [2, "b"])]) is None
        True
    """
    window = [(n, v) for n, v in rows if n <= rows[0][0] + scan]
    width = max(_filled(v) for _, v in window)
    for i, (number, values) in enumerate(window):
        above_is_notes = all(not any(_is_number(c) for c in prev) for _, prev in window[:i])
        if not above_is_notes:
            break
        if _text_count(values) >= max(1, math.ceil(0.7 * width)) and not looks_like_data(values):
            bottom = _header_bottom(dict(rows), [m for m in merged if m[0] <= number <= m[1]], number)
            after = next((j for j, (n, _) in enumerate(rows) if n > bottom), len(rows))
            if _followed_by_data(rows, after, width):
                return number
    first = rows[0][1]
    if any(_is_number(c) for c in first) or looks_like_data(first):
        return None
    return rows[0][0]


def _filled(values: list[object]) -> int:
    return sum(1 for v in values if not _is_blank(v))


def _text_count(values: list[object]) -> int:
    return sum(1 for v in values if isinstance(v, str) and v.strip() and not _looks_numeric(v))


def _followed_by_data(rows: list[tuple[int, list[object]]], i: int, width: int) -> bool:
    return i < len(rows) and _filled(rows[i][1]) >= max(1, math.ceil(0.6 * width))


def _is_blank(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _is_number(value: object) -> bool:
    return (
        isinstance(value, (int, float, dt.date, dt.time))
        and not isinstance(value, bool)
        and not _is_blank(value)
    )


def _looks_numeric(text: str) -> bool:
    return text.strip().replace(".", "", 1).replace(",", "", 1).lstrip("-+").isdigit()


def _sheet_table(path: Path, ws: Sheet, header_row: int | None) -> RawTable:
    """Headers (merged cells filled), the data rows below them as text, and the notes."""
    rows = ws.rows
    number = header_row if header_row is not None else detect_header_row(rows, ws.merged)
    notes: dict[str, object] = {"sheet": ws.name, "header_row": number}
    if number is None:
        width = max(len(v) for _, v in rows)
        headers, body = generated_headers(width), rows
        notes["no_header"] = True
    else:
        header_values, last_header_row = _header_cells(rows, ws.merged, number)
        if header_values is None:
            raise InputError(
                path,
                f"sheet {ws.name!r} has no row {number} (or it is blank)",
                row=number,
                hint="check --header-row",
            )
        body = [(n, v) for n, v in rows if n > last_header_row]
        width = max([len(header_values)] + [len(v) for _, v in body])
        headers = unique_headers(header_values + [None] * (width - len(header_values)))
    converters = _column_converters(headers)
    text_rows = [[converters[j](v[j] if j < len(v) else None) for j in range(len(headers))] for _, v in body]
    logger.info("%s [%s]: header row %s, %d rows, %d columns", path, ws.name, number, len(body), len(headers))
    return RawTable(
        frame=text_frame(headers, text_rows),
        rows=[n for n, _ in body],
        source_file=str(path),
        table=ws.name,
        rows_in=len(body),
        notes=notes,
    )


def _header_cells(rows, merged, number: int) -> tuple[list[str | None] | None, int]:
    """Header texts with merged ranges spread over their columns; a range reaching down makes a taller header.

    For a two-row header (``Adres`` merged over ``Straat | Huisnummer``) the lowest text wins.
    """
    by_number = dict(rows)
    if number not in by_number:
        return None, number
    spans = [m for m in merged if m[0] <= number <= m[1]]
    last = _header_bottom(by_number, spans, number)
    grid = {n: list(by_number.get(n, [])) for n in range(number, last + 1)}
    width = max([len(v) for v in grid.values()] + [m[3] for m in spans])
    for n in grid:
        grid[n] += [None] * (width - len(grid[n]))
    for r0, r1, c0, c1 in merged:
        if r1 < number or r0 > last:
            continue
        top = by_number.get(r0, [])
        value = top[c0 - 1] if c0 - 1 < len(top) else None
        for n in range(max(r0, number), min(r1, last) + 1):
            for c in range(c0 - 1, c1):
                grid[n][c] = value
    headers = []
    for c in range(width):
        texts = [cell_text(grid[n][c]) for n in range(number, last + 1)]
        headers.append(next((t for t in reversed(texts) if t), None))
    return headers, last


def _header_bottom(by_number: dict, spans: list, number: int) -> int:
    """The last row of a header whose merged cells reach down.

    A row below belongs to the header while its cells are covered by those merges or sit under a
    group header (a merge spanning several columns on the header row, with its sub-headers below).
    """
    last = number
    grouped = {c for r0, _, c0, c1 in spans if r0 == number and c1 > c0 for c in range(c0, c1 + 1)}
    for n in range(number + 1, max([number] + [m[1] for m in spans]) + 1):
        covered = grouped | {c for r0, r1, c0, c1 in spans if r0 <= n <= r1 for c in range(c0, c1 + 1)}
        values = by_number.get(n, [])
        if any(not _is_blank(v) and (c + 1) not in covered for c, v in enumerate(values)):
            break
        last = n
    return last


def _column_converters(headers: list[str]):
    """Per column: plain :func:`cell_text`, or phone recovery for columns that map to a phone target."""
    from cdq.headers import map_headers

    targets = map_headers(headers)
    return [phone_text if targets.get(h) in _PHONE_TARGETS else cell_text for h in headers]


def cell_text(value: object) -> str | None:
    """A cell as the text Excel shows: whole numbers without ``.0``, ISO dates, TRUE/FALSE.

    Examples:
        >>> cell_text(612345678.0), cell_text(2147483649.0), cell_text(0.1 + 0.2)
        ('612345678', '2147483649', '0.3')
        >>> cell_text(dt.datetime(2000, 1, 1)), cell_text(dt.datetime(2021, 1, 1, 10, 30))
        ('2000-01-01', '2021-01-01 10:30:00')
        >>> cell_text(True), cell_text("  ") is None, cell_text(1234)
        ('TRUE', True, '1234')
    """
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _float_text(value: float) -> str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer():
        return str(int(value))
    text = format(value, ".15g")
    return repr(value) if "e" in text else text


def phone_text(value: object) -> str | None:
    """A phone cell: a 9-digit number that Excel stripped the 0 from gets it back.

    Only numbers (never typed text) and only 9 digits starting with 1-8: a Dutch number without its
    trunk 0 (``612345678`` mobile, ``201234567`` Amsterdam), where the 0 is certain.

    Examples:
        >>> phone_text(612345678.0), phone_text(201234567), phone_text(31612345678), phone_text("612345678")
        ('0612345678', '0201234567', '31612345678', '612345678')
    """
    text = cell_text(value)
    if (
        _is_number(value)
        and not isinstance(value, (dt.date, dt.time))
        and text
        and len(text) == 9
        and text[0] in "12345678"
    ):
        return "0" + text
    return text
