"""Readers for BAG-derived address tables; each yields chunks with the columns :data:`LOAD_COLUMNS`.

Formats:

- ``flat``: ``postcode;huisnummer;huisletter;huisnummertoevoeging;straat;woonplaats;gemeente;provincie``
  with optional ``nummeraanduiding_id``, ``x``, ``y`` (any order, header required, ``;`` ``,`` or tab).
- ``open-csv``: ``straat,huisnummer,huisletter,huistoevoeging,woonplaats,postcode,x,y`` as common open BAG
  conversions publish it (no municipality or province: those stay empty).
- ``gpkg``: the PDOK BAG GeoPackage. A GeoPackage is an SQLite file; we read, with :mod:`sqlite3`, the
  first table of ``nummeraanduiding``, ``verblijfsobject``, ``adres`` (any other table that has
  ``postcode`` and ``huisnummer`` columns otherwise) and these columns, whichever spelling is present:
  ``postcode``, ``huisnummer``, ``huisletter``, ``toevoeging``/``huisnummertoevoeging``,
  ``openbare_ruimte_naam``/``openbareruimtenaam``/``straatnaam``, ``woonplaats_naam``/``woonplaatsnaam``,
  ``gemeente_naam``/``gemeentenaam`` (optional), ``provincie_naam``/``provincienaam`` (optional) and the id
  ``nummeraanduiding_hoofdadres_identificatie``/``nummeraanduiding_id`` (or ``identificatie`` in a
  ``nummeraanduiding`` table). Geometry is not read.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from cdq.address.store import LOAD_COLUMNS
from cdq.errors import InputError, UsageError

FORMATS = ("flat", "open-csv", "gpkg")
CHUNK_ROWS = 500_000

#: Header (lower case) -> load column, per CSV format.
FLAT = {"postcode": "postcode", "huisnummer": "number", "huisletter": "letter",
        "huisnummertoevoeging": "addition", "straat": "street", "woonplaats": "city", "gemeente": "municipality",
        "provincie": "province", "nummeraanduiding_id": "bag_id"}
OPEN_CSV = {"straat": "street", "huisnummer": "number", "huisletter": "letter", "huistoevoeging": "addition",
            "woonplaats": "city", "postcode": "postcode"}
REQUIRED = ("postcode", "number", "street", "city")
#: Columns a format's header must have (the rest are optional); a missing one means a wrong --format,
#: which would otherwise fold every address with an addition into "duplicates".
FORMAT_REQUIRED = {"flat": ("postcode", "huisnummer", "huisletter", "huisnummertoevoeging", "straat", "woonplaats"),
                   "open-csv": ("straat", "huisnummer", "huisletter", "huistoevoeging", "woonplaats", "postcode")}

GPKG_TABLES = ("nummeraanduiding", "verblijfsobject", "adres")
GPKG_COLUMNS = {
    "postcode": ("postcode",), "number": ("huisnummer",), "letter": ("huisletter",),
    "addition": ("toevoeging", "huisnummertoevoeging"),
    "street": ("openbare_ruimte_naam", "openbareruimtenaam", "straatnaam", "straat"),
    "city": ("woonplaats_naam", "woonplaatsnaam", "woonplaats"),
    "municipality": ("gemeente_naam", "gemeentenaam", "gemeente"),
    "province": ("provincie_naam", "provincienaam", "provincie"),
    "bag_id": ("nummeraanduiding_hoofdadres_identificatie", "nummeraanduiding_id", "hoofdadres_identificatie"),
}


def detect_format(path: str | Path) -> str:
    """``gpkg`` for an SQLite file, ``open-csv`` if the header has ``huistoevoeging``, else ``flat``."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    return "open-csv" if b"huistoevoeging" in head.split(b"\n", 1)[0].lower() else "flat"


def read_reference(path: str | Path, fmt: str | None = None, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield chunks of a BAG-derived table in the load columns; InputError if it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", hint="check the path")
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise UsageError(f"unknown reference format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "gpkg":
        return _read_gpkg(path, chunk_rows)
    return _read_csv(path, FLAT if fmt == "flat" else OPEN_CSV, chunk_rows, FORMAT_REQUIRED[fmt])


def _sniff_delimiter(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        first = handle.readline()
    return max(";,\t", key=first.count)


def _read_csv(path: Path, columns: dict[str, str], chunk_rows: int,
              required: tuple[str, ...] = ()) -> Iterator[pd.DataFrame]:
    sep = _sniff_delimiter(path)
    try:
        header = pd.read_csv(path, sep=sep, nrows=0, encoding="utf-8-sig").columns
    except UnicodeDecodeError as e:
        raise InputError(path, "not a UTF-8 text file (a BAG table is UTF-8 CSV)", hint="check the file") from e
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as e:
        raise InputError(path, f"not a readable CSV table ({type(e).__name__})", hint="check the file") from e
    usecols = {h: columns[h.strip().lower()] for h in header if h.strip().lower() in columns}
    names = {h.strip().lower() for h in header}
    missing = [c for c in REQUIRED if c not in usecols.values()] or [c for c in required if c not in names]
    if missing:
        wanted = [h for h, c in columns.items() if c in missing] or missing
        raise InputError(path, f"missing column(s) {', '.join(wanted)}",
                         hint=f"the header must name {', '.join(columns)}; check --format")
    try:
        reader = pd.read_csv(path, sep=sep, usecols=list(usecols), dtype=str, keep_default_na=False,
                             chunksize=chunk_rows, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL)
        for chunk in reader:
            yield _finish(chunk.rename(columns=usecols))
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot parse the table ({e})") from e


def _finish(chunk: pd.DataFrame) -> pd.DataFrame:
    chunk = chunk.reindex(columns=LOAD_COLUMNS)
    return chunk.where(chunk.notna() & (chunk != ""), None)


def _gpkg_table(conn: sqlite3.Connection, path: Path) -> tuple[str, dict[str, str]]:
    """Pick the address table and map its columns to load columns."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
    ranked = sorted(tables, key=lambda t: (GPKG_TABLES.index(t.lower()) if t.lower() in GPKG_TABLES else 99))
    for table in ranked:
        present = {r[1].lower(): r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        chosen = {}
        for target, names in GPKG_COLUMNS.items():
            found = next((present[n] for n in names if n in present), None)
            if target == "bag_id" and found is None and table.lower() == "nummeraanduiding":
                found = present.get("identificatie")
            if found:
                chosen[found] = target
        if all(c in chosen.values() for c in REQUIRED):
            return table, chosen
    raise InputError(path, "no address table (nummeraanduiding/verblijfsobject with postcode, huisnummer, "
                     "street and place columns) in the GeoPackage", hint="use --format flat for CSV files")


def _read_gpkg(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        table, columns = _gpkg_table(conn, path)
    except sqlite3.DatabaseError as e:
        raise InputError(path, f"not a readable GeoPackage ({e})") from e
    select = ", ".join(f'CAST("{c}" AS TEXT) AS "{t}"' for c, t in columns.items())
    try:
        for chunk in pd.read_sql_query(f'SELECT {select} FROM "{table}"', conn, chunksize=chunk_rows):
            yield _finish(chunk)
    finally:
        conn.close()
