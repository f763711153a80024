"""Optional online provider: the free PDOK Locatieserver (``/bzk/locatieserver/search/v3_1/free``).

A request per distinct (postcode, house number), e.g.
``free?fq=type:adres&fq=postcode:1011AB&fq=huisnummer:12&rows=100``; the answer is Solr-shaped:
``{"response": {"numFound": n, "docs": [{"straatnaam", "huisnummer", "huisletter", "huisnummertoevoeging",
"huis_nlt", "postcode", "woonplaatsnaam", "gemeentenaam", "provincienaam", "nummeraanduiding_id",
"type"}, ...]}}``. ``huis_nlt`` joins number, letter and addition ("12A-2") and is split back when the
separate fields are missing. Answers are cached on disk (an SQLite file), requests are spaced by
``min_interval`` seconds and retried with exponential backoff on 429/5xx and network errors.

:class:`PdokProvider` offers the lookup interface of :class:`~cdq.address.store.AddressStore`, so
:func:`cdq.address.complete` can use it instead of a local store. It suits hundreds of records, not millions.
The tests run it against a local HTTP server returning responses shaped like the documented ones.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from cdq.address.keys import decode_postcodes, encode_postcodes
from cdq.address.text import city_key, similar_keys, street_key
from cdq.errors import CdqError

logger = logging.getLogger(__name__)

BASE_URL = "https://api.pdok.nl"
PATH = "/bzk/locatieserver/search/v3_1/free"
FIELDS = ("straatnaam,huisnummer,huisletter,huisnummertoevoeging,huis_nlt,postcode,woonplaatsnaam,gemeentenaam,"
          "provincienaam,nummeraanduiding_id,type")
_HUIS_NLT = re.compile(r"^\s*(\d{1,5})\s*([A-Za-z])?\s*(?:-\s*([0-9A-Za-z]{1,4}))?\s*$")
RETRY_STATUS = {429, 500, 502, 503, 504}


class PdokError(CdqError):
    """The Locatieserver could not be reached or answered something unusable."""


def split_huis_nlt(text: str | None) -> tuple[int | None, str | None, str | None]:
    """Split ``huis_nlt`` ("12A-2") into (number, letter, addition).

    Examples:
        >>> split_huis_nlt("12A-2"), split_huis_nlt("7"), split_huis_nlt("3-HS"), split_huis_nlt("x")
        ((12, 'A', '2'), (7, None, None), (3, None, 'HS'), (None, None, None))
    """
    match = _HUIS_NLT.match(text or "")
    if not match:
        return None, None, None
    number, letter, addition = match.groups()
    return int(number), (letter.upper() if letter else None), (addition.upper() if addition else None)


class _Cache:
    """URL -> JSON text, in one SQLite file."""

    def __init__(self, path: Path | None):
        self.conn = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path)
            self.conn.execute("CREATE TABLE IF NOT EXISTS answers(url TEXT PRIMARY KEY, body TEXT, at REAL)")

    def get(self, url: str) -> str | None:
        if self.conn is None:
            return None
        row = self.conn.execute("SELECT body FROM answers WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def put(self, url: str, body: str) -> None:
        if self.conn is not None:
            self.conn.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (url, body, time.time()))
            self.conn.commit()


class LocatieserverClient:
    """A polite client: on-disk cache, at most one request per ``min_interval`` seconds, retries with backoff."""

    def __init__(self, base_url: str = BASE_URL, *, cache_path: str | Path | None = None,
                 min_interval: float = 0.2, retries: int = 3, backoff: float = 0.5, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.cache = _Cache(Path(cache_path) if cache_path else None)
        self.min_interval, self.retries, self.backoff, self.timeout = min_interval, retries, backoff, timeout
        self.requests = 0
        self._last = 0.0

    def url(self, postcode: str, number: int) -> str:
        params = [("fq", "type:adres"), ("fq", f"postcode:{postcode}"), ("fq", f"huisnummer:{number}"),
                  ("fl", FIELDS), ("rows", "100")]
        return f"{self.base_url}{PATH}?{urllib.parse.urlencode(params)}"

    def search_url(self, street: str, number: int, city: str) -> str:
        params = [("q", f"{street} {number} {city}"), ("fq", "type:adres"), ("fq", f"huisnummer:{number}"),
                  ("fl", FIELDS), ("rows", "20")]
        return f"{self.base_url}{PATH}?{urllib.parse.urlencode(params)}"

    def docs(self, url: str) -> list[dict]:
        """The ``response.docs`` of one request (from the cache when it was asked before)."""
        body = self.cache.get(url)
        if body is None:
            body = self._fetch(url)
            self.cache.put(url, body)
        try:
            return list(json.loads(body)["response"]["docs"])
        except (ValueError, KeyError, TypeError) as e:
            raise PdokError(f"Locatieserver answered something that is not a search response ({e})") from e

    def _wait(self) -> None:
        pause = self._last + self.min_interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._last = time.monotonic()

    def _fetch(self, url: str) -> str:
        for attempt in range(self.retries + 1):
            self._wait()
            self.requests += 1
            try:
                with urllib.request.urlopen(url, timeout=self.timeout) as answer:
                    return answer.read().decode("utf-8")
            except urllib.error.HTTPError as e:
                if e.code not in RETRY_STATUS or attempt == self.retries:
                    raise PdokError(f"Locatieserver answered HTTP {e.code}",
                                    hint="check the base URL, or use a local store (cdq reference load-bag)") from e
                delay = float(e.headers.get("Retry-After") or self.backoff * 2 ** attempt)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                if attempt == self.retries:
                    raise PdokError(f"Locatieserver not reachable ({getattr(e, 'reason', e)})",
                                    hint="check the network, or use a local store (cdq reference load-bag)") from e
                delay = self.backoff * 2 ** attempt
            logger.debug("Locatieserver retry %d after %.1fs", attempt + 1, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")


def docs_frame(docs: list[dict]) -> pd.DataFrame:
    """Address docs -> rows with the columns of :meth:`AddressStore.lookup` (non-address docs dropped)."""
    rows = []
    for doc in docs:
        if doc.get("type", "adres") != "adres":
            continue
        number, letter, addition = split_huis_nlt(doc.get("huis_nlt"))
        number = int(doc["huisnummer"]) if doc.get("huisnummer") is not None else number
        letter = doc.get("huisletter") or letter
        addition = doc.get("huisnummertoevoeging") or addition
        postcode = str(doc.get("postcode") or "").replace(" ", "").upper()
        if number is None or not postcode:
            continue
        rows.append({"postcode": postcode, "number": number, "letter": (letter or "").upper() or None,
                     "addition": (addition or "").upper() or None, "street": doc.get("straatnaam"),
                     "city": doc.get("woonplaatsnaam"), "municipality": doc.get("gemeentenaam"),
                     "province": doc.get("provincienaam"), "bag_id": doc.get("nummeraanduiding_id")})
    frame = pd.DataFrame(rows, columns=["postcode", "number", "letter", "addition", "street", "city",
                                        "municipality", "province", "bag_id"])
    frame.insert(0, "pc_code", encode_postcodes(frame["postcode"]) if len(frame) else np.array([], dtype=np.int64))
    return frame.drop_duplicates(["pc_code", "number", "letter", "addition"])


class PdokProvider:
    """The lookup interface :func:`cdq.address.complete` needs, answered by the Locatieserver."""

    has_addresses = True

    def __init__(self, client: LocatieserverClient):
        self.client = client
        self._seen: set[int] = set()

    def lookup(self, postcodes: np.ndarray, numbers: np.ndarray) -> pd.DataFrame:
        keys = pd.DataFrame({"p": postcodes, "n": numbers}).drop_duplicates()
        names = decode_postcodes(keys["p"].to_numpy())
        frames = [docs_frame(self.client.docs(self.client.url(pc, int(n)))) for pc, n in zip(names, keys["n"])]
        found = pd.concat(frames, ignore_index=True) if frames else docs_frame([])
        wanted = set(zip(keys["p"].tolist(), keys["n"].tolist()))
        found = found[[k in wanted for k in zip(found["pc_code"].tolist(), found["number"].tolist())]]
        self._seen.update(found["pc_code"].tolist())
        return found.reset_index(drop=True)

    def existing_postcodes(self, postcodes: np.ndarray) -> set[int]:
        """Postcodes seen in any answer (a number lookup cannot prove a postcode exists otherwise)."""
        return {int(p) for p in postcodes if int(p) in self._seen}

    def find_postcodes(self, given: pd.DataFrame) -> pd.DataFrame:
        """Postcode search by free text (street, number, city), keeping only close street and city names."""
        pc_code, status = [], []
        for street, number, city in zip(given["street"], given["number"], given["city"]):
            docs = docs_frame(self.client.docs(self.client.search_url(street, int(number), city)))
            # the lambdas run at once, inside this iteration: binding the loop variables late is intended
            docs = docs[(docs["number"] == int(number))
                        & docs["street"].map(lambda s: similar_keys(street_key(s or ""), street_key(street)))  # noqa: B023
                        & docs["city"].map(lambda c: city_key(c or "") == city_key(city))]  # noqa: B023
            codes = docs["pc_code"].unique()
            pc_code.append(int(codes[0]) if len(codes) == 1 else -1)
            status.append("found" if len(codes) == 1 else "ambiguous" if len(codes) > 1 else "not_found")
        return pd.DataFrame({"pc_code": np.array(pc_code, dtype=np.int64), "status": status})

    def pc4_table(self) -> pd.DataFrame:
        return pd.DataFrame(columns=["pc4", "place", "municipality", "province"])
