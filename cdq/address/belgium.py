"""Belgian addresses: load BeST-Address (the federal register of the three regions) and complete/verify against it.

BeST-Address is published by FPS BOSA at https://opendata.bosa.be as one CSV per region (``openaddress-bevlg``,
``openaddress-bewal``, ``openaddress-bebru``, each zipped) with the 20-column header that FPS BOSA's converter
writes (``BestWriterCSVOpenAddresses`` in github.com/Fedict/best-tools)::

    EPSG:31370_x,EPSG:31370_y,EPSG:4326_lat,EPSG:4326_lon,address_id,box_number,house_number,municipality_id,
    municipality_name_de,municipality_name_fr,municipality_name_nl,postcode,postname_fr,postname_nl,street_id,
    streetname_de,streetname_fr,streetname_nl,region_code,status

Street and municipality names come in Dutch, French and German where the region has them (Brussels: both Dutch
and French). A Belgian postcode is four digits and covers many streets, so a record is found by postcode +
street (in any of its languages) + house number (+ box number, "bus"/"bte"); the answer keeps the language the
street was typed in. ``status`` ``current`` is usable; ``retired``/``proposed``/``reserved`` are known but
never verified (``reference_data/address_statuses.yaml``). Loading one region replaces only that region.
"""

from __future__ import annotations

import io
import logging
import re
import time
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdq.address.keys import per_distinct
from cdq.address.statuses import usable_status
from cdq.address.store import release_chunk
from cdq.address.text import city_key, similar_keys, street_key
from cdq.errors import InputError
from cdq.log import Progress

logger = logging.getLogger(__name__)

HEADER = ["EPSG:31370_x", "EPSG:31370_y", "EPSG:4326_lat", "EPSG:4326_lon", "address_id", "box_number",
          "house_number", "municipality_id", "municipality_name_de", "municipality_name_fr", "municipality_name_nl",
          "postcode", "postname_fr", "postname_nl", "street_id", "streetname_de", "streetname_fr", "streetname_nl",
          "region_code", "status"]
REQUIRED = ["address_id", "box_number", "house_number", "postcode", "streetname_nl", "streetname_fr",
            "municipality_name_nl", "municipality_name_fr", "region_code", "status"]
SCHEMA = """
CREATE TABLE IF NOT EXISTS be_streets(id INTEGER PRIMARY KEY, nl TEXT, fr TEXT, de TEXT, UNIQUE(nl, fr, de));
CREATE TABLE IF NOT EXISTS be_places(id INTEGER PRIMARY KEY, municipality_nl TEXT, municipality_fr TEXT,
    municipality_de TEXT, postname_nl TEXT, postname_fr TEXT,
    UNIQUE(municipality_nl, municipality_fr, municipality_de, postname_nl, postname_fr));
CREATE TABLE IF NOT EXISTS be_addresses(postcode INTEGER NOT NULL, street_id INTEGER NOT NULL, number TEXT NOT NULL,
    box TEXT NOT NULL, place_id INTEGER NOT NULL, best_id TEXT, region TEXT NOT NULL, status TEXT,
    usable INTEGER NOT NULL, PRIMARY KEY(postcode, street_id, number, box)) WITHOUT ROWID;
"""
#: Country values that mean Belgium (compared lower-cased, accents kept as typed).
BE_COUNTRIES = {"be", "bel", "belgie", "belgië", "belgique", "belgium", "belgien", "056", "56", "b"}
_NUMBER = re.compile(r"^\s*(\d{1,5}\s*(?:[a-z]{1,3}|bis|ter)?)\s*(?:(?:bus|bte|boîte|boite|box|b\.?|/|-)\s*"
                     r"([0-9a-z]{1,6}))?\s*$", re.IGNORECASE)
_BOX = re.compile(r"^\s*(?:bus|bte|boîte|boite|box|b\.?|/)?\s*([0-9a-z]{1,6})\s*$", re.IGNORECASE)


def read_best_csv(path: str | Path, chunk_rows: int = 200_000) -> Iterator[pd.DataFrame]:
    """Yield chunks of a BeST-Address CSV (plain or the zipped download) with the :data:`HEADER` columns."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            archive = zipfile.ZipFile(path)
            name = next(n for n in archive.namelist() if n.lower().endswith(".csv"))
            handle: Any = io.TextIOWrapper(archive.open(name), encoding="utf-8-sig")
        else:
            handle = path.open(encoding="utf-8-sig")
        with handle:
            reader = pd.read_csv(handle, dtype=str, keep_default_na=False, chunksize=chunk_rows)
            for number, chunk in enumerate(reader):
                if number == 0:
                    missing = [c for c in REQUIRED if c not in chunk.columns]
                    if missing:
                        raise InputError(path, f"missing column(s) {', '.join(missing)}",
                                         hint="a BeST-Address openaddress-be*.csv has " + ",".join(HEADER))
                yield chunk
    except (UnicodeDecodeError, pd.errors.ParserError, StopIteration) as e:
        raise InputError(path, f"not a readable BeST-Address CSV ({type(e).__name__})") from e


def _ids(conn: Any, table: str, columns: list[str], frame: pd.DataFrame, cache: dict[tuple, int]) -> np.ndarray:
    """Dictionary ids for the distinct rows of ``frame[columns]`` (new ones inserted; earlier loads kept)."""
    if not cache:
        cache.update({tuple(r[1:]): int(r[0]) for r in conn.execute(f"SELECT * FROM {table}")})
    keys = list(zip(*(frame[c].tolist() for c in columns)))
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    ids = np.empty(len(uniques), dtype=np.int64)
    new = []
    for i, key in enumerate(uniques):
        if key not in cache:
            cache[key] = max(cache.values(), default=0) + 1
            new.append((cache[key], *key))
        ids[i] = cache[key]
    if new:
        conn.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * (len(columns) + 1))})", new)
    return ids[codes]


def load_best(store: Any, chunks: Iterable[pd.DataFrame], *, source: str, progress: Progress | None = None,
              fmt: str = "best-csv") -> dict:
    """Load BeST-Address chunks into ``store``; each region found replaces that region's earlier rows."""
    start = time.monotonic()
    conn = store.conn
    conn.executescript(SCHEMA)
    streets: dict[tuple, int] = {}
    places: dict[tuple, int] = {}
    regions: set[str] = set()
    read = skipped = 0
    conn.execute("BEGIN")
    for chunk in chunks:
        read += len(chunk)
        for region in set(chunk["region_code"]) - regions:
            conn.execute("DELETE FROM be_addresses WHERE region = ?", (region,))
            regions.add(region)
        good = chunk["postcode"].str.fullmatch(r"\d{4}") & (chunk["house_number"].str.strip() != "") & (
            (chunk["streetname_nl"] != "") | (chunk["streetname_fr"] != "") | (chunk["streetname_de"] != ""))
        skipped += int((~good).sum())
        chunk = chunk[good].reindex(columns=HEADER, fill_value="")
        street_ids = _ids(conn, "be_streets", ["streetname_nl", "streetname_fr", "streetname_de"], chunk, streets)
        place_ids = _ids(conn, "be_places", ["municipality_name_nl", "municipality_name_fr", "municipality_name_de",
                                             "postname_nl", "postname_fr"], chunk, places)
        usable = [int(usable_status(s)) for s in chunk["status"]]
        best_id = (chunk["region_code"] + ":" + chunk["address_id"]).tolist()
        conn.executemany("INSERT OR REPLACE INTO be_addresses VALUES (?,?,?,?,?,?,?,?,?)", zip(
            chunk["postcode"].astype(int).tolist(), street_ids.tolist(), chunk["house_number"].str.strip().tolist(),
            chunk["box_number"].str.strip().tolist(), place_ids.tolist(), best_id, chunk["region_code"].tolist(),
            chunk["status"].tolist(), usable))
        del chunk
        release_chunk()
        if progress:
            progress(read, 0)
    conn.execute("COMMIT")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    summary: dict[str, Any] = {"read": read, "skipped_malformed": skipped, "format": fmt, "source": source,
                               "standdatum": "", "conflicting_duplicates": 0, "loaded_at": now}
    rows = 0
    for region in sorted(regions):
        count = conn.execute("SELECT count(*) FROM be_addresses WHERE region = ?", (region,)).fetchone()[0]
        rows += count
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", [
            (f"be:{region}:rows", str(count)), (f"be:{region}:source", source), (f"be:{region}:loaded_at", now)])
    conn.commit()
    summary.update(rows=rows, duplicates=read - skipped - rows, regions=sorted(regions),
                   not_usable=sum(conn.execute("SELECT count(*) FROM be_addresses WHERE usable = 0 AND region = ?",
                                                (region,)).fetchone()[0] for region in regions),
                   seconds=round(time.monotonic() - start, 1), size_bytes=store.path.stat().st_size)
    logger.info("loaded %d Belgian addresses (%s) in %.1fs", rows, ", ".join(sorted(regions)), summary["seconds"])
    return summary


def has_belgium(store: Any) -> bool:
    conn = getattr(store, "conn", None)
    if conn is None:
        return False
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'be_addresses'").fetchone() is not None


def split_be_number(number: str | None, addition: str | None) -> tuple[str | None, str | None]:
    """(house number, box) from Belgian spellings: "12 bus 3", "12/3", "12 bte 3", "12A", "12bis".

    Examples:
        >>> split_be_number("12 bus 3", None), split_be_number("12/3", None), split_be_number("12A", "bte 0002")
        (('12', '3'), ('12', '3'), ('12A', '0002'))
    """
    match = _NUMBER.match(number or "")
    if not match:
        return None, None
    box = match.group(2)
    if addition:
        typed = _BOX.match(addition)
        box = typed.group(1) if typed else addition.strip()
    return re.sub(r"\s+", "", match.group(1)), box


def detect(given: pd.DataFrame, country: pd.Series | None, store: Any) -> np.ndarray:
    """Per record: is it a Belgian address? The country column decides; without one, a four-digit postcode
    that the loaded BeST-Address knows (or a "bus"/"bte" box number) makes it Belgian."""
    n = len(given)
    loaded = has_belgium(store)
    if country is None and not loaded:
        return np.zeros(n, dtype=bool)  # the common case costs nothing
    typed = (country.reset_index(drop=True).astype(object) if country is not None
             else pd.Series([None] * n, dtype=object))
    lowered = per_distinct(typed, lambda v: str(v).strip().lower() or None)
    said_be = np.array([v in BE_COUNTRIES for v in lowered], dtype=bool)
    said_other = np.array([v is not None and v not in BE_COUNTRIES for v in lowered], dtype=bool)
    four = given["pc"].fillna("").astype(str).str.fullmatch(r"\d{4}").to_numpy()
    guess = ~said_be & ~said_other & four
    if guess.any() and loaded:
        codes = sorted({int(p) for p in given["pc"].to_numpy(dtype=object)[guess]})
        marks = ",".join("?" * len(codes))
        known = {r[0] for r in store.conn.execute(
            f"SELECT DISTINCT postcode FROM be_addresses WHERE postcode IN ({marks})", codes)}
        guess &= np.array([int(p) in known if isinstance(p, str) and p.isdigit() else False
                           for p in given["pc"].to_numpy(dtype=object)])
    else:
        guess[:] = False
    return said_be | guess


def _names(conn: Any, postcode: int) -> pd.DataFrame:
    return pd.read_sql_query(
        "SELECT DISTINCT s.id, s.nl, s.fr, s.de FROM be_addresses a JOIN be_streets s ON s.id = a.street_id "
        "WHERE a.postcode = ?", conn, params=(postcode,))


def _street_match(typed: str, streets: pd.DataFrame) -> tuple[int, str, bool] | None:
    """(street id, the register's name in the typed language, exact?) for a typed street at a postcode."""
    key = street_key(typed)
    close = []
    for sid, *names in streets.itertuples(index=False):
        for name in names:
            if not name:
                continue
            if street_key(name) == key:
                return int(sid), name, name == typed
            if similar_keys(key, street_key(name)):
                close.append((int(sid), name))
    ids = {c[0] for c in close}
    return (close[0][0], close[0][1], False) if len(ids) == 1 else None


def _city(typed: str | None, place: pd.Series) -> tuple[str | None, str | None, str]:
    """(city, municipality, outcome) in the language (and the part of the municipality) the city was typed in."""
    default = place["municipality_nl"] or place["municipality_fr"] or place["municipality_de"]
    if not typed:
        return default, default, "completed"
    key = city_key(typed)
    columns = ["postname_nl", "postname_fr", "municipality_nl", "municipality_fr", "municipality_de"]
    names = [(c, place[c]) for c in columns if place[c]]
    for outcome, fits in (("verified", lambda n: city_key(n) == key),
                          ("corrected", lambda n: similar_keys(key, city_key(n)))):
        for column, name in names:
            if fits(name):
                municipality = place["municipality_" + column[-2:]] or default
                return name, municipality, outcome if outcome != "verified" or name == typed else "standardised"
    return typed, default, "mismatch"


def complete_be(given: pd.DataFrame, rows: np.ndarray, store: Any, result: Any, findings: Any,
                house_number: pd.Series, addition: pd.Series) -> None:
    """Verify/complete the Belgian records at positions ``rows`` (postcode + street + number + box)."""
    if len(rows) == 0:
        return
    if not has_belgium(store):
        result.status[rows] = "no_reference"
        return
    conn = store.conn
    places = pd.read_sql_query("SELECT * FROM be_places", conn, index_col="id")
    street_cache: dict[int, pd.DataFrame] = {}
    for row in rows:
        pc, street = given["pc"].iat[row], given["street"].iat[row]
        number, box = split_be_number(house_number.iat[row], addition.iat[row])
        if not (isinstance(pc, str) and pc.isdigit() and len(pc) == 4) or number is None or not street:
            result.status[row] = "invalid"
            findings.add(np.array([row]), "address_syntax", "postcode", pc, "error", "ADDRESS_INCOMPLETE",
                         "a Belgian address needs a 4-digit postcode, a street and a house number")
            continue
        code = int(pc)
        streets = street_cache.setdefault(code, _names(conn, code))
        found = _street_match(street, streets)
        if found is None:
            result.status[row] = "not_found"
            findings.add(np.array([row]), "best_lookup", "street", street, "error", "ADDRESS_NOT_FOUND",
                         "this street does not exist under this Belgian postcode in BeST-Address")
            continue
        _one(row, code, found, number, box, given, places, conn, result, findings)


def _box(text: str | None) -> str:
    """A box number compared without case and leading zeros ("0001" is "1")."""
    return (text or "").strip().upper().lstrip("0")


def _one(row: int, code: int, found: tuple[int, str, bool], number: str, box: str | None, given: pd.DataFrame,
         places: pd.DataFrame, conn: Any, result: Any, findings: Any) -> None:
    """Settle one Belgian record whose street was found."""
    sid, street_name, exact_street = found
    cands = pd.read_sql_query(
        "SELECT number, box, place_id, best_id, status, usable FROM be_addresses "
        "WHERE postcode = ? AND street_id = ? AND upper(number) = upper(?)", conn, params=(code, sid, number))
    pos = np.array([row])
    usable = cands[cands["usable"] == 1]
    if cands.empty:
        result.status[row] = "not_found"
        findings.add(pos, "best_lookup", "house_number", number, "error", "ADDRESS_NOT_FOUND",
                     "this house number does not exist in this street in BeST-Address")
        return
    if box:
        hit = usable[usable["box"].map(_box) == _box(box)]
    else:
        hit = usable[usable["box"] == ""] if (usable["box"] == "").any() or len(usable) != 1 else usable
    if len(hit) != 1:
        gone = cands[(cands["usable"] == 0) & (cands["box"].map(_box) == _box(box))]
        status, reason, detail = (
            ("withdrawn", "ADDRESS_WITHDRAWN", "BeST-Address lists this address as " + str(gone["status"].iat[0]))
            if len(gone) else ("addition_not_found", "ADDRESS_ADDITION_NOT_FOUND",
                               "BeST-Address has no such box number at this house number") if box
            else ("ambiguous", "ADDRESS_AMBIGUOUS", f"{len(usable)} box numbers at this house number; give the box"))
        result.status[row] = status
        findings.add(pos, "best_lookup", "house_number_addition", box, "warning", reason, detail)
        return
    reg = hit.iloc[0]
    city, municipality, outcome = _city(given["city"].iat[row], places.loc[int(reg["place_id"])])
    if outcome == "mismatch":
        result.status[row] = "ambiguous"
        findings.add(pos, "best_lookup", "city", given["city"].iat[row], "warning", "POSTCODE_CITY_MISMATCH",
                     "the city does not belong to this Belgian postcode; kept as typed")
        return
    for column, value in (("street", street_name), ("house_number", reg["number"]), ("house_letter", None),
                          ("house_number_addition", reg["box"] or None), ("postcode", str(code)), ("city", city),
                          ("municipality", municipality), ("bag_address_id", reg["best_id"])):
        result.set(column, pos, value)
    typed_street = given["street"].iat[row]
    if not exact_street:
        findings.add(pos, "best_lookup", "street", typed_street, "info", "ADDRESS_STREET_STANDARDISED",
                     f"register: {street_name}")
    result.status[row] = "completed" if outcome == "completed" else "corrected" if outcome == "corrected" else (
        "verified")
