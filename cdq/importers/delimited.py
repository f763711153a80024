"""Delimited text (CSV, TSV, ``;``-separated Excel exports, contact CSVs) into a :class:`RawTable`.

Every cell stays text, so leading zeros in postcodes, phone and customer numbers survive. The encoding
is detected (BOM, then strict UTF-8, then Japanese Shift-JIS or a confident charset-normalizer guess,
then cp1252, then latin-1), the delimiter is sniffed among ``;``, ``,``, tab and ``|`` (quotes respected),
and a file whose first row looks like data gets ``column_1..n`` headers. Row numbers are record
numbers counting the header as row 1, which is what a spreadsheet shows when it opens the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import sys
from collections import Counter
from pathlib import Path

from cdq.errors import InputError
from cdq.importers._tabular import (
    MAX_COLUMNS,
    check_width,
    generated_headers,
    looks_like_data,
    quarantine_frame,
    text_frame,
    unique_headers,
)
from cdq.importers.base import RawTable

logger = logging.getLogger(__name__)

DELIMITERS = [";", ",", "\t", "|"]
_DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
#: Single-byte Western guesses of charset-normalizer that we overrule with cp1252 / latin-1.
_WESTERN = re.compile(
    r"^(ascii|utf_8|cp125\d|latin_1|iso8859_\d+|mac_.*|cp[78]\d\d|cp437|koi8_.*|ptcp154|kz1048|hp_roman8)$"
)
_MULTI_BYTE = {"big5", "big5hkscs", "gb2312", "gb18030", "gbk", "euc_jp", "euc_kr", "cp949", "iso2022_jp",
               "iso2022_kr", "shift_jis", "cp932", "johab", "hz", "cp950", "euc_jis_2004", "shift_jis_2004"}
_KANA = re.compile(r"[\u3040-\u30ff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MAGIC = [
    (b"PK\x03\x04", "a zip archive (an .xlsx/.ods workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an OLE2 file (an .xls workbook or Outlook .msg?)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
]
_SNIFF_CHARS = 65536
#: The most fields one line may have (Excel's column limit is 16,384; this leaves room for ragged rows).
MAX_FIELDS = 20_000
_OVERSIZED = "\x00oversized\x00"

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def read_delimited(
    path: str | Path, *, delimiter: str | None = None, encoding: str | None = None, **_
) -> list[RawTable]:
    """Read a delimited text file; every cell is ``str`` or ``None``.

    Args:
        path: the file.
        delimiter: force a delimiter (default: detected among ``; , TAB |``).
        encoding: force an encoding (default: detected).

    Raises:
        InputError: empty file, binary content, a workbook or archive given as text, or a broken quote.

    Examples:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "klanten.csv")
        >>> _ = open(p, "w", encoding="cp1252").write("Klantnummer;Naam\\n000123;José\\n")
        >>> t = read_delimited(p)[0]
        >>> t.frame.to_dict("records"), t.rows, t.notes["delimiter"], t.notes["encoding"]
        ([{'Klantnummer': '000123', 'Naam': 'José'}], [2], ';', 'cp1252')
    """
    data = _read_bytes(path)
    text, detected = _decode_forced(path, data, encoding) if encoding else decode_bytes(path, data)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InputError(path, "the file is empty (no header, no rows)", hint="export the data again")
    _reject_binary_text(path, text)
    sep = delimiter or detect_delimiter(text)
    records, unbalanced = _parse(path, text, sep)
    return [_build_table(path, records, sep, detected, unbalanced)]


def _read_bytes(path: str | Path) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot read the file ({e.strerror})") from e
    if not data.strip():
        raise InputError(path, "the file is empty (no header, no rows)", hint="export the data again")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(
                path,
                f"this is {what}, not delimited text",
                hint="give the file its proper extension (.xlsx, .xls, .ods, .msg)",
            )
    return data


def _decode_forced(path: str | Path, data: bytes, encoding: str) -> tuple[str, str]:
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as e:
        raise InputError(
            path,
            f"cannot decode the file as {encoding} ({type(e).__name__})",
            hint="leave the encoding out to detect it",
        ) from e


def decode_bytes(path: str | Path, data: bytes) -> tuple[str, str]:
    """Decode file bytes; returns ``(text, encoding name)``.

    Order: a BOM, strict UTF-8, Shift-JIS when it decodes to Japanese kana, a confident non-Western
    charset-normalizer guess, cp1252, latin-1 (which always decodes).

    Examples:
        >>> decode_bytes("x", "Zoë".encode("utf-8"))
        ('Zoë', 'utf-8')
        >>> decode_bytes("x", "Zoë".encode("cp1252"))
        ('Zoë', 'cp1252')
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as e:
                raise InputError(
                    path,
                    f"the file starts with a {name} byte-order mark but is not valid {name}",
                    row=None,
                    hint="export the file again as UTF-8",
                ) from e
    utf16 = _utf16_without_bom(data)
    if utf16:
        return data.decode(utf16), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = _asian_guess(data)
    if guess:
        return guess
    mixed = _per_line_utf8(data)
    if mixed:
        return mixed
    for name in (western_code_page(data), "cp1252", "latin-1"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM shows as every other byte NUL (ASCII-heavy content)."""
    sample = data[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 3:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    name = (
        "utf-16-le" if odd > 0.8 * len(sample) / 2 else "utf-16-be" if even > 0.8 * len(sample) / 2 else None
    )
    if name:
        try:
            data.decode(name)
        except UnicodeDecodeError:
            return None
    return name


#: Letters common in European names: a code page that reads a file's 8-bit bytes as these is right.
_NAME_LETTERS = set("éèëêáàäâíìïîóòöôúùüûçñøåæœßÿÉÈËÊÁÀÄÂÍÌÏÎÓÒÖÔÚÙÜÛÇÑØÅÆŒ"
                    "łśżźćńęąčřšžőűŁŚŻŹĆŃĘĄČŘŠŽŐŰďťňĎŤŇ")
_SYMBOLS = set("€£°±§©®•…–—‘’“”«»½¼¾×÷µ¿¡")
_IN_WORD = re.compile(rb"(?<=[A-Za-z])[\x80-\xff]|[\x80-\xff](?=[A-Za-z])")
_WESTERN_CANDIDATES = ["cp1252", "mac_roman", "cp1250", "mac_latin2"]


def western_code_page(data: bytes) -> str:
    """The single-byte code page whose reading of the 8-bit bytes gives the most name letters.

    cp1252 wins ties (Windows exports); Mac Roman and Mac Central European exports, and Central European
    Windows files (cp1250: ł, ś), win where their letters are the ones that make sense.

    Examples:
        >>> western_code_page("Zoë Crèche".encode("cp1252")), western_code_page("Zoë Crèche".encode("mac_roman"))
        ('cp1252', 'mac_roman')
        >>> western_code_page("Łukasz Wiśniewski".encode("cp1250"))
        'cp1250'
    """
    sample = data[:5_000_000]
    counts = Counter(sample.translate(None, bytes(range(128))))  # only the 8-bit bytes, counted in C
    if not counts:
        return "cp1252"
    in_word = Counter(b[0] for b in _IN_WORD.findall(sample))
    best, best_score = "cp1252", None
    for name in _WESTERN_CANDIDATES:
        score = 0
        for byte, count in counts.items():
            ch = bytes([byte]).decode(name, "replace")
            inside = in_word.get(byte, 0)
            if ch == "\ufffd" or not ch.isprintable():
                score -= count  # undefined here (cp1252 then falls back to latin-1, losing nothing)
            elif ch.isalpha():
                score += (3 if ch in _NAME_LETTERS else 2) * inside - (count - inside)
            else:
                score += (1 if ch in _SYMBOLS else 0) * (count - inside) - inside
        if best_score is None or score > best_score:
            best, best_score = name, score
    return best


def _per_line_utf8(data: bytes) -> tuple[str, str] | None:
    """A legacy-code-page file with some UTF-8 lines (pasted from another export): decode line by line."""
    # only the lines with an 8-bit byte can be UTF-8 beyond ASCII; a regex finds them without a call per line
    if not any(_is_utf8(line) for line in _HIGH_LINES.findall(data)):
        return None
    lines = data.split(b"\n")
    legacy = western_code_page(b"\n".join(x for x in lines if not _is_utf8(x)))
    text = "\n".join(line.decode("utf-8") if _is_utf8(line) else line.decode(legacy, "replace") for line in lines)
    return text, f"{legacy}+utf-8 (per line)"


#: A whole line (between ``\\n``) holding at least one 8-bit byte.
_HIGH_LINES = re.compile(rb"(?m)^[^\n\x80-\xff]*[\x80-\xff][^\n]*")


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _asian_guess(data: bytes) -> tuple[str, str] | None:
    """Shift-JIS with kana, or a multi-byte charset-normalizer is sure of (cp1252 would garble both)."""
    for name in ("shift_jis", "cp932"):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if _KANA.search(text):
            return text, name
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None or _WESTERN.match(best.encoding) or best.chaos > 0.05 or best.coherence < 0.3:
        return None
    if best.encoding not in _MULTI_BYTE and (len(data) < 2000 or best.coherence < 0.6):
        return None  # a short file: a single-byte non-Western guess (cp775, koi8) is weak evidence
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError):
        return None


def _reject_binary_text(path: str | Path, text: str) -> None:
    """Control characters (other than tab/CR/LF) in a large share of the text mean binary data."""
    sample = text[:_SNIFF_CHARS]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n") + sample.count("\ufffd")
    if controls > max(8, len(sample) // 20):
        raise InputError(
            path,
            "binary data, not delimited text (control characters throughout)",
            hint="check that this is the CSV export and not another file",
        )


def detect_delimiter(text: str) -> str:
    """The delimiter among ``; , TAB |`` that splits the first records most consistently.

    Quoted fields are respected, so commas inside ``"Kerkstraat 1, Utrecht"`` do not count.

    Examples:
        >>> detect_delimiter('Naam;Adres\\n"Jan";"Kerkstraat 1, Utrecht"\\n')
        ';'
        >>> detect_delimiter("a\\tb\\tc\\n1\\t2\\t3\\n")
        '\\t'
    """
    sample = text[:_SNIFF_CHARS]
    best, best_score = ",", (0.0, 0, 0)
    for sep in DELIMITERS:
        counts = _field_counts(sample, sep)
        if not counts:
            continue
        mode = max(set(counts), key=lambda c: (counts.count(c), c))
        if mode < 2:
            continue
        score = (counts.count(mode) / len(counts), mode, -DELIMITERS.index(sep))
        if score > best_score:
            best, best_score = sep, score
    return best


def _field_counts(sample: str, sep: str, limit: int = 50) -> list[int]:
    """Fields per non-blank record for the first ``limit`` records (the last, maybe cut, is dropped)."""
    counts = []
    try:
        for record in csv.reader(io.StringIO(sample, newline=""), delimiter=sep):
            if record and any(record):
                counts.append(len(record))
            if len(counts) > limit:
                break
    except csv.Error:
        return []
    return counts[:limit] if len(counts) > 1 else counts


class _Lines:
    """Physical lines for ``csv.reader`` with push-back; remembers the lines the current record took."""

    def __init__(self, text: str, sep: str = ",") -> None:
        self._source = iter(io.StringIO(text, newline=""))
        self._back: list[str] = []
        self.taken: list[str] = []
        self.hit_end = False
        self._sep = sep
        self.oversized: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._back:
            line = self._back.pop()
        else:
            try:
                line = next(self._source)
            except StopIteration:
                self.hit_end = True
                raise
        if len(line) > MAX_FIELDS and line.count(self._sep) >= MAX_FIELDS:
            # 25 million fields on one line: never handed to the csv module (it would build them all)
            self.oversized.append(line[:2000])
            line = "\n"
        self.taken.append(line)
        return line

    def push_back(self, lines: list[str]) -> None:
        self._back.extend(reversed(lines))
        self.hit_end = False


def _parse(path: str | Path, text: str, sep: str) -> tuple[list[list[str]], dict[int, str]]:
    """Records, plus ``index -> raw line`` of records whose quote never closed where it should.

    A quoted field may hold line breaks (Thunderbird notes). But when a quote opened in one line
    swallows following lines that look like whole records (the header's number of delimiters inside
    the quote) or runs to the end of the file, the quote is a stray one: that line alone becomes a
    record (quarantined later) and the swallowed lines are read again as records of their own.
    """
    plain = _parse_plain(text, sep)
    return (plain, {}) if plain is not None else _parse_careful(path, text, sep)


def _parse_careful(path: str | Path, text: str, sep: str) -> tuple[list[list[str]], dict[int, str]]:
    """:func:`_parse` line by line: each record knows the physical lines it took."""
    lines = _Lines(text, sep)
    reader = csv.reader(lines, delimiter=sep)
    records: list[list[str]] = []
    unbalanced: dict[int, str] = {}
    width = 0
    while True:
        lines.taken = []
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise InputError(
                path,
                f"cannot parse record {len(records) + 1} ({e})",
                row=len(records) + 1,
                hint="look for an unclosed quote in or before this row",
            ) from e
        taken = lines.taken
        if lines.oversized:
            unbalanced[len(records)] = _OVERSIZED + lines.oversized.pop()
            lines.oversized.clear()
            records.append([])
            continue
        if len(taken) > 1 and _stray_quote(taken, record, sep, width, lines.hit_end):
            lines.push_back(taken[1:])
            unbalanced[len(records)] = taken[0].rstrip("\r\n")
            record = next(csv.reader([taken[0].rstrip("\r\n")], delimiter=sep), [])
        if not width and not _is_blank(record):
            width = len(record)
        records.append(record)
    return records, unbalanced


def _parse_plain(text: str, sep: str) -> list[list[str]] | None:
    """The records when every record is one physical line and no line is oversized, else None.

    Such a file reads the same without :class:`_Lines` (no stray-quote check applies, no line is replaced), so
    ``csv.reader`` runs over it in one C-level pass; a quoted line break, a parse error or a huge line does not.
    """
    if max(map(len, _LINE_BREAK.split(text))) >= MAX_FIELDS:
        return None  # a line that may hold MAX_FIELDS delimiters must never reach the csv module
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        records = list(reader)
    except csv.Error:
        return None
    # each record takes at least one line: as many lines as records means none spans two
    return records if reader.line_num == len(records) else None


def _stray_quote(taken: list[str], record: list[str], sep: str, width: int, hit_end: bool) -> bool:
    """Whether a record read over several lines comes from an unbalanced quote, not a real line break.

    Well-formed CSV (every quote closed right before a delimiter or line end) is never a stray quote,
    whatever it holds. Otherwise it is one when the quote runs to the end of the file, or when a line
    swallowed into a field looks like a whole record (the header's number of delimiters).

    Examples:
        >>> _stray_quote(['1;"Henk;1234 AB\\n', '2;Truus;2011 AA\\n', '3;"Kees";Ede\\n'],
        ...              ['1', 'Henk;1234 AB\\n2;Truus;2011 AA\\n3;Kees"', 'Ede\\n'], ";", 3, False)
        True
        >>> _stray_quote(['1;Jan;"Kerkstraat 1;\\n', 'Utrecht"\\n'], ['1', 'Jan', 'Kerkstraat 1;\\nUtrecht'],
        ...              ";", 3, False)
        False
    """
    if not "".join(taken[1:]).strip():
        return False  # only blank lines swallowed: no row is lost
    try:
        for _ in csv.reader(io.StringIO("".join(taken), newline=""), delimiter=sep, strict=True):
            pass
        return False
    except csv.Error as e:
        if hit_end and "unexpected end of data" in str(e):
            return True
    need = max(width - 1, 2)
    return any(
        segment.count(sep) >= need
        for field in record
        if "\n" in field or "\r" in field
        for segment in _LINE_BREAK.split(field)[1:]
    )


def _is_blank(record: list[str]) -> bool:
    return not "".join(record).strip()  # blank when no field holds a non-space (one C-level pass)


def _build_table(
    path: str | Path, records: list[list[str]], sep: str, encoding: str, unbalanced: dict[int, str]
) -> RawTable:
    """Headers from the first non-blank record (or generated), rows padded, over-long rows quarantined."""
    first = next((i for i, r in enumerate(records) if not _is_blank(r)), None)
    notes: dict[str, object] = {
        "encoding": encoding,
        "delimiter": sep,
        "delimiter_name": _DELIMITER_NAMES[sep],
    }
    oversized = [i for i, raw in unbalanced.items() if raw.startswith(_OVERSIZED)]
    if oversized and (first is None or min(oversized) < first):
        raise InputError(path, f"the first line has more than {MAX_FIELDS:,} fields; cdq reads at most "
                         f"{MAX_COLUMNS:,} columns (Excel's limit)", row=min(oversized) + 1,
                         hint="check the delimiter, or that this is a table at all")
    if first is None:
        raise InputError(path, "the file is empty (only blank lines)", hint="export the data again")
    title_rows = _title_rows(records, first)
    if title_rows:
        notes["lines_above_header"] = title_rows
        first += title_rows
    header_cells = records[first]
    check_width(path, len(header_cells))
    has_header = not looks_like_data(header_cells)
    if has_header:
        headers = unique_headers(header_cells)
        notes["header_row"] = first + 1
        body_start = first + 1
    else:
        width = max(len(r) for r in records)
        headers = generated_headers(width)
        notes["header_row"] = None
        notes["no_header"] = True
        body_start = first
    rows, numbers, bad = _fit_rows(path, records, body_start, len(headers), sep, unbalanced)
    frame = text_frame(headers, rows, all_text=True)
    quarantine = quarantine_frame(bad)
    from cdq.importers.contacts_csv import google_multi_values, premap, thunderbird_birth_date

    premapped, layout = premap(headers)
    if layout == "google":
        frame = google_multi_values(frame)
        premapped, layout = premap(list(frame.columns))
    if layout == "thunderbird":
        frame = thunderbird_birth_date(frame)
    if layout:
        notes["layout"] = layout
    logger.info(
        "%s: %d records, %d columns, delimiter %s, encoding %s, %d quarantined",
        path,
        len(rows) + len(bad),
        len(headers),
        _DELIMITER_NAMES[sep],
        encoding,
        len(bad),
    )
    return RawTable(
        frame=frame,
        rows=numbers,
        source_file=str(path),
        quarantine=quarantine,
        premapped=premapped,
        rows_in=len(rows) + len(bad),
        notes=notes,
    )


def _title_rows(records: list[list[str]], first: int, scan: int = 30) -> int:
    """How many title lines (a report name, "Invoice Ninja v4.5.17 - December 19, 2020") sit above the header.

    A title line has one filled field (or under half the table's width) where the lines below have the
    table's width; the header is the first line below that is at least half filled and no data.
    """
    window = [r for r in records[first:first + scan + 1]]
    filled = [sum(1 for f in r if f.strip()) for r in window]
    if len(window) < 3:
        return 0
    width = max(Counter(filled[1:]).most_common(1)[0][0], 2)
    if filled[0] >= max(2, (width + 1) // 2):
        return 0
    for i in range(1, min(len(window), scan)):
        if filled[i] >= max(2, (width + 1) // 2) and not looks_like_data(window[i]):
            below = filled[i + 1:i + 4]
            if below and max(below) >= max(2, (width + 1) // 2):
                return i
        elif filled[i] >= max(2, (width + 1) // 2):
            return 0  # data before any header: no title block
    return 0


def _fit_rows(path, records: list[list[str]], start: int, width: int, sep: str, unbalanced: dict[int, str]):
    """Pad short rows with None; quarantine rows with extra non-empty fields (trailing empties dropped)
    and rows with a stray quote."""
    rows, numbers, bad = [], [], []
    for index in range(start, len(records)):
        record = records[index]
        number = index + 1
        if index in unbalanced and unbalanced[index].startswith(_OVERSIZED):
            bad.append(
                {
                    "source_file": str(path),
                    "source_row": number,
                    "reason_code": "ROW_TOO_MANY_FIELDS",
                    "detail": f"row {number} has more than {MAX_FIELDS:,} fields (cdq's limit per line)",
                    "raw": unbalanced[index].removeprefix(_OVERSIZED)[:2000],
                }
            )
            continue
        if index in unbalanced:
            bad.append(
                {
                    "source_file": str(path),
                    "source_row": number,
                    "reason_code": "ROW_UNBALANCED_QUOTE",
                    "detail": f"row {number} opens a quote that is not closed on its line; "
                    "the following lines are read as rows of their own",
                    "raw": unbalanced[index],
                }
            )
            continue
        if _is_blank(record):
            continue
        if len(record) > width:
            if any(field.strip() for field in record[width:]):
                bad.append(
                    {
                        "source_file": str(path),
                        "source_row": number,
                        "reason_code": "ROW_TOO_MANY_FIELDS",
                        "detail": f"row {number} has {len(record)} fields, the header has {width}",
                        "raw": sep.join(record),
                    }
                )
                continue
            record = record[:width]
        rows.append(record + [None] * (width - len(record)))
        numbers.append(number)
    return rows, numbers, bad
