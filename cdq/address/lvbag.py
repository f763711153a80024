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
import multiprocessing
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
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
CHUNK_ROWS = 100_000  # rows per chunk handed to the store: bounds the load's memory

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


#: Columns staged as integers (the rest as text); an empty value is NULL.
_INTEGERS = {"id", "number", "opr", "wpl", "main"}


def _upsert(table: str, columns: list[str]) -> str:
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    marks = ",".join("CAST(NULLIF(?, '') AS INTEGER)" if c in _INTEGERS else "?" if c == "reg" else "NULLIF(?, '')"
                     for c in columns)
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
#: Number -> its object (kind, status, secondary?): main addresses first, so they win over secondary ones.
#: Built as an on-disk table, not a CTE: a CTE over ten million numbers was held in memory.
LINK = [
    "CREATE TABLE rest.link(num INTEGER PRIMARY KEY, kind TEXT, status TEXT, secondary INTEGER)",
    "INSERT INTO rest.link SELECT main, kind, status, 0 FROM rest.obj WHERE main IS NOT NULL "
    "ON CONFLICT(num) DO NOTHING",
    "INSERT INTO rest.link SELECT CAST(j.value AS INTEGER), o.kind, o.status, 1 FROM rest.obj o, json_each(o.side) j "
    "WHERE o.side IS NOT NULL ON CONFLICT(num) DO NOTHING",
]
#: One row per number.
JOIN = """
SELECT n.postcode, n.number, n.letter, n.addition, o.name AS street, w.name AS city,
       g.name AS municipality, g.province, printf('%016d', n.id) AS bag_id,
       CASE WHEN b.status IS NULL OR {usable} = 0 THEN n.status ELSE b.status END AS status,
       COALESCE(b.kind, n.kind) AS kind, COALESCE(b.secondary, 0) AS secondary
FROM main.num n
LEFT JOIN rest.opr o ON o.id = n.opr
LEFT JOIN rest.wpl w ON w.id = COALESCE(n.wpl, o.wpl)
LEFT JOIN rest.gemwpl gw ON gw.wpl = w.id
LEFT JOIN rest.gem g ON g.code = gw.gem
LEFT JOIN rest.link b ON b.num = n.id
"""


def text_columns(chunk: pd.DataFrame) -> pd.DataFrame:
    """Every value as text, ``None`` where missing or empty (``astype(str)`` would write "None")."""
    out = chunk.astype(object)
    out = out.where(out.notna(), None)
    for column in out.columns:
        out[column] = [None if v is None or v == "" else str(v) for v in out[column].tolist()]
    return out


@lru_cache(maxsize=4096)
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
                   "[" + ",".join(f'"{s}"' for s in side) + "]" if side else None, reg)


#: One XSLT pass over a batch of objects writes one tab-separated line per current object (``kind`` first), so
#: per object only a ``split`` runs in Python. A version is current unless it ended on or before the extract date
#: or begins after it (dates compared as yyyymmdd numbers; ``day`` 99999999 when the date is unknown).
_XSLT = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
 xmlns:O="{O}" xmlns:H="{H}" xmlns:R="{R}">
<xsl:output method="text" encoding="utf-8"/>
<xsl:param name="day" select="99999999"/><xsl:param name="upto" select="0"/>
<xsl:template match="/"><xsl:apply-templates select="(//O:{kind}[*])[position() &lt;= $upto]"/></xsl:template>
<xsl:template name="v"><xsl:param name="x"/><xsl:text>&#9;</xsl:text><xsl:value-of select="normalize-space($x)"/>
</xsl:template>
<xsl:template match="*"><xsl:variable name="v" select="O:voorkomen/H:Voorkomen"/>
<xsl:if test="(not($v/H:eindGeldigheid) or number(translate(substring($v/H:eindGeldigheid,1,10),'-','')) &gt; $day)
  and not(number(translate(substring($v/H:beginGeldigheid,1,10),'-','')) &gt; $day)">
<xsl:value-of select="local-name()"/>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:identificatie"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="$v/H:tijdstipRegistratie"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:status"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:postcode"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:huisnummer"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:huisletter"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:huisnummertoevoeging"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:ligtAan/R:OpenbareRuimteRef"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:ligtIn/R:WoonplaatsRef"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:typeAdresseerbaarObject"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:naam"/></xsl:call-template>
<xsl:call-template name="v"><xsl:with-param name="x" select="O:heeftAlsHoofdadres/R:NummeraanduidingRef"/>
</xsl:call-template><xsl:text>&#9;</xsl:text>
<xsl:for-each select="O:heeftAlsNevenadres/R:NummeraanduidingRef">
<xsl:if test="position() = 1">[</xsl:if>"<xsl:value-of select="normalize-space(.)"/>"<xsl:choose>
<xsl:when test="position() = last()">]</xsl:when><xsl:otherwise>,</xsl:otherwise></xsl:choose></xsl:for-each>
<xsl:text>&#10;</xsl:text></xsl:if></xsl:template>
</xsl:stylesheet>"""
#: Line fields (after the kind): 0 id, 1 reg, 2 status, 3 postcode, 4 number, 5 letter, 6 addition, 7 opr,
#: 8 wpl, 9 type, 10 name, 11 main, 12 side. SQL turns empty into NULL and digits into integers.
_FIELDS = {"Nummeraanduiding": ("num", (0, 3, 4, 5, 6, 7, 8, 2, 9, 1)),
           "OpenbareRuimte": ("opr", (0, 10, 8, 1)), "Woonplaats": ("wpl", (0, 10, 1)),
           **{k: ("obj", (0, -1, 2, 11, 12, 1)) for k in KINDS}}
_BATCH_OBJECTS = 2_000  # objects per XSLT pass: bounds the part of the tree held (~1 KB of XML each)


def _namespaces(nsmap: dict[str | None, str]) -> dict[str, str]:
    """The extract's object, history and reference namespaces (their version is part of the URI)."""
    uris = [u for u in nsmap.values() if u]
    pick = {"O": "/objecten/v", "H": "/historie/v", "R": "/objecten-ref/v"}
    return {p: next((u for u in uris if part in u), f"urn:missing:{p}") for p, part in pick.items()}


@lru_cache(maxsize=32)
def _transform(kind: str, o: str, h: str, r: str) -> Any:
    """The XSLT for one object type (one type per batch: a single ``//`` walk over the batch)."""
    from lxml import etree

    return etree.XSLT(etree.XML(_XSLT.format(O=o, H=h, R=r, kind=kind).encode()))


class _Batch:
    """Objects of one XML file waiting for their XSLT pass; the pass writes their staging rows to ``sink``."""

    def __init__(self, current: _Current, sink: Callable[[str, tuple], None]):
        self.current, self.sink = current, sink
        self.size, self.last, self.kind = 0, None, ""

    def add(self, kind: str, element: Any) -> None:
        if kind != self.kind:
            self.flush()
        self.size, self.last, self.kind = self.size + 1, element, kind
        if self.size >= _BATCH_OBJECTS:
            self.flush()

    def flush(self) -> None:
        if self.last is None:
            return
        ns = _namespaces(self.last.nsmap)
        day = (self.current.standdatum or "9999-99-99")[:10].replace("-", "")
        text = str(_transform(self.kind, ns["O"], ns["H"], ns["R"])(self.last.getroottree(), day=day,
                                                                    upto=str(self.size)))
        for line in text.split("\n"):
            if line:
                self._row(line.split("\t"))
        _drop_before(self.last)
        self.size, self.last = 0, None

    def _row(self, parts: list[str]) -> None:
        table, order = _FIELDS[parts[0]]
        values = parts[1:]
        if not values[0].isdigit():
            return  # an object without a usable identificatie cannot be joined
        kind = KINDS.get(parts[0])
        row = tuple(kind if i < 0 else values[i] for i in order)
        if table == "num":
            row = row[:8] + ((row[8] or "").lower(),) + row[9:]
        self.sink(table, row)


def _drop_before(element: Any) -> None:
    """Clear ``element`` and delete everything before it and its ancestors (the real extract wraps every object
    in its own ``sl:stand``: deleting only the object's siblings would keep one wrapper per object)."""
    element.clear()
    node = element
    while node is not None:
        parent = node.getparent()
        if parent is not None:
            while node.getprevious() is not None:
                del parent[0]
        node = parent


def _parse_lxml(handle: IO[bytes], current: _Current, sink: Callable[[str, tuple], None],
                info: dict[str, str]) -> int:
    """The fast path: lxml's iterparse hands only the object elements to Python, and one XSLT pass per batch of
    objects reads their fields in C. What is read is deleted at once, so memory stays flat however large the file."""
    from lxml import etree

    count = 0
    batch = _Batch(current, sink)
    tags = [f"{{*}}{t}" for t in OBJECTS] + ["{*}StandTechnischeDatum"]
    for _event, element in etree.iterparse(handle, events=("end",), tag=tags, huge_tree=True,
                                           remove_blank_text=True, remove_comments=True, remove_pis=True):
        kind = etree.QName(element).localname
        if kind == "StandTechnischeDatum":
            if element.text:
                info.setdefault("standdatum", element.text.strip())
                current.standdatum = current.standdatum or element.text.strip()
            continue
        count += 1
        if kind in _FIELDS:
            batch.add(kind, element)
            continue
        row = _rows(kind, _fields(element), current)  # the GEM-WPL relation: a few thousand, read one by one
        if row is not None:
            sink(*row)
        _drop_before(element)
    batch.flush()
    return count


def parse_stream(handle: IO[bytes], name: str, current: _Current,
                 sink: Callable[[str, tuple], None], info: dict[str, str]) -> int:
    """Stream one XML file: every current object goes to ``sink``; returns the number of objects read.

    Uses lxml's iterparse when lxml is installed (``pip install cdq[bag]``: about ten times faster on the
    national extract), else the standard library's.
    """
    try:
        import lxml.etree
    except ImportError:
        return _parse_stdlib(handle, name, current, sink, info)
    try:
        return _parse_lxml(handle, current, sink, info)
    except lxml.etree.XMLSyntaxError as e:
        raise InputError(name, f"not a readable LV BAG XML file ({e})", hint="check the download") from e


def _parse_stdlib(handle: IO[bytes], name: str, current: _Current,
                  sink: Callable[[str, tuple], None], info: dict[str, str]) -> int:
    """The standard library's iterparse (every element passes through Python: slower, same result)."""
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


_NUMBERS = re.compile(r"NUM\d", re.IGNORECASE)
_REST = re.compile(r"(VBO|OPR|WPL|LIG|STA)\d|GEM-WPL|Leveringsdocument", re.IGNORECASE)


def _part_of(name: str) -> str | None:
    """Which parse worker reads a file: ``numbers`` (NUM files), ``rest`` (the others), ``None`` (a container
    whose name says nothing, e.g. a municipality's zip: both look inside)."""
    base = Path(name).name
    return "numbers" if _NUMBERS.search(base) else "rest" if _REST.search(base) else None


def _take(name: str, part: str | None, leaf: bool) -> bool:
    mine = _part_of(name)
    if mine is None:
        return part in (None, "rest") if leaf else True
    return part is None or mine == part


def xml_members(path: Path, scratch: Path, part: str | None = None) -> Iterator[tuple[str, IO[bytes]]]:
    """Every XML file of an extract (zip of zips, inner zip, folder or one file) as an open binary stream;
    with ``part``, only the files of that part (see :func:`_part_of`)."""
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if child.suffix.lower() in (".xml", ".zip") and _wanted(child.name) and _take(
                    child.name, part, child.suffix.lower() == ".xml"):
                yield from xml_members(child, scratch, _narrow(child.name, part))
        return
    if path.suffix.lower() == ".xml":
        if _take(path.name, part, True):
            with path.open("rb") as handle:
                yield str(path), handle
        return
    yield from _zip_members(zipfile.ZipFile(path), str(path), scratch, part)


def _narrow(name: str, part: str | None) -> str | None:
    """Inside a container that belongs to one part, every file belongs to it."""
    return None if _part_of(name) is not None else part


def _zip_members(archive: zipfile.ZipFile, label: str, scratch: Path,
                 part: str | None) -> Iterator[tuple[str, IO[bytes]]]:
    with archive:
        # the delivery document first: it carries the extract date every other file is judged by
        members = sorted(archive.infolist(), key=lambda m: "Leveringsdocument" not in m.filename)
        for member in members:
            name = member.filename
            if member.is_dir() or not _wanted(name):
                continue
            if name.lower().endswith(".xml") and _take(name, part, True):
                with archive.open(member) as handle:
                    yield f"{label}!{name}", handle
            elif name.lower().endswith(".zip") and _take(name, part, False):
                with _seekable(archive, member, scratch) as inner:
                    yield from _zip_members(inner, f"{label}!{name}", scratch, _narrow(name, part))


def stage_part(path: str, scratch: str, part: str | None, db: str) -> dict[str, Any]:
    """Parse the files of one part of an extract into the staging SQLite file ``db`` (a worker process)."""
    conn = sqlite3.connect(db)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-32000;" + STAGING)
    current = _Current(None)
    info: dict[str, Any] = {}
    pending: dict[str, list[tuple]] = {k: [] for k in SQL}

    def sink(table: str, row: tuple) -> None:
        rows = pending[table]
        rows.append(row)
        if len(rows) >= _BATCH:
            conn.executemany(SQL[table], rows)
            rows.clear()

    objects = 0
    try:
        for name, handle in xml_members(Path(path), Path(scratch), part):
            read = parse_stream(handle, name, current, sink, info)
            objects += read
            logger.info("LV BAG: %s: %d objects", Path(name.replace("!", "/")).name, read)
        for table, rows in pending.items():
            conn.executemany(SQL[table], rows)
        conn.commit()
    except InputError as e:
        # handed back as plain values: the parent raises it again (an exception object may not pickle)
        return {"error": (e.path, e.problem, e.hint)}
    finally:
        conn.close()
    return {"objects": objects, "standdatum": current.standdatum or info.get("standdatum"), "peak": _peak()}


def _peak() -> int:
    """This process's peak resident memory in bytes (Linux), 0 where unknown."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def _stage(path: Path, scratch: Path) -> tuple[list[str], dict[str, Any]]:
    """Parse numbers and the other objects in two worker processes (each into its own staging file) where
    the machine has two cores; returns the staging files (numbers first) and what was read."""
    dbs = [str(scratch / "numbers.sqlite"), str(scratch / "rest.sqlite")]
    jobs = [(str(path), str(scratch), part, db) for part, db in zip(("numbers", "rest"), dbs)]
    if (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods():
        # fork: the workers need nothing from the parent but the arguments (and spawn would re-import __main__)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            results = list(pool.map(stage_part, *zip(*jobs)))
    else:
        results = [stage_part(*job) for job in jobs]
    for result in results:
        if "error" in result:
            where, message, hint = result["error"]
            raise InputError(where, message, hint=hint)
    days = [r["standdatum"] for r in results if r["standdatum"]]
    return dbs, {"objects": sum(r["objects"] for r in results), "standdatum": min(days) if days else None,
                 "worker_peaks": [r["peak"] for r in results]}


def _merge(conn: sqlite3.Connection) -> None:
    """Numbers found in the rest's files go to the numbers' staging file and vice versa (rarely any)."""
    for schema, other, tables in (("main", "rest", ["num"]), ("rest", "main", ["opr", "wpl", "obj", "gemwpl"])):
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA {other}.table_info({table})")]
            if conn.execute(f"SELECT 1 FROM {other}.{table} LIMIT 1").fetchone() is None:
                continue
            rows = conn.execute(f"SELECT {','.join(columns)} FROM {other}.{table}").fetchall()
            conn.executemany(SQL[table].replace(f"INSERT INTO {table}", f"INSERT INTO {schema}.{table}"), rows)


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
    conn = None
    try:
        dbs, read = _stage(path, scratch)
        if read["objects"] == 0:
            raise InputError(path, "no BAG objects in this file (not an LV BAG 2.0 extract)",
                             hint="choose another --format")
        if read["standdatum"]:
            info["standdatum"] = read["standdatum"]
        info["parse_worker_peak_bytes"] = sum(read["worker_peaks"])
        current = _Current(read["standdatum"])
        conn = sqlite3.connect(dbs[0])
        conn.execute("PRAGMA cache_size=-64000")
        conn.execute("ATTACH DATABASE ? AS rest", (dbs[1],))
        _merge(conn)
        conn.executemany("INSERT OR REPLACE INTO rest.gem VALUES (?,?,?)",
                         read_cbs(municipalities, current.standdatum))
        conn.commit()
        counts = {t: conn.execute(f"SELECT count(*) FROM {'main' if t == 'num' else 'rest'}.{t}").fetchone()[0]
                  for t in ("num", "opr", "wpl", "obj")}
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
        for statement in LINK:
            conn.execute(statement)
        conn.commit()
        sql = JOIN.format(usable="usable(n.status)")
        for chunk in pd.read_sql_query(sql, conn, chunksize=chunk_rows):
            yield text_columns(chunk)
    finally:
        if conn is not None:
            conn.close()
        shutil.rmtree(scratch, ignore_errors=True)
