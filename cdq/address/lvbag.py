"""Read Kadaster's LV BAG 2.0 XML extract as it is downloaded: streamed, joined, current versions only.

Accepted as they come: the national ``lvbag-extract-nl.zip`` (a zip of zips: ``9999NUM…zip``, ``9999OPR…zip``,
``9999WPL…zip``, ``9999VBO…zip``, ``9999LIG…zip``, ``9999STA…zip``, ``GEM-WPL-RELATIE…zip``,
``Leveringsdocument-BAG-Extract.xml``), one inner zip, a municipality extract, a folder of unpacked XML files,
or a single XML file. Element names follow the LV BAG 2.0 extract schema (``BagvsExtractDeelbestandExtractLvc``,
namespaces ``www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601`` and ``…/historie/v20200601``).

Every XML file is read with :func:`xml.etree.ElementTree.iterparse` and each object is dropped once read, so
memory does not grow with the file. Objects go to a staging SQLite file beside the store, which keeps per
object only the current version (a ``voorkomen`` without ``eindGeldigheid`` on the extract date, the newest
``tijdstipRegistratie`` winning). A final join gives one row per number (``nummeraanduiding``):
number → public space (``ligtAan``, the street) → place (``ligtIn`` of the number, else of the street) →
municipality (GEM-WPL relation valid on the extract date) → name and province (CBS table, if given). The
addressable object (verblijfsobject, ligplaats, standplaats) that has the number as main or secondary address
(``heeftAlsHoofdadres``/``heeftAlsNevenadres``) gives the kind, the secondary flag and the object's status.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError, iterparse

import pandas as pd

from cdq.address.statuses import usable_status
from cdq.errors import InputError

logger = logging.getLogger(__name__)

#: Files of the extract that hold no addresses (buildings, inactive/under-investigation lists, non-BAG).
SKIP = re.compile(r"(PND|Inactief|InOnderzoek|NietBag)\d*", re.IGNORECASE)
OBJECTS = {"Nummeraanduiding", "OpenbareRuimte", "Woonplaats", "Verblijfsobject", "Ligplaats", "Standplaats",
           "GemeenteWoonplaatsRelatie"}
KINDS = {"Verblijfsobject": "verblijfsobject", "Ligplaats": "ligplaats", "Standplaats": "standplaats"}
_BATCH = 50_000
CHUNK_ROWS = 200_000

STAGING = """
CREATE TABLE num(id INTEGER PRIMARY KEY, postcode TEXT, number INTEGER, letter TEXT, addition TEXT,
    opr INTEGER, wpl INTEGER, status TEXT, kind TEXT, reg TEXT);
CREATE TABLE opr(id INTEGER PRIMARY KEY, name TEXT, wpl INTEGER, reg TEXT);
CREATE TABLE wpl(id INTEGER PRIMARY KEY, name TEXT, reg TEXT);
CREATE TABLE obj(id INTEGER PRIMARY KEY, kind TEXT, status TEXT, main INTEGER, side TEXT, reg TEXT);
CREATE TABLE gemwpl(wpl INTEGER PRIMARY KEY, gem TEXT, begin TEXT);
CREATE TABLE gem(code TEXT PRIMARY KEY, name TEXT, province TEXT);
"""
#: Keep the newest registration of each object (rows arrive in any order, several versions per object).
_NEWEST = "ON CONFLICT(id) DO UPDATE SET {sets} WHERE excluded.reg > reg"


def _upsert(table: str, columns: list[str]) -> str:
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    marks = ",".join("?" * len(columns))
    return f"INSERT INTO {table}({','.join(columns)}) VALUES ({marks}) " + _NEWEST.format(sets=sets)


SQL = {
    "num": _upsert("num", ["id", "postcode", "number", "letter", "addition", "opr", "wpl", "status", "kind",
                           "reg"]),
    "opr": _upsert("opr", ["id", "name", "wpl", "reg"]),
    "wpl": _upsert("wpl", ["id", "name", "reg"]),
    "obj": _upsert("obj", ["id", "kind", "status", "main", "side", "reg"]),
    "gemwpl": "INSERT INTO gemwpl VALUES (?,?,?) ON CONFLICT(wpl) DO UPDATE SET gem = excluded.gem, "
              "begin = excluded.begin WHERE excluded.begin > begin",
}

#: One row per number; the object that has it as main address wins over one that has it as a secondary one.
JOIN = """
WITH side(num, obj) AS (
    SELECT CAST(j.value AS INTEGER), o.id FROM obj o, json_each(o.side) j WHERE o.side IS NOT NULL),
link(num, kind, status, secondary, rank) AS (
    SELECT main, kind, status, 0, 0 FROM obj WHERE main IS NOT NULL
    UNION ALL SELECT s.num, o.kind, o.status, 1, 1 FROM side s JOIN obj o ON o.id = s.obj),
best(num, kind, status, secondary, rank) AS (SELECT num, kind, status, secondary, min(rank) FROM link GROUP BY num)
SELECT n.postcode, n.number, n.letter, n.addition, o.name AS street, w.name AS city,
       g.name AS municipality, g.province, printf('%016d', n.id) AS bag_id,
       CASE WHEN b.status IS NULL OR n.status_usable = 0 THEN n.status ELSE b.status END AS status,
       COALESCE(b.kind, n.kind) AS kind, COALESCE(b.secondary, 0) AS secondary
FROM (SELECT *, {usable} AS status_usable FROM num) n
LEFT JOIN opr o ON o.id = n.opr
LEFT JOIN wpl w ON w.id = COALESCE(n.wpl, o.wpl)
LEFT JOIN gemwpl gw ON gw.wpl = w.id
LEFT JOIN gem g ON g.code = gw.gem
LEFT JOIN best b ON b.num = n.id
"""


def text_columns(chunk: pd.DataFrame) -> pd.DataFrame:
    """Every value as text, ``None`` where missing or empty (``astype(str)`` would write "None")."""
    out = chunk.astype(object)
    out = out.where(out.notna(), None)
    for column in out.columns:
        out[column] = [None if v is None or v == "" else str(v) for v in out[column].tolist()]
    return out


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


class _Current:
    """Is a ``voorkomen`` current on the extract date?"""

    def __init__(self, standdatum: str | None):
        self.standdatum = standdatum

    def __call__(self, begin: str | None, end: str | None) -> bool:
        day = self.standdatum
        if end and (day is None or end[:10] <= day):
            return False
        return not (day and begin and begin[:10] > day)


def _fields(obj: Element) -> dict[str, Any]:
    """The direct children of a BAG object (and its Voorkomen) by local name; references by relation name."""
    out: dict[str, Any] = {"side": []}
    for child in obj:
        name = _local(child.tag)
        if name == "voorkomen":
            for part in child.iter():
                out[_local(part.tag)] = _text(part)
        elif name == "heeftAlsNevenadres":
            out["side"].extend(_text(ref) for ref in child)
        elif name in ("heeftAlsHoofdadres", "ligtAan", "ligtIn", "gerelateerdeWoonplaats",
                      "gerelateerdeGemeente", "tijdvakgeldigheid"):
            for part in child.iter():
                if part is not child:
                    out[f"{name}.{_local(part.tag)}"] = _text(part)
        elif name != "geometrie":
            out[name] = _text(child)
    return out


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _rows(kind: str, f: dict[str, Any], current: _Current) -> tuple[str, tuple] | None:
    """One staging row for a BAG object, or ``None`` if this version is not current."""
    if kind == "GemeenteWoonplaatsRelatie":
        if not current(f.get("tijdvakgeldigheid.begindatumTijdvakGeldigheid"),
                       f.get("tijdvakgeldigheid.einddatumTijdvakGeldigheid")):
            return None
        return "gemwpl", (_int(f.get("gerelateerdeWoonplaats.identificatie")),
                          f.get("gerelateerdeGemeente.identificatie"),
                          f.get("tijdvakgeldigheid.begindatumTijdvakGeldigheid") or "")
    if not current(f.get("beginGeldigheid"), f.get("eindGeldigheid")):
        return None
    ident, reg = _int(f.get("identificatie")), f.get("tijdstipRegistratie") or ""
    if ident is None:
        return None
    if kind == "Nummeraanduiding":
        return "num", (ident, f.get("postcode"), _int(f.get("huisnummer")), f.get("huisletter"),
                       f.get("huisnummertoevoeging"), _int(f.get("ligtAan.OpenbareRuimteRef")),
                       _int(f.get("ligtIn.WoonplaatsRef")), f.get("status"),
                       (f.get("typeAdresseerbaarObject") or "").lower(), reg)
    if kind == "OpenbareRuimte":
        return "opr", (ident, f.get("naam"), _int(f.get("ligtIn.WoonplaatsRef")), reg)
    if kind == "Woonplaats":
        return "wpl", (ident, f.get("naam"), reg)
    side = [s for s in f["side"] if s]
    return "obj", (ident, KINDS[kind], f.get("status"), _int(f.get("heeftAlsHoofdadres.NummeraanduidingRef")),
                   "[" + ",".join(str(int(s)) for s in side) + "]" if side else None, reg)


def parse_stream(handle: IO[bytes], name: str, current: _Current,
                 sink: Callable[[str, tuple], None], info: dict[str, str]) -> int:
    """Stream one XML file: every current object goes to ``sink``; returns the number of objects read."""
    count = 0
    open_elements: list[Element] = []
    try:
        for event, element in iterparse(handle, events=("start", "end")):
            if event == "start":
                open_elements.append(element)
                continue
            open_elements.pop()
            name_ = _local(element.tag)
            if name_ == "StandTechnischeDatum" and element.text:
                info.setdefault("standdatum", element.text.strip())
                current.standdatum = current.standdatum or element.text.strip()
            elif name_ in OBJECTS:
                row = _rows(name_, _fields(element), current)
                if row is not None:
                    sink(*row)
                count += 1
                # drop what is read (the object and everything its open ancestors hold): memory stays flat
                element.clear()
                for ancestor in open_elements:
                    ancestor.clear()
    except ParseError as e:
        raise InputError(name, f"not a readable LV BAG XML file ({e})", hint="check the download") from e
    return count


@contextmanager
def _seekable(outer: zipfile.ZipFile, member: zipfile.ZipInfo, scratch: Path) -> Iterator[zipfile.ZipFile]:
    """An inner zip opened from a temporary copy (a zip needs seeking; a compressed member cannot seek cheaply)."""
    handle, tmp = tempfile.mkstemp(suffix=".zip", dir=scratch)
    try:
        with os.fdopen(handle, "wb") as out, outer.open(member) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        with zipfile.ZipFile(tmp) as inner:
            yield inner
    finally:
        Path(tmp).unlink(missing_ok=True)


def _wanted(name: str) -> bool:
    base = Path(name).name
    return not base.startswith(".") and not SKIP.search(base)


def xml_members(path: Path, scratch: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """Every XML file of an extract (zip of zips, inner zip, folder or one file) as an open binary stream."""
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if child.suffix.lower() in (".xml", ".zip") and _wanted(child.name):
                yield from xml_members(child, scratch)
        return
    if path.suffix.lower() == ".xml":
        with path.open("rb") as handle:
            yield str(path), handle
        return
    yield from _zip_members(zipfile.ZipFile(path), str(path), scratch)


def _zip_members(archive: zipfile.ZipFile, label: str, scratch: Path) -> Iterator[tuple[str, IO[bytes]]]:
    with archive:
        # the delivery document first: it carries the extract date every other file is judged by
        members = sorted(archive.infolist(), key=lambda m: "Leveringsdocument" not in m.filename)
        for member in members:
            name = member.filename
            if member.is_dir() or not _wanted(name):
                continue
            if name.lower().endswith(".xml"):
                with archive.open(member) as handle:
                    yield f"{label}!{name}", handle
            elif name.lower().endswith(".zip"):
                with _seekable(archive, member, scratch) as inner:
                    yield from _zip_members(inner, f"{label}!{name}", scratch)


def read_cbs(path: str | Path | None, standdatum: str | None) -> list[tuple[str, str, str]]:
    """CBS municipality table (``gemeentecode;gemeentenaam;provincienaam;begindatum;einddatum``) on a date."""
    if path is None:
        return []
    try:
        table = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read the CBS municipality table ({e})") from e
    table.columns = [c.strip().lower() for c in table.columns]
    needed = {"gemeentecode", "gemeentenaam", "provincienaam"}
    if not needed <= set(table.columns):
        raise InputError(path, f"missing column(s) {', '.join(sorted(needed - set(table.columns)))}",
                         hint="use CBS's gemeentelijke indeling (gemeentecode;gemeentenaam;provincienaam)")
    if standdatum and {"begindatum", "einddatum"} <= set(table.columns):
        valid = (table["begindatum"] <= standdatum) & ((table["einddatum"] == "") | (table["einddatum"] > standdatum))
        table = table[valid]
    codes = table["gemeentecode"].str.replace("GM", "", regex=False).str.zfill(4)
    return list(zip(codes, table["gemeentenaam"], table["provincienaam"]))


def read_lvbag(path: str | Path, *, municipalities: str | Path | None = None, info: dict | None = None,
               chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield load chunks (:data:`cdq.address.store.LOAD_COLUMNS`) from an LV BAG 2.0 extract.

    ``info`` receives ``standdatum`` (the extract date) and the object counts.
    """
    path = Path(path)
    info = info if info is not None else {}
    scratch = Path(tempfile.mkdtemp(prefix="cdq-lvbag-"))
    conn = sqlite3.connect(scratch / "staging.sqlite")
    try:
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-200000;"
                           + STAGING)
        current = _Current(None)
        pending: dict[str, list[tuple]] = {k: [] for k in SQL}

        def sink(table: str, row: tuple) -> None:
            rows = pending[table]
            rows.append(row)
            if len(rows) >= _BATCH:
                conn.executemany(SQL[table], rows)
                rows.clear()

        objects = 0
        for name, handle in xml_members(path, scratch):
            read = parse_stream(handle, name, current, sink, info)
            objects += read
            logger.info("LV BAG: %s: %d objects", Path(name.replace("!", "/")).name, read)
        for table, rows in pending.items():
            conn.executemany(SQL[table], rows)
        if objects == 0:
            raise InputError(path, "no BAG objects in this file (not an LV BAG 2.0 extract)",
                             hint="choose another --format")
        conn.executemany("INSERT OR REPLACE INTO gem VALUES (?,?,?)", read_cbs(municipalities, current.standdatum))
        conn.commit()
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("num", "opr", "wpl", "obj")}
        info.update({f"lvbag_{t}": n for t, n in counts.items()})
        missing = [f"{label} ({t.upper()})" for t, label in (("num", "numbers"), ("opr", "public spaces"),
                                                                   ("wpl", "places")) if counts[t] == 0]
        if missing:
            raise InputError(path, f"the extract has no {', '.join(missing)}: an address needs all three",
                             hint="load the whole extract (the zip or the folder), not one of its parts")
        if not municipalities:
            logger.warning("no CBS municipality table given (--municipalities): municipality and province stay "
                           "empty")
        conn.create_function("usable", 1, lambda s: int(usable_status(s)), deterministic=True)
        sql = JOIN.format(usable="usable(status)")
        for chunk in pd.read_sql_query(sql, conn, chunksize=chunk_rows):
            yield text_columns(chunk)
    finally:
        conn.close()
        shutil.rmtree(scratch, ignore_errors=True)
