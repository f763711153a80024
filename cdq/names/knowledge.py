"""Name knowledge: first names with gender and surnames, from a curated built-in list and user-loaded lists.

The built-in list (``reference_data/names/*.tsv``) is small and authored for cdq: common Dutch names and
names of the Netherlands' largest migrant communities. Large lists (e.g. the Meertens surname bank) are
loaded by the user with ``cdq reference load-names FILE --kind first|surname`` into a local SQLite store
(``~/.cache/cdq/names.sqlite``, or ``$CDQ_NAMES_STORE``). A name that is in neither is *unknown*, not
invalid: the character model (:mod:`cdq.names.ngram`) scores it.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cdq.errors import InputError, UsageError
from cdq.resources import resource

logger = logging.getLogger(__name__)

KINDS = ("first", "surname")
_GENDERS = {"m": "M", "man": "M", "male": "M", "jongen": "M", "boy": "M",
            "f": "F", "v": "F", "vrouw": "F", "female": "F", "meisje": "F", "girl": "F",
            "u": "U", "x": "U", "unisex": "U"}


def norm(name: object) -> str:
    """The comparison key of a name: lower case, accents removed, apostrophes/hyphens as spaces.

    Examples:
        >>> norm("  Şahin-Öztürk ")
        'sahin ozturk'
        >>> norm("'t Hart")
        't hart'
    """
    if name is None or (isinstance(name, float) and name != name):
        return ""
    text = str(name).lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("ł", "l"))
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.translate(_SEPARATORS).split())


_SEPARATORS = str.maketrans({ch: " " for ch in "-'’`´."})


def default_store() -> Path:
    """Where ``cdq reference load-names`` writes: ``$CDQ_NAMES_STORE`` or ``~/.cache/cdq/names.sqlite``."""
    env = os.environ.get("CDQ_NAMES_STORE")
    return Path(env) if env else Path.home() / ".cache" / "cdq" / "names.sqlite"


@dataclass
class Knowledge:
    """Known names: ``first`` maps a normalised first name to its gender (M, F or U); ``surnames`` is a set."""

    first: dict[str, str] = field(default_factory=dict)
    surnames: set[str] = field(default_factory=set)

    def add_first(self, name: str, gender: str | None) -> None:
        """Add a first name; a name seen with both genders becomes unisex (U)."""
        key = norm(name)
        if not key:
            return
        g = _GENDERS.get(str(gender or "").strip().lower(), "U")
        old = self.first.get(key)
        self.first[key] = g if old in (None, g) else "U"

    def merge(self, other: Knowledge) -> Knowledge:
        """Add everything ``other`` knows to this knowledge (in place) and return it."""
        for key, g in other.first.items():
            old = self.first.get(key)
            self.first[key] = g if old in (None, g) else "U"
        self.surnames |= other.surnames
        return self


@lru_cache(maxsize=1)
def builtin_knowledge() -> Knowledge:
    """:func:`builtin`, read once (callers must not change it)."""
    return builtin()


def builtin() -> Knowledge:
    """The curated built-in list shipped in ``reference_data/names/``.

    Examples:
        >>> k = builtin()
        >>> k.first["mohamed"], k.first["fatma"], "yilmaz" in k.surnames, "de vries" in k.surnames
        ('M', 'F', True, True)
    """
    k = Knowledge()
    for row in _tsv(resource("reference_data", "names", "first_names.tsv")):
        k.add_first(row[0], row[1] if len(row) > 1 else None)
    k.surnames = {norm(row[0]) for row in _tsv(resource("reference_data", "names", "surnames.tsv"))}
    k.surnames.discard("")
    return k


def _tsv(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def read_name_list(path: str | Path, kind: str) -> pd.DataFrame:
    """Read a user's name list: a plain list (one name a line, ``.gz`` allowed) or a CSV with a header.

    A CSV may have columns ``name`` (or ``naam``/``voornaam``/``achternaam``/``natural name``) and, for first
    names, ``gender``/``geslacht``/``sex``. Returns a frame with ``name`` and ``gender``.
    """
    path = Path(path)
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}", hint="use --kind first or --kind surname")
    try:
        raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as e:
        raise InputError(path, f"cannot read the name list ({e})") from e
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    first_line = text.split("\n", 1)[0]
    if any(sep in first_line for sep in ",;\t"):
        return _read_csv_list(path, text)
    names = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return pd.DataFrame({"name": names, "gender": None})


def _read_csv_list(path: Path, text: str) -> pd.DataFrame:
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    frame = pd.read_csv(io.StringIO(text), sep=dialect.delimiter, dtype=str, keep_default_na=False)
    lower = {c.strip().lower(): c for c in frame.columns}
    name_col = next((lower[c] for c in ("name", "naam", "natural name", "voornaam", "achternaam", "surname",
                                        "first_name", "last_name") if c in lower), None)
    if name_col is None:
        raise InputError(path, f"no name column (headers: {', '.join(frame.columns[:8])})",
                         hint="name the column 'name' (and 'gender' for first names)")
    gender_col = next((lower[c] for c in ("gender", "geslacht", "sex") if c in lower), None)
    return pd.DataFrame({"name": frame[name_col], "gender": frame[gender_col] if gender_col else None})


def load_names(path: str | Path, kind: str, store: str | Path | None = None, source: str | None = None) -> int:
    """Load a name list into the local store (replacing an earlier load of the same source); return the count."""
    frame = read_name_list(path, kind)
    store = Path(store) if store else default_store()
    store.parent.mkdir(parents=True, exist_ok=True)
    source = source or Path(path).name
    rows = [(kind, norm(n), g, source) for n, g in zip(frame["name"], frame["gender"]) if norm(n)]
    with sqlite3.connect(store) as db:
        db.execute("create table if not exists names (kind text, name text, gender text, source text)")
        db.execute("create index if not exists names_kind on names (kind)")
        db.execute("delete from names where kind = ? and source = ?", (kind, source))
        db.executemany("insert into names values (?, ?, ?, ?)", rows)
    logger.info("loaded %d %s names from %s into %s", len(rows), kind, path, store)
    return len(rows)


def from_store(store: str | Path) -> Knowledge:
    """The knowledge in a store written by :func:`load_names` (empty when the store does not exist)."""
    k = Knowledge()
    store = Path(store)
    if not store.exists():
        return k
    with sqlite3.connect(store) as db:
        for kind, name, gender in db.execute("select kind, name, gender from names"):
            if kind == "first":
                k.add_first(name, gender)
            else:
                k.surnames.add(name)
    return k


def load_knowledge(store: str | Path | None = None, *, use_store: bool = True) -> Knowledge:
    """The built-in list plus, when present, the user's store (default :func:`default_store`)."""
    k = builtin()
    if use_store:
        k.merge(from_store(store or default_store()))
    return k
