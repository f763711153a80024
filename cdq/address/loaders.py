"""Readers for the address registers as users download them; each yields chunks with the columns
:data:`~cdq.address.store.LOAD_COLUMNS`. The format is detected from the file itself (``--format`` overrides).

Formats (``cdq reference formats`` lists them with what each one lacks):

- ``lvbag``: Kadaster's LV BAG 2.0 XML extract: national zip of zips, a municipality extract, an inner zip,
  a folder of unpacked XML or one XML file (:mod:`cdq.address.lvbag`).
- ``gpkg``: PDOK's BAG GeoPackage (``bag-light.gpkg``): every address table it has (``verblijfsobject``,
  ``ligplaats``, ``standplaats``; any other table with postcode, huisnummer, street and place columns),
  columns ``openbare_ruimte_naam``, ``huisnummer``, ``huisletter``, ``toevoeging``, ``postcode``,
  ``woonplaats_naam``, ``nummeraanduiding_hoofdadres_identificatie``, ``status``. Geometry is not read.
- ``nlextract-csv``: NLExtract's ``bagadres.csv``, ``bagadres-full.csv``, ``bagadresplus.csv`` (``;``).
- ``open-csv``: bagconv's ``pcodes.csv`` / ``postcodes-nl.csv`` (``straat,huisnummer,huisletter,huistoevoeging,
  woonplaats,postcode``), also zipped as published.
- ``bagconv-sqlite``: bagconv's ``bag.sqlite`` (tables ``nums``, ``oprs``, ``vbos``, ``vbo_num``).
- ``flat``: cdq's own ``postcode;huisnummer;huisletter;huisnummertoevoeging;straat;woonplaats;gemeente;provincie``
  with optional ``nummeraanduiding_id`` and ``status`` (any order, ``;`` ``,`` or tab).
- ``best-csv``: Belgium's BeST-Address ``openaddress-be*.csv`` (:mod:`cdq.address.belgium`).
- ``best-xml``: BeST-Address's XML full download (zip of per-region zips, or its unpacked XML files;
  :mod:`cdq.address.best_xml`): the same rows as the CSV.

A CSV may come zipped (one CSV in the zip); its delimiter is sniffed from the unpacked text.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from cdq.address.best_xml import is_best_xml, looks_like_best, read_best_xml
from cdq.address.lvbag import read_lvbag, text_columns
from cdq.address.store import LOAD_COLUMNS
from cdq.errors import InputError, UsageError

FORMATS = ("lvbag", "gpkg", "nlextract-csv", "open-csv", "bagconv-sqlite", "flat", "best-csv", "best-xml")
CHUNK_ROWS = 500_000

#: Header (lower case) -> load column, per CSV format.
FLAT = {"postcode": "postcode", "huisnummer": "number", "huisletter": "letter",
        "huisnummertoevoeging": "addition", "straat": "street", "woonplaats": "city", "gemeente": "municipality",
        "provincie": "province", "nummeraanduiding_id": "bag_id", "status": "status"}
OPEN_CSV = {"straat": "street", "huisnummer": "number", "huisletter": "letter", "huistoevoeging": "addition",
            "woonplaats": "city", "postcode": "postcode"}
NLEXTRACT = {"openbareruimte": "street", "openbareruimtenaam": "street", "huisnummer": "number",
             "huisletter": "letter", "huisnummertoevoeging": "addition", "postcode": "postcode",
             "woonplaats": "city", "gemeente": "municipality", "provincie": "province", "provincienaam": "province",
             "nummeraanduiding": "bag_id", "nummeraanduiding_id": "bag_id", "nevenadres": "secondary",
             "object_type": "kind", "typeadresseerbaarobject": "kind", "verblijfsobjectstatus": "status",
             "adresseerbaarobject_status": "status"}
CSV_COLUMNS = {"flat": FLAT, "open-csv": OPEN_CSV, "nlextract-csv": NLEXTRACT}
REQUIRED = ("postcode", "number", "street", "city")
#: Columns a format's header must have (the rest are optional); a missing one means a wrong --format,
#: which would otherwise fold every address with an addition into "duplicates".
FORMAT_REQUIRED = {"flat": ("postcode", "huisnummer", "huisletter", "huisnummertoevoeging", "straat", "woonplaats"),
                   "open-csv": ("straat", "huisnummer", "huisletter", "huistoevoeging", "woonplaats", "postcode"),
                   "nlextract-csv": ("huisnummer", "huisletter", "huisnummertoevoeging", "postcode", "woonplaats")}
#: NLExtract writes the object kind as VBO/LIG/STA.
KIND_WORDS = {"vbo": "verblijfsobject", "lig": "ligplaats", "sta": "standplaats"}

GPKG_COLUMNS = {
    "postcode": ("postcode",), "number": ("huisnummer",), "letter": ("huisletter",),
    "addition": ("toevoeging", "huisnummertoevoeging"),
    "street": ("openbare_ruimte_naam", "openbareruimtenaam", "straatnaam", "straat"),
    "city": ("woonplaats_naam", "woonplaatsnaam", "woonplaats"),
    "municipality": ("gemeente_naam", "gemeentenaam", "gemeente"),
    "province": ("provincie_naam", "provincienaam", "provincie"),
    "bag_id": ("nummeraanduiding_hoofdadres_identificatie", "nummeraanduiding_id", "hoofdadres_identificatie"),
    "status": ("status",),
}
_ADDRESS_TABLES = ("verblijfsobject", "ligplaats", "standplaats", "nummeraanduiding", "adres")
BAGCONV_SQL = """
SELECT n.postcode, CAST(n.huisnummer AS TEXT) AS number, n.huisletter AS letter, n.huistoevoeging AS addition,
       o.naam AS street, n.woonplaats AS city, n.id AS bag_id,
       CASE WHEN v.status IS NULL OR n.status = 'Naamgeving ingetrokken' THEN n.status ELSE v.status END AS status,
       v.type AS kind, CASE WHEN vn.hoofdadres = 0 THEN 'true' ELSE 'false' END AS secondary
FROM nums n LEFT JOIN oprs o ON o.id = n.ligtAanRef LEFT JOIN vbo_num vn ON vn.num = n.id
LEFT JOIN vbos v ON v.id = vn.vbo
"""


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [n for n in archive.namelist() if not n.endswith("/") and not Path(n).name.startswith(".")]
    except zipfile.BadZipFile as e:
        raise InputError(path, f"not a readable zip file ({e})", hint="download it again") from e


def _csv_format(first_line: bytes) -> str:
    header = {h.strip().strip('"').lower() for h in first_line.decode("utf-8-sig", "replace").replace(";", ",")
              .replace("\t", ",").split(",")}
    if {"box_number", "house_number", "postcode"} <= header:
        return "best-csv"
    if header & {"openbareruimte", "openbareruimtenaam"}:
        return "nlextract-csv"
    return "open-csv" if "huistoevoeging" in header else "flat"


def _sqlite_format(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0].lower() for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")}
    except sqlite3.DatabaseError as e:
        raise InputError(path, f"not a readable SQLite/GeoPackage file ({e})") from e
    finally:
        conn.close()
    if {"nums", "oprs", "vbo_num"} <= tables:
        return "bagconv-sqlite"
    if "simpleaddress" in tables and not tables & set(_ADDRESS_TABLES):
        raise InputError(path, "INSPIRE addresses carry the street and place only as references to other "
                         "feature types, so they cannot complete an address",
                         hint="load the BAG itself (PDOK GeoPackage or the LV BAG extract)")
    return "gpkg"


def detect_format(path: str | Path) -> str:
    """The format of a register file, from its content (zip members, SQLite tables, XML root, CSV header)."""
    path = Path(path)
    if path.is_dir():
        return "best-xml" if looks_like_best([c.name for c in path.iterdir()]) else "lvbag"
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"SQLite format 3"):
        return _sqlite_format(path)
    if head.startswith(b"PK"):
        names = _zip_names(path)
        if looks_like_best(names):
            return "best-xml"
        if any(n.lower().endswith((".xml", ".zip")) for n in names):
            return "lvbag"
        inner = [n for n in names if n.lower().endswith((".csv", ".txt"))]
        if len(inner) == 1:
            with zipfile.ZipFile(path) as archive, archive.open(inner[0]) as member:
                return _csv_format(member.readline())
        if len(names) == 1 and names[0].lower().endswith((".sqlite", ".gpkg", ".db")):
            return "sqlite-in-zip"
        raise InputError(path, f"a zip with {len(names)} files, none of them a known register format",
                         hint="unpack it and load the address file itself")
    if head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        if is_best_xml(head):
            return "best-xml"
        if b"kadaster.nl/schemas" not in head:
            raise InputError(path, "an XML file that is neither part of an LV BAG 2.0 extract nor of BeST-Address",
                             hint="load the register's download as it comes (the zip)")
        return "lvbag"
    return _csv_format(head.split(b"\n", 1)[0])


def read_reference(path: str | Path, fmt: str | None = None, chunk_rows: int = CHUNK_ROWS, *,
                   municipalities: str | Path | None = None, info: dict | None = None) -> Iterator[pd.DataFrame]:
    """Yield chunks of a register file in the load columns; InputError if it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found", hint="check the path")
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown reference format {fmt!r}; choose one of {', '.join(FORMATS)}")
    fmt = fmt or detect_format(path)
    if fmt == "lvbag":
        return read_lvbag(path, municipalities=municipalities, info=info, chunk_rows=chunk_rows)
    if fmt == "best-csv":
        from cdq.address.belgium import read_best_csv

        return read_best_csv(path, chunk_rows)
    if fmt == "best-xml":
        return read_best_xml(path)
    if fmt == "sqlite-in-zip":
        return _read_sqlite_in_zip(path, chunk_rows)
    if not path.is_file():
        raise InputError(path, f"a folder cannot be read as {fmt}", hint="give the file itself")
    if fmt == "gpkg":
        return _read_gpkg(path, chunk_rows)
    if fmt == "bagconv-sqlite":
        return _read_bagconv(path, chunk_rows)
    return _read_csv(path, CSV_COLUMNS[fmt], chunk_rows, FORMAT_REQUIRED[fmt])


def _read_sqlite_in_zip(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A zipped SQLite file (bagconv, GeoPackage) is unpacked to a temporary file first (SQLite needs seeking)."""
    with tempfile.TemporaryDirectory(prefix="cdq-bag-") as scratch, zipfile.ZipFile(path) as archive:
        name = _zip_names(path)[0]
        inner = Path(archive.extract(name, scratch))
        fmt = _sqlite_format(inner)
        yield from (_read_bagconv(inner, chunk_rows) if fmt == "bagconv-sqlite" else _read_gpkg(inner, chunk_rows))


def _open_text(path: Path) -> io.TextIOBase:
    """The text of a CSV, or of the one CSV in a zip."""
    if zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        name = next(n for n in archive.namelist() if n.lower().endswith((".csv", ".txt")))
        return io.TextIOWrapper(archive.open(name), encoding="utf-8-sig", errors="strict", newline="")
    return path.open(encoding="utf-8-sig", errors="strict", newline="")


def _sniff_delimiter(path: Path) -> str:
    try:
        with _open_text(path) as handle:
            first = handle.readline()
    except UnicodeDecodeError as e:
        raise InputError(path, "not a UTF-8 text file (a BAG table is UTF-8 CSV)", hint="check the file") from e
    return max(";,\t", key=first.count)


def _read_csv(path: Path, columns: dict[str, str], chunk_rows: int,
              required: tuple[str, ...] = ()) -> Iterator[pd.DataFrame]:
    sep = _sniff_delimiter(path)
    try:
        with _open_text(path) as handle:
            header = pd.read_csv(handle, sep=sep, nrows=0).columns
    except UnicodeDecodeError as e:
        raise InputError(path, "not a UTF-8 text file (a BAG table is UTF-8 CSV)", hint="check the file") from e
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as e:
        raise InputError(path, f"not a readable CSV table ({type(e).__name__})", hint="check the file") from e
    usecols: dict[str, str] = {}
    for h in header:
        target = columns.get(h.strip().lower())
        if target and target not in usecols.values():
            usecols[h] = target
    names = {h.strip().lower() for h in header}
    missing = [c for c in REQUIRED if c not in usecols.values()] or [c for c in required if c not in names]
    if missing:
        wanted = [h for h, c in columns.items() if c in missing] or missing
        raise InputError(path, f"missing column(s) {', '.join(wanted)}",
                         hint=f"the header must name {', '.join(columns)}; check --format")
    try:
        with _open_text(path) as handle:
            reader = pd.read_csv(handle, sep=sep, usecols=list(usecols), dtype=str, keep_default_na=False,
                                 chunksize=chunk_rows, quoting=csv.QUOTE_MINIMAL)
            for chunk in reader:
                yield _finish(chunk.rename(columns=usecols))
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot parse the table ({e})") from e


def _finish(chunk: pd.DataFrame) -> pd.DataFrame:
    chunk = chunk.reindex(columns=LOAD_COLUMNS)
    chunk["kind"] = chunk["kind"].map(lambda k: KIND_WORDS.get(str(k).strip().lower(), k) if k else k)
    return chunk.where(chunk.notna() & (chunk != ""), None)


def _gpkg_tables(conn: sqlite3.Connection, path: Path) -> list[tuple[str, dict[str, str]]]:
    """Every address table of the GeoPackage with its columns mapped to load columns."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
    found = []
    for table in sorted(tables, key=lambda t: (_ADDRESS_TABLES.index(t.lower()) if t.lower() in _ADDRESS_TABLES
                                               else 99, t)):
        if table.lower().startswith(("gpkg_", "rtree_", "sqlite_")):
            continue
        present = {r[1].lower(): r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        chosen = {}
        for target, names in GPKG_COLUMNS.items():
            column = next((present[n] for n in names if n in present), None)
            if target == "bag_id" and column is None and table.lower() == "nummeraanduiding":
                column = present.get("identificatie")
            if column:
                chosen[column] = target
        if all(c in chosen.values() for c in REQUIRED):
            found.append((table, chosen))
    if not found:
        raise InputError(path, "no address table (verblijfsobject/ligplaats/standplaats with postcode, huisnummer, "
                         "street and place columns) in the GeoPackage", hint="use --format flat for CSV files")
    return found


def _read_gpkg(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = _gpkg_tables(conn, path)
    except sqlite3.DatabaseError as e:
        raise InputError(path, f"not a readable GeoPackage ({e})") from e
    try:
        for table, columns in tables:
            select = ", ".join(f'CAST("{c}" AS TEXT) AS "{t}"' for c, t in columns.items())
            kind = table.lower() if table.lower() in ("verblijfsobject", "ligplaats", "standplaats") else None
            for chunk in pd.read_sql_query(f'SELECT {select} FROM "{table}"', conn, chunksize=chunk_rows):
                chunk["kind"] = kind
                yield _finish(chunk)
    finally:
        conn.close()


def _read_bagconv(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """bagconv's ``bag.sqlite``: numbers joined to streets and objects (additions from ``huistoevoeging``)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for chunk in pd.read_sql_query(BAGCONV_SQL, conn, chunksize=chunk_rows):
            yield _finish(text_columns(chunk))
    except sqlite3.DatabaseError as e:
        raise InputError(path, f"not a readable bagconv database ({e})") from e
    finally:
        conn.close()
