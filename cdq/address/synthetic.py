"""A seeded synthetic BAG table in the flat format, for tests and the national-size benchmark.

Every postcode holds one stretch of one street (about 20 numbers on one side, some with a house letter or
an addition); places own PC4 ranges, streets repeat across postcodes of a place, names exercise the
abbreviation table ("Burgemeester ...", "Prins ...", "...straat", "...laan"). Nothing here is real data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from cdq.address.keys import decode_postcodes

FLAT_HEADER = ["postcode", "huisnummer", "huisletter", "huisnummertoevoeging", "straat", "woonplaats", "gemeente",
               "provincie", "nummeraanduiding_id"]
PER_POSTCODE = 20
PROVINCES = ["Groningen", "Fryslân", "Drenthe", "Overijssel", "Flevoland", "Gelderland", "Utrecht",
             "Noord-Holland", "Zuid-Holland", "Zeeland", "Noord-Brabant", "Limburg"]
_PREFIX = ["", "", "", "", "Burgemeester ", "Prins ", "Sint ", "Professor ", "Dokter ", "Koningin ",
           "Graaf ", "Pastoor ", "Wethouder ", "Van der ", "De "]
_STEM = ["Kerk", "Molen", "School", "Dorps", "Stations", "Juliana", "Beatrix", "Eiken", "Beuken", "Linden",
         "Rozen", "Tulpen", "Heide", "Duin", "Haven", "Polder", "Veld", "Akker", "Bos", "Kasteel", "Markt",
         "Brink", "Rembrandt", "Vermeer", "Erasmus", "Vondel", "Huygens", "Thorbecke", "Tromp", "Hendrik",
         "Bernhard", "Emma", "Merel", "Lijster", "Kievit", "Reiger", "Rijn", "Maas", "Waal", "Amstel", "Vecht",
         "Schelde", "Dommel", "Zon", "Ster", "Bloem", "Hoofd", "Lange", "Korte", "Achter", "Binnen", "Buiten",
         "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters", "Hendriks"]
_SUFFIX = ["straat", "laan", "weg", "plein", "hof", "singel", "kade", "gracht", "dreef", "pad", "park"]
_SYLLABLE = ["Aal", "Berg", "Dal", "Ees", "Fen", "Gou", "Harl", "Ijs", "Kam", "Lie", "Mep", "Nun", "Olde",
             "Putt", "Roer", "Sle", "Ter", "Uit", "Vel", "Wou", "Zand", "Gro", "Bre", "Delf"]
_ENDING = ["dam", "dijk", "horst", "veen", "wijk", "hoven", "loo", "broek", "zijl", "sum", "um", "berg",
           "rode", "hout", "meer", "huizen", "kerk", "drecht", "woude", "ingen"]
_LETTERS = np.array(list("ABCD"), dtype=object)
_ADDITIONS = np.array(["1", "2", "3", "H", "II", "BIS"], dtype=object)


def _postcode_space(rng: np.random.Generator, n_pc: int) -> np.ndarray:
    """``n_pc`` distinct valid encoded postcodes (never SA/SD/SS), sorted."""
    forbidden = {(ord(a) - 65) * 26 + (ord(b) - 65) for a, b in ("SA", "SD", "SS")}
    letters = np.array([i for i in range(676) if i not in forbidden])
    slots = rng.choice(9000 * len(letters), size=n_pc, replace=False)
    return np.sort((slots // len(letters) + 1000) * 676 + letters[slots % len(letters)])


def _names(n: int, parts: list[list[str]]) -> np.ndarray:
    """``n`` deterministic names combining ``parts`` (made unique with a number if needed)."""
    sizes = [len(p) for p in parts]
    total = int(np.prod(sizes))
    out = []
    for i in range(n):
        j, name = i % total, ""
        for part, size in zip(parts, sizes):
            name += part[j % size]
            j //= size
        out.append(name if i < total else f"{name} {i // total + 1}")
    return np.array(out, dtype=object)


def synthetic_chunks(n_addresses: int, seed: int = 0, chunk_postcodes: int = 50_000) -> Iterator[pd.DataFrame]:
    """Yield the synthetic table in chunks with :data:`FLAT_HEADER` columns (text)."""
    rng = np.random.default_rng(seed)
    n_pc = max(1, -(-n_addresses // PER_POSTCODE))
    codes = _postcode_space(rng, n_pc)
    n_places = int(np.clip(n_pc // 150, 3, 2500))
    place_names = _names(n_places, [_SYLLABLE, _ENDING])
    municipality = np.arange(n_places) // 3
    muni_names = place_names[municipality * 3]
    province = np.array(PROVINCES, dtype=object)[(np.arange(n_places) * 12) // n_places]
    street_names = _names(max(50, n_pc // 4), [_PREFIX, _STEM, _SUFFIX])
    place = ((codes // 676 - 1000) * n_places) // 9000
    street = rng.integers(0, len(street_names), n_pc)
    start = rng.integers(0, 100, n_pc) * 2 + 1 + rng.integers(0, 2, n_pc)
    counts = np.full(n_pc, n_addresses // n_pc)
    counts[: n_addresses - counts.sum()] += 1
    first = np.concatenate([[0], np.cumsum(counts)])
    for lo in range(0, n_pc, chunk_postcodes):
        hi = min(lo + chunk_postcodes, n_pc)
        idx = np.repeat(np.arange(lo, hi), counts[lo:hi])
        k = np.arange(first[lo], first[hi]) - first[idx]
        draw = rng.random(len(idx))
        letter = np.where(draw < 0.04, _LETTERS[rng.integers(0, 4, len(idx))], "")
        addition = np.where((draw >= 0.04) & (draw < 0.08), _ADDITIONS[rng.integers(0, 6, len(idx))], "")
        p = place[idx]
        seq = (np.arange(first[lo], first[hi]) + 1).astype(str)
        bag = np.char.add(np.char.add(np.char.zfill((municipality[p] + 1).astype(str), 4), "20"),
                          np.char.zfill(seq, 10))
        yield pd.DataFrame({
            "postcode": decode_postcodes(codes[idx]).to_numpy(), "huisnummer": (start[idx] + 2 * k).astype(str),
            "huisletter": letter, "huisnummertoevoeging": addition, "straat": street_names[street[idx]],
            "woonplaats": place_names[p], "gemeente": muni_names[p], "provincie": province[p],
            "nummeraanduiding_id": bag,
        }, columns=FLAT_HEADER)


def synthetic_bag(n_addresses: int, seed: int = 0) -> pd.DataFrame:
    """The whole synthetic table as one frame (small sizes).

    Examples:
        >>> t = synthetic_bag(100, seed=1)
        >>> len(t), bool(t.duplicated(["postcode", "huisnummer"]).any())
        (100, False)
    """
    return pd.concat(synthetic_chunks(n_addresses, seed), ignore_index=True)


def write_flat(path: str | Path, n_addresses: int, seed: int = 0) -> Path:
    """Write the synthetic table as a flat ``;``-separated CSV (streamed in chunks)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        for i, chunk in enumerate(synthetic_chunks(n_addresses, seed)):
            chunk.to_csv(handle, sep=";", index=False, header=i == 0)
    return path
