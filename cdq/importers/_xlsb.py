"""Cells of an Excel binary workbook (.xlsb), read record by record (MS-XLSB), for what calamine misses.

python-calamine reads .xlsb, but skips the "short" cell records (``BrtShortIsst``, ``BrtShortReal``...:
a cell without its column number, the column after the previous cell) that newer writers use, so whole
columns vanished silently. This reader walks the sheet records once (linear in the file) and returns every
value; :func:`cdq.importers._sheets.read_xlsb` lays calamine's typed values (dates) over it.
"""

from __future__ import annotations

import math
import struct
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from cdq.errors import InputError

_ROW, _SST_ITEM, _BUNDLE_SHEET = 0, 19, 156
_FULL_CELLS = range(1, 12)
_SHORT_CELLS = range(12, 19)
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _records(data: bytes):
    """``(type, body)`` of every BIFF12 record."""
    i, n = 0, len(data)
    while i < n:
        rtype, i = _varint(data, i, 2)
        size, i = _varint(data, i, 4)
        yield rtype, data[i:i + size]
        i += size


def _varint(data: bytes, i: int, most: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(most):
        if i >= len(data):
            raise ValueError("record header cut off")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, i


def _wide(body: bytes, at: int) -> tuple[str, int]:
    """An XLWideString: a 4-byte character count, then UTF-16LE."""
    (count,) = struct.unpack_from("<I", body, at)
    end = at + 4 + 2 * count
    return body[at + 4:end].decode("utf-16-le", "replace"), end


def _rk(raw: int) -> float:
    """An RK number: a 30-bit integer or the top of a double, maybe divided by 100."""
    if raw & 2:
        value = float(struct.unpack("<i", struct.pack("<I", raw))[0] >> 2)
    else:
        value = struct.unpack("<d", struct.pack("<Q", (raw & 0xFFFFFFFC) << 32))[0]
    return value / 100 if raw & 1 else value


def _number(value: float) -> object:
    return int(value) if math.isfinite(value) and value.is_integer() and abs(value) < 2**53 else value


def _cell_value(rtype: int, body: bytes, at: int, strings: list[str]) -> object:
    """The value of a cell record whose value starts at ``at``."""
    kind = rtype - 11 if rtype in _SHORT_CELLS else rtype  # short records mirror the full ones
    if kind in (1,):
        return None
    if kind == 2:
        return _number(_rk(struct.unpack_from("<I", body, at)[0]))
    if kind in (3, 11):
        return "#ERROR"
    if kind in (4, 10):
        return bool(body[at])
    if kind in (5, 9):
        return _number(struct.unpack_from("<d", body, at)[0])
    if kind in (6, 8):
        return _wide(body, at)[0]
    if kind == 7:
        index = struct.unpack_from("<I", body, at)[0]
        return strings[index] if index < len(strings) else None
    return None


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.bin" not in z.namelist():
        return []
    return [_wide(body, 1)[0] for rtype, body in _records(z.read("xl/sharedStrings.bin")) if rtype == _SST_ITEM]


def _sheet_paths(z: zipfile.ZipFile) -> list[tuple[str, str]]:
    """``(sheet name, part path)`` in workbook order."""
    rels = {}
    if "xl/_rels/workbook.bin.rels" in z.namelist():
        root = ElementTree.fromstring(z.read("xl/_rels/workbook.bin.rels"))
        for rel in root.iter(_REL_NS + "Relationship"):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            rels[rel.get("Id")] = path
    sheets = []
    for rtype, body in _records(z.read("xl/workbook.bin")):
        if rtype == _BUNDLE_SHEET:
            rel_id, at = _wide(body, 8)
            name, _ = _wide(body, at)
            if rel_id in rels:
                sheets.append((name, rels[rel_id]))
    return sheets


def xlsb_cells(path: Path, max_columns: int, max_cells: int) -> dict[str, dict[tuple[int, int], object]]:
    """``{sheet name: {(row, column): value}}`` (0-based) for every sheet of an .xlsb workbook."""
    out: dict[str, dict[tuple[int, int], object]] = {}
    with zipfile.ZipFile(path) as z:
        strings = _shared_strings(z)
        count = 0
        for name, part in _sheet_paths(z):
            cells: dict[tuple[int, int], object] = {}
            row, column = 0, -1
            for rtype, body in _records(z.read(part)):
                if rtype == _ROW:
                    row, column = struct.unpack_from("<I", body, 0)[0], -1
                    continue
                elif rtype in _FULL_CELLS:
                    column = struct.unpack_from("<I", body, 0)[0]
                    value = _cell_value(rtype, body, 8, strings)
                elif rtype in _SHORT_CELLS:
                    column += 1
                    value = _cell_value(rtype, body, 4, strings)
                else:
                    continue
                if column >= max_columns:
                    raise InputError(path, f"sheet {name!r} has cells beyond column {max_columns}; cdq reads at most "
                                     f"{max_columns} columns, as Excel does")
                if value is not None and value != "":
                    cells[(row, column)] = value
                    count += 1
                    if count > max_cells:
                        raise InputError(path, f"the workbook has more than {max_cells:,} cells; cdq reads at most "
                                         f"{max_cells:,}", hint="split the workbook")
            out[name] = cells
    return out
