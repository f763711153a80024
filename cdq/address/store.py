"""The local address reference store: one compact SQLite file holding the whole BAG.

Layout (about 30 bytes per address):

- ``streets(id, name)`` and ``places(id, city, municipality, province)``: dictionary tables, so the
  9.8 million address rows carry two small integers instead of four strings;
- ``addresses``: keyed by ``(postcode, number, letter, addition)`` ``WITHOUT ROWID`` (the primary key is the
  table: one B-tree, no separate index), the postcode stored as an int (:func:`cdq.address.keys.encode_postcodes`),
  the BAG ``nummeraanduiding`` id as an int (16 digits, printed zero-padded);
- ``addresses_street`` index on ``(street_id, number)`` and ``place_streets`` for finding a missing postcode;
- ``pc4`` (PC4 -> place, municipality, province) for plausibility where no street-level data is loaded;
- ``statuses``: the register's status texts ("Verblijfsobject in gebruik", "Naamgeving ingetrokken") and
  whether an address with that status may complete or verify (:data:`cdq.address.statuses`); every address
  row carries its ``status_id`` and ``flags`` (object kind, secondary address, listed twice);
- ``meta``: rows, load date, source file, format and the register's own date (``standdatum``).

Letters and additions are stored as the register writes them (case kept). Whatever the source (LV BAG XML,
PDOK GeoPackage, NLExtract or bagconv output, cdq's flat CSV), the rows end in this one schema.

Lookups are batched: a chunk of keys goes into a temporary table and is joined once, never one query per record.
"""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdq.address.keys import decode_postcodes, encode_postcodes
from cdq.address.statuses import TRUE_WORDS, usable_status
from cdq.errors import InputError, UsageError
from cdq.log import Progress

logger = logging.getLogger(__name__)

#: Columns every loader yields (text, ``None`` where empty).
LOAD_COLUMNS = ["postcode", "number", "letter", "addition", "street", "city", "municipality", "province", "bag_id",
                "status", "kind", "secondary"]
#: ``flags`` bits: object kind in the two low bits, then secondary address, listed twice, not usable.
KIND_BITS = {"verblijfsobject": 1, "ligplaats": 2, "standplaats": 3}
SECONDARY, CONFLICT, UNUSABLE = 4, 8, 16
#: Columns :meth:`AddressStore.lookup` returns.
RESULT_COLUMNS = ["postcode", "number", "letter", "addition", "street", "city", "municipality", "province", "bag_id"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS places(id INTEGER PRIMARY KEY, city TEXT NOT NULL, municipality TEXT NOT NULL,
    province TEXT NOT NULL, UNIQUE(city, municipality, province));
CREATE TABLE IF NOT EXISTS addresses(postcode INTEGER NOT NULL, number INTEGER NOT NULL,
    letter TEXT NOT NULL, addition TEXT NOT NULL, street_id INTEGER NOT NULL, place_id INTEGER NOT NULL,
    bag_id INTEGER, status_id INTEGER NOT NULL DEFAULT 0, flags INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(postcode, number, letter, addition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS statuses(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, usable INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS place_streets(place_id INTEGER NOT NULL, street_id INTEGER NOT NULL,
    PRIMARY KEY(place_id, street_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pc4(pc4 INTEGER NOT NULL, place TEXT NOT NULL, municipality TEXT NOT NULL,
    province TEXT NOT NULL, PRIMARY KEY(pc4, place)) WITHOUT ROWID;
"""
_CHUNK_KEYS = 50_000
#: BAG ids come back as int64 (-1 for none), never as a float (16 digits do not fit a double exactly).
_BAG_TEXT = "IFNULL(a.bag_id, -1), a.status_id, a.flags"
#: An address listed twice: the usable one wins; two usable ones with different streets, places or ids are
#: kept once and flagged CONFLICT (completion then says ambiguous rather than pick one silently).
_UPSERT = f"""INSERT INTO addresses VALUES (?,?,?,?,?,?,?,?,?)
ON CONFLICT(postcode, number, letter, addition) DO UPDATE SET
  street_id = CASE WHEN (flags & {UNUSABLE}) > (excluded.flags & {UNUSABLE}) THEN excluded.street_id ELSE street_id END,
  place_id = CASE WHEN (flags & {UNUSABLE}) > (excluded.flags & {UNUSABLE}) THEN excluded.place_id ELSE place_id END,
  bag_id = CASE WHEN (flags & {UNUSABLE}) > (excluded.flags & {UNUSABLE}) THEN excluded.bag_id ELSE bag_id END,
  status_id = CASE WHEN (flags & {UNUSABLE}) > (excluded.flags & {UNUSABLE}) THEN excluded.status_id
                   ELSE status_id END,
  flags = CASE WHEN (flags & {UNUSABLE}) > (excluded.flags & {UNUSABLE}) THEN excluded.flags
               WHEN (flags & {UNUSABLE}) < (excluded.flags & {UNUSABLE}) THEN flags
               ELSE (flags & ~{SECONDARY}) | (flags & excluded.flags & {SECONDARY})
                    | CASE WHEN street_id != excluded.street_id OR place_id != excluded.place_id
                                OR IFNULL(bag_id, -1) != IFNULL(excluded.bag_id, IFNULL(bag_id, -1))
                           THEN {CONFLICT} ELSE 0 END END"""


def release_chunk() -> None:
    """Free the chunk just loaded. A pandas frame whose columns were read sits in reference cycles, and a chunk
    of strings makes almost no allocations the cyclic collector counts, so without this every chunk stayed in
    memory until the end of the load (measured on BeST-Address XML: +640 bytes per row, 494 MB at 500k rows)."""
    gc.collect()


def regions_loaded(meta: dict[str, str]) -> list[dict[str, Any]]:
    """Per loaded Belgian region: rows, source, load time (for ``cdq reference status``)."""
    regions = sorted({k.split(":")[1] for k in meta if k.startswith("be:")})
    return [{"region": r, "rows": int(meta.get(f"be:{r}:rows", 0)), "source": meta.get(f"be:{r}:source", "-"),
             "loaded_at": meta.get(f"be:{r}:loaded_at", "-")} for r in regions]


def default_store_path() -> Path:
    """``$CDQ_BAG_STORE`` if set, else ``~/.cache/cdq/bag.sqlite``."""
    env = os.environ.get("CDQ_BAG_STORE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cdq" / "bag.sqlite"


class AddressStore:
    """An open reference store. Use :meth:`create` to (re)build one and :meth:`open` to read one."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        self._streets: np.ndarray | None = None
        self._places: pd.DataFrame | None = None
        self._statuses: pd.Series | None = None

    # -- opening -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None) -> AddressStore:
        """Open an existing store read-only; :class:`UsageError` with the command to build one if missing."""
        path = Path(path) if path else default_store_path()
        if not path.is_file():
            raise UsageError(f"no address reference store at {path}",
                             hint="load one with `cdq reference load-bag FILE --out STORE` or pass --reference")
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            conn.execute("SELECT count(*) FROM meta").fetchone()
            columns = {r[1] for r in conn.execute("PRAGMA table_info(addresses)")}
        except sqlite3.DatabaseError as e:
            raise InputError(path, f"not a cdq address store ({e})",
                             hint="rebuild it with `cdq reference load-bag`") from e
        if columns and "flags" not in columns:
            conn.close()
            raise UsageError(f"the address store {path} was built by an older cdq (no address statuses)",
                             hint="load the register again with `cdq reference load-bag FILE --out STORE`")
        return cls(path, conn)

    @classmethod
    def open_for_update(cls, path: str | Path | None = None) -> AddressStore:
        """Open ``path`` for writing, creating an empty store if missing; nothing is dropped."""
        path = Path(path) if path else default_store_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path)
            conn.executescript(SCHEMA)
            columns = {r[1] for r in conn.execute("PRAGMA table_info(addresses)")}
            if "flags" not in columns:  # a store of an older cdq: its rows get "status unknown, usable"
                conn.execute("ALTER TABLE addresses ADD COLUMN status_id INTEGER NOT NULL DEFAULT 0")
                conn.execute("ALTER TABLE addresses ADD COLUMN flags INTEGER NOT NULL DEFAULT 0")
                conn.commit()
        except sqlite3.DatabaseError as e:
            raise InputError(path, f"not a cdq address store ({e})", hint="choose another --out path") from e
        return cls(path, conn)

    @classmethod
    def create(cls, path: str | Path | None = None, *, keep_pc4: bool = True) -> AddressStore:
        """Open ``path`` for writing; existing address rows are dropped (a reload replaces, never mixes)."""
        store = cls.open_for_update(path)
        conn = store.conn
        drop = ["addresses", "streets", "places", "place_streets", "statuses"] + ([] if keep_pc4 else ["pc4"])
        for table in drop:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DROP INDEX IF EXISTS addresses_street")
        conn.commit()
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> AddressStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- loading ---------------------------------------------------------------------------------------
    def bulk_load(self, chunks: Iterable[pd.DataFrame], *, source: str, fmt: str,
                  progress: Progress | None = None, info: dict | None = None) -> dict:
        """Insert loader chunks (columns :data:`LOAD_COLUMNS`) in one transaction; return the load summary.

        ``info`` is filled by the loader while it reads (e.g. ``standdatum``) and is recorded in ``meta``.
        """
        start = time.monotonic()
        conn = self.conn
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        streets: dict[str, int] = {}
        places: dict[str, int] = {}
        statuses: dict[str, int] = {"": 0}
        read = skipped = 0
        conn.execute("BEGIN")
        for chunk in chunks:
            read += len(chunk)
            rows, bad = _encode_chunk(chunk, streets, places, statuses)
            skipped += bad
            conn.executemany(_UPSERT, rows)
            del chunk, rows
            release_chunk()
            if progress:
                progress(read, 0)
        conn.executemany("INSERT INTO streets VALUES (?,?)", ((i, s) for s, i in streets.items()))
        conn.executemany("INSERT INTO places VALUES (?,?,?,?)",
                         ((i, *key.split("\x1f")) for key, i in places.items()))
        conn.executemany("INSERT INTO statuses VALUES (?,?,?)",
                         ((i, name, int(usable_status(name))) for name, i in statuses.items()))
        conn.execute("COMMIT")
        rows_in_store = self._finish_load()
        flagged = dict(conn.execute(f"SELECT 'conflicts', count(*) FROM addresses WHERE flags & {CONFLICT} "
                                    f"UNION ALL SELECT 'not_usable', count(*) FROM addresses "
                                    f"WHERE flags & {UNUSABLE}").fetchall())
        summary = {"rows": rows_in_store, "read": read, "skipped_malformed": skipped,
                   "duplicates": read - skipped - rows_in_store, "conflicting_duplicates": flagged["conflicts"],
                   "not_usable": flagged["not_usable"], "source": str(source), "format": fmt,
                   "standdatum": "", **(info or {}),
                   "loaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   "seconds": round(time.monotonic() - start, 1)}
        if summary["conflicting_duplicates"]:
            logger.warning("%d addresses are listed twice with different streets, places or ids; completion "
                           "calls them ambiguous", summary["conflicting_duplicates"])
        self._set_meta(summary)
        summary["size_bytes"] = self.path.stat().st_size
        logger.info("loaded %d addresses (%d skipped, %d duplicates) in %.1fs", rows_in_store, skipped,
                    summary["duplicates"], summary["seconds"])
        return summary

    def _finish_load(self) -> int:
        """Build the street index and the place -> street table, then compact the file."""
        conn = self.conn
        conn.execute("CREATE INDEX IF NOT EXISTS addresses_street ON addresses(street_id, number)")
        conn.execute("INSERT OR IGNORE INTO place_streets SELECT DISTINCT place_id, street_id FROM addresses")
        conn.commit()
        count = conn.execute("SELECT count(*) FROM addresses").fetchone()[0]
        conn.execute("VACUUM")
        return count

    def _set_meta(self, values: dict) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", [(k, str(v)) for k, v in values.items()])
        self.conn.commit()

    def load_pc4(self, frame: pd.DataFrame, *, source: str) -> int:
        """Replace the PC4 table with ``frame`` (columns pc4, place, municipality, province)."""
        rows = frame[["pc4", "place", "municipality", "province"]].fillna("").astype(str)
        self.conn.execute("DELETE FROM pc4")
        self.conn.executemany("INSERT OR IGNORE INTO pc4 VALUES (?,?,?,?)",
                              ((int(p), c, m, v) for p, c, m, v in rows.itertuples(index=False)))
        count = self.conn.execute("SELECT count(*) FROM pc4").fetchone()[0]
        self.conn.commit()
        self._set_meta({"pc4_rows": count, "pc4_source": source,
                        "pc4_loaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        return count

    # -- reading ---------------------------------------------------------------------------------------
    def status(self) -> dict:
        """What is loaded: rows, date, source, format, register date (standdatum), PC4 rows, file size."""
        meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        meta["rows"] = int(meta.get("rows", 0))
        meta["pc4_rows"] = int(meta.get("pc4_rows", 0))
        meta["size_bytes"] = self.path.stat().st_size
        meta["path"] = str(self.path)

        meta["belgium"] = regions_loaded(meta)
        return meta

    @property
    def has_addresses(self) -> bool:
        return self.conn.execute("SELECT 1 FROM addresses LIMIT 1").fetchone() is not None

    @property
    def street_names(self) -> np.ndarray:
        """Street name by id (index = id)."""
        if self._streets is None:
            rows = self.conn.execute("SELECT id, name FROM streets").fetchall()
            names = np.empty(max((r[0] for r in rows), default=0) + 1, dtype=object)
            for i, name in rows:
                names[i] = name
            self._streets = names
        return self._streets

    @property
    def places(self) -> pd.DataFrame:
        """Places (city, municipality, province) indexed by id."""
        if self._places is None:
            self._places = pd.read_sql_query("SELECT id, city, municipality, province FROM places",
                                             self.conn, index_col="id")
        return self._places

    def pc4_table(self) -> pd.DataFrame:
        """The PC4 plausibility table (empty if none is loaded)."""
        return pd.read_sql_query("SELECT pc4, place, municipality, province FROM pc4", self.conn)

    def lookup(self, postcodes: np.ndarray, numbers: np.ndarray) -> pd.DataFrame:
        """Every register address under the given (encoded postcode, number) pairs, batched by chunk."""
        keys = pd.DataFrame({"p": postcodes, "n": numbers}).drop_duplicates().sort_values(["p", "n"])
        sql = ("SELECT a.postcode, a.number, a.letter, a.addition, a.street_id, a.place_id, "
               f"{_BAG_TEXT} FROM temp.keys k CROSS JOIN addresses a ON a.postcode = k.a AND a.number = k.b")
        return self._join(keys, sql)

    def by_street(self, street_ids: np.ndarray, numbers: np.ndarray) -> pd.DataFrame:
        """Every register address with the given (street id, number) pairs (to find a missing postcode)."""
        keys = pd.DataFrame({"p": street_ids, "n": numbers}).drop_duplicates().sort_values(["p", "n"])
        sql = ("SELECT a.postcode, a.number, a.letter, a.addition, a.street_id, a.place_id, "
               f"{_BAG_TEXT} FROM temp.keys k CROSS JOIN addresses a INDEXED BY addresses_street "
               "ON a.street_id = k.a AND a.number = k.b")
        return self._join(keys, sql)

    def existing_postcodes(self, postcodes: np.ndarray) -> set[int]:
        """The subset of encoded postcodes that have at least one address."""
        found: set[int] = set()
        unique = np.unique(postcodes)
        for start in range(0, len(unique), 500):
            part = [int(p) for p in unique[start:start + 500]]
            marks = ",".join("?" * len(part))
            found.update(r[0] for r in self.conn.execute(
                f"SELECT DISTINCT postcode FROM addresses WHERE postcode IN ({marks})", part))
        return found

    def pc4_places(self, pc4s: list[int]) -> dict[int, list[str]]:
        """PC4 -> names of the places and municipalities with addresses (or PC4 table rows) in that area."""
        out: dict[int, list[str]] = {}
        places = self.places
        for pc4 in pc4s:
            ids = [r[0] for r in self.conn.execute(
                "SELECT DISTINCT place_id FROM addresses WHERE postcode BETWEEN ? AND ?",
                (pc4 * 676, pc4 * 676 + 675))]
            rows = places.reindex(ids)
            names = [*rows["city"].dropna(), *rows["municipality"].dropna()]
            names += [n for r in self.conn.execute("SELECT place, municipality FROM pc4 WHERE pc4 = ?", (pc4,))
                      for n in r]
            if names:
                out[pc4] = names
        return out

    def place_streets(self) -> pd.DataFrame:
        """(place_id, street_id) pairs: which streets each place has."""
        return pd.read_sql_query("SELECT place_id, street_id FROM place_streets", self.conn)

    def _join(self, keys: pd.DataFrame, sql: str) -> pd.DataFrame:
        # The queries say CROSS JOIN: SQLite then keeps the key table as the outer loop and seeks the address
        # B-tree per key; left to the planner it scanned all 9.8 million addresses instead.
        conn = self.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS keys(a INTEGER, b INTEGER, PRIMARY KEY(a, b)) WITHOUT ROWID")
        parts = []
        for start in range(0, len(keys), _CHUNK_KEYS):
            chunk = keys.iloc[start:start + _CHUNK_KEYS]
            conn.execute("DELETE FROM temp.keys")
            conn.executemany("INSERT OR IGNORE INTO temp.keys VALUES (?,?)",
                             zip(chunk["p"].tolist(), chunk["n"].tolist()))
            parts.append(conn.execute(sql).fetchall())
        rows = [r for part in parts for r in part]
        raw = pd.DataFrame(rows, columns=["postcode", "number", "letter", "addition", "street_id", "place_id",
                                          "bag_id", "status_id", "flags"])
        return self._decode(raw)

    def _decode(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Integer-coded rows -> text columns :data:`RESULT_COLUMNS` (plus ``street_id``, ``place_id``)."""
        places = self.places
        out = pd.DataFrame({
            "pc_code": raw["postcode"].astype(np.int64),
            "postcode": decode_postcodes(raw["postcode"].to_numpy()).to_numpy() if len(raw) else [],
            "number": raw["number"].astype(np.int64),
            "letter": raw["letter"].replace("", None), "addition": raw["addition"].replace("", None),
            "street": self.street_names[raw["street_id"].to_numpy(dtype=np.int64)] if len(raw) else [],
            "street_id": raw["street_id"], "place_id": raw["place_id"],
        })
        place_rows = places.reindex(raw["place_id"].to_numpy())
        for column in ("city", "municipality", "province"):
            out[column] = place_rows[column].to_numpy()
        bag = raw["bag_id"].to_numpy(dtype=np.int64)
        padded: np.ndarray = (np.char.zfill(bag.astype(str), 16).astype(object) if len(bag)
                              else np.array([], dtype=object))
        out["bag_id"] = np.where(bag >= 0, padded, np.array(None, dtype=object))
        flags = raw["flags"].to_numpy(dtype=np.int64) if len(raw) else np.array([], dtype=np.int64)
        out["usable"] = (flags & UNUSABLE) == 0
        out["conflict"] = (flags & CONFLICT) != 0
        out["secondary"] = (flags & SECONDARY) != 0
        out["kind"] = np.array(["", "verblijfsobject", "ligplaats", "standplaats"], dtype=object)[flags & 3]
        out["register_status"] = self.status_names.reindex(raw["status_id"].to_numpy()).to_numpy()
        return out

    @property
    def status_names(self) -> pd.Series:
        """Register status text by id."""
        if self._statuses is None:
            rows = self.conn.execute("SELECT id, name FROM statuses").fetchall()
            self._statuses = pd.Series({i: n for i, n in rows}, dtype=object)
        return self._statuses


def _encode_chunk(chunk: pd.DataFrame, streets: dict[str, int], places: dict[str, int],
                  statuses: dict[str, int]) -> tuple[list, int]:
    """Encode one loader chunk into address rows; returns (rows, number of malformed rows skipped)."""
    chunk = chunk.reindex(columns=LOAD_COLUMNS)
    pc = encode_postcodes(chunk["postcode"].astype("string").str.replace(" ", "").str.upper())
    number = pd.to_numeric(chunk["number"], errors="coerce")
    street = chunk["street"].fillna("").astype(str).str.strip()
    good = (pc >= 0) & number.notna().to_numpy() & (street != "").to_numpy()
    chunk, pc, number, street = chunk[good], pc[good], number[good].astype(np.int64), street[good]
    street_ids = _dictionary_ids(street, streets)
    place_key = (chunk["city"].fillna("").astype(str).str.strip() + "\x1f"
                 + chunk["municipality"].fillna("").astype(str).str.strip() + "\x1f"
                 + chunk["province"].fillna("").astype(str).str.strip())
    place_ids = _dictionary_ids(place_key, places)
    # Letters and additions as the register writes them: "4x" stays "4x" (bagconv keeps BAG's case).
    letter = chunk["letter"].fillna("").astype(str).str.strip()
    addition = chunk["addition"].fillna("").astype(str).str.strip()
    bag_list = [int(b) if isinstance(b, str) and b.isdigit() and len(b) <= 18 else None
                for b in chunk["bag_id"].astype(object).where(chunk["bag_id"].notna(), None).tolist()]
    status = chunk["status"].fillna("").astype(str).str.strip()
    status_ids = _dictionary_ids(status, statuses)
    unusable = {i: 0 if usable_status(name) else UNUSABLE for name, i in statuses.items()}
    kind = chunk["kind"].fillna("").astype(str).str.strip().str.lower().map(KIND_BITS).fillna(0).astype(np.int64)
    secondary = chunk["secondary"].fillna("").astype(str).str.strip().str.lower().isin(TRUE_WORDS)
    flags = (kind.to_numpy() | np.where(secondary.to_numpy(), SECONDARY, 0)
             | pd.Series(status_ids).map(unusable).to_numpy(dtype=np.int64))
    rows = list(zip(pc.tolist(), number.tolist(), letter.tolist(), addition.tolist(), street_ids.tolist(),
                    place_ids.tolist(), bag_list, status_ids.tolist(), flags.tolist()))
    return rows, int((~good).sum())


def _dictionary_ids(values: pd.Series, table: dict[str, int]) -> np.ndarray:
    """Ids for ``values`` from ``table``, adding new distinct values (one dict operation per distinct value)."""
    codes, uniques = pd.factorize(values)
    ids = np.empty(len(uniques), dtype=np.int64)
    for i, value in enumerate(uniques):
        ids[i] = table.setdefault(value, len(table) + 1)
    return ids[codes]
