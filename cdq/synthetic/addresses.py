"""A deterministic synthetic Dutch address space: places, streets, house numbers, postcodes, BAG ids.

The address space does not depend on any seed: street ``s`` of place ``p`` always has the same name,
postcode area and length, so synthetic customer records, the demo BAG table in ``reference_data/`` and a
national-size synthetic BAG table (:func:`cdq.synthetic.reference.write_synthetic_bag`) all agree.

Postcodes follow the real structure: a PC4 from the place's real range, and two letters that identify one
side of one stretch of one street (at most 20 numbers), so ``postcode + house number`` is unique. The
letter pairs ``SA``, ``SD`` and ``SS`` are never used, as in the real register.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.synthetic.places import places

_STEMS = (
    "Kerk Molen School Dorps Stations Juliana Beatrix Wilhelmina Oranje Eiken Beuken Linden Berken Kastanje "
    "Esdoorn Populieren Wilgen Iepen Acacia Meidoorn Vlier Hazelaar Rozen Tulpen Narcissen Lelie Anjer "
    "Margriet Zonnebloem Klaver Heide Duin Zee Haven Polder Veld Akker Weide Bos Kasteel Burg Slot Markt "
    "Brink Nieuwe Oude Hoog Noord Zuid Oost West Rembrandt Vermeer Van Gogh Mondriaan Erasmus Spinoza "
    "Vondel Bilderdijk Huygens Lorentz Thorbecke De Ruyter Tromp Piet Hein Prins Hendrik Prins Bernhard Emma "
    "Koningin Graaf Willem Merel Lijster Spreeuwen Vinken Mezen Zwaluw Kievit Reiger Meeuwen Valken Sperwer "
    "Uilen Specht Fazanten Ganzen Zwanen Rijn Maas IJssel Waal Amstel Vecht Lek Schelde Dommel Berkel "
    "Gelderland Brabant Friesland Zeeland Limburg Drenthe Overijssel Holland Ambachts Industrie Fabrieks "
    "Handels Sport Park Tuin Kanaal Spoor Wind Zon Ster Bloemen Vogel Hoofd Lange Korte Achter Voor Binnen "
    "Buiten Hof Paulus Potter Jan Steen Frans Hals Ruysdael Van Ostade Stevin Leeghwater Gijsbrecht Coster "
    "Anne Frank Schubert Mozart Beethoven Chopin Händel Bach Haydn Verdi Grieg Ravel Sweelinck Wagner Kamperfoelie"
).split()
_MULTI = {"Van", "De", "Piet", "Prins", "Graaf", "Paulus", "Jan", "Frans", "Anne"}
_SUFFIXES = ("straat", "laan", "weg", "plein", "hof", "singel", "kade", "gracht", "dreef", "pad", "park",
             "dijk", "steeg", "erf")
BLOCK = 40        # numbers per postcode stretch (one side: 20 numbers)
MAX_NUMBER = 240  # longest street
_SLOTS_PER_STREET = 2 * MAX_NUMBER // BLOCK
#: two-letter combinations allowed in a postcode (never SA, SD, SS).
LETTER_PAIRS = np.array([a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         if a + b not in ("SA", "SD", "SS")])
STREETS_PER_PC4 = len(LETTER_PAIRS) // _SLOTS_PER_STREET


def _stems() -> list[str]:
    """Join multi-word stems ("Van Gogh", "Piet Hein") back together from the word list."""
    out: list[str] = []
    words = iter(_STEMS)
    for word in words:
        out.append(word + " " + next(words) if word in _MULTI else word)
    return out


def street_names() -> np.ndarray:
    """Every street name the address space uses (stem + suffix), in a fixed order.

    Examples:
        >>> names = street_names()
        >>> "Kerkstraat" in names and "Van Goghlaan" in names
        True
    """
    stems = _stems()
    return np.array([s + x for x in _SUFFIXES for s in stems if not s.lower().endswith(x)])


def _mix(*parts: np.ndarray | int) -> np.ndarray:
    """A fast deterministic integer hash (vectorised), for per-street and per-number properties."""
    h = np.asarray(1469598103934665603, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around multiplication is the point of the hash
        for part in parts:
            h = (h ^ np.asarray(part, dtype=np.uint64)) * np.uint64(1099511628211)
            h = h ^ (h >> np.uint64(29))
    return h


def street_table() -> pd.DataFrame:
    """All streets: ``place_idx, street_idx, street, pc4, length, place, gemeente, provincie, area_code``.

    A place has as many streets as its PC4 areas can hold (capped by the number of names).
    """
    table = places()
    names = street_names()
    frames = []
    for p, row in enumerate(table.itertuples()):
        n4 = row.pc4_hi - row.pc4_lo + 1
        count = min(len(names), n4 * STREETS_PER_PC4)
        s = np.arange(count)
        order = np.random.default_rng(1000 + p).permutation(len(names))[:count]
        length = 8 + (_mix(p, s, 17) % np.uint64(MAX_NUMBER - 7)).astype(int)
        frames.append(pd.DataFrame({
            "place_idx": p, "street_idx": s, "street": names[order], "pc4": row.pc4_lo + s % n4,
            "length": length, "place": row.place, "gemeente": row.gemeente, "provincie": row.provincie,
            "area_code": row.area_code,
        }))
    return pd.concat(frames, ignore_index=True)


def postcode_letters(pc4: np.ndarray, street_idx: np.ndarray, n4: np.ndarray, number: np.ndarray) -> np.ndarray:
    """The two postcode letters of a house number: unique per PC4, side and 40-number stretch."""
    slot = (street_idx // n4) * _SLOTS_PER_STREET + ((number - 1) // BLOCK) * 2 + number % 2
    # 673 letter pairs is prime, so multiplying by 37 permutes slots without collisions
    return LETTER_PAIRS[(slot * 37 + pc4 * 11) % len(LETTER_PAIRS)]


def units(place_idx: np.ndarray, street_idx: np.ndarray, number: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many dwellings share a house number (1-4) and their kind (0 letters A-D, 1 additions 1-4, 2 hs/1-3)."""
    h = _mix(place_idx, street_idx, number, 3)
    count = np.where(h % np.uint64(100) < 84, 1, 2 + (h >> np.uint64(8)) % np.uint64(3)).astype(int)
    kind = ((h >> np.uint64(16)) % np.uint64(3)).astype(int)
    return count, kind


def unit_labels(kind: np.ndarray, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """House letter and addition of dwelling ``unit`` (0-based) at a number with several dwellings."""
    letters = np.array(["A", "B", "C", "D"])[np.minimum(unit, 3)]
    additions = (unit + 1).astype(str)
    hs = np.where(unit == 0, "hs", unit.astype(str))
    letter = np.where(kind == 0, letters, "")
    addition = np.where(kind == 1, additions, np.where(kind == 2, hs, ""))
    return letter, addition


def expand(streets: pd.DataFrame, numbers: np.ndarray | None = None, street_rows: np.ndarray | None = None,
           ) -> pd.DataFrame:
    """Every dwelling of the given street rows (all numbers, or only ``numbers`` per ``street_rows``).

    Returns the flat BAG columns plus ``place_idx, street_idx``.
    """
    if numbers is None:
        street_rows = np.repeat(np.arange(len(streets)), streets["length"].to_numpy())
        starts = np.cumsum(streets["length"].to_numpy()) - streets["length"].to_numpy()
        numbers = np.arange(len(street_rows)) - np.repeat(starts, streets["length"].to_numpy()) + 1
    s = streets.iloc[street_rows]
    p_idx, s_idx = s["place_idx"].to_numpy(), s["street_idx"].to_numpy()
    count, kind = units(p_idx, s_idx, numbers)
    rows = np.repeat(np.arange(len(numbers)), count)
    unit = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    letter, addition = unit_labels(kind[rows], unit)
    s = s.iloc[rows]
    n4 = _n4()[s["place_idx"].to_numpy()]
    number = numbers[rows]
    pc4 = s["pc4"].to_numpy()
    serial = ((s["place_idx"].to_numpy().astype(np.int64) * 3000 + s["street_idx"].to_numpy()) * 1500
              + number * 5 + unit)
    return pd.DataFrame({
        "postcode": pd.Series(pc4.astype(str)) + postcode_letters(pc4, s["street_idx"].to_numpy(), n4, number),
        "huisnummer": number, "huisletter": letter, "huisnummertoevoeging": addition,
        "straat": s["street"].to_numpy(), "woonplaats": s["place"].to_numpy(), "gemeente": s["gemeente"].to_numpy(),
        "provincie": s["provincie"].to_numpy(),
        "nummeraanduiding_id": [f"{p + 1:04d}20{v:010d}" for p, v in zip(s["place_idx"].to_numpy(), serial)],
        "place_idx": s["place_idx"].to_numpy(), "street_idx": s["street_idx"].to_numpy(),
    })


def _n4() -> np.ndarray:
    table = places()
    return (table["pc4_hi"] - table["pc4_lo"] + 1).to_numpy()


def sample_addresses(rng: np.random.Generator, n: int, core_streets: int = 120) -> pd.DataFrame:
    """``n`` random dwellings (with replacement), weighted by place size, from each place's first streets.

    Only the first ``core_streets`` streets of a place are used so a partial national table still holds them.
    """
    streets = street_table()
    streets = streets[streets["street_idx"] < core_streets].reset_index(drop=True)
    weight = places()["weight"].to_numpy()[streets["place_idx"].to_numpy()].astype(float)
    weight = weight / np.bincount(streets["place_idx"], minlength=len(places()))[streets["place_idx"]]
    rows = rng.choice(len(streets), size=n, p=weight / weight.sum())
    numbers = 1 + (rng.random(n) * streets["length"].to_numpy()[rows]).astype(int)
    flat = expand(streets, numbers=numbers, street_rows=rows)
    # keep one dwelling per drawn number, chosen at random among its units
    first = np.flatnonzero(np.r_[True, np.diff(np.repeat(np.arange(n), units(
        streets["place_idx"].to_numpy()[rows], streets["street_idx"].to_numpy()[rows], numbers)[0])) != 0])
    count = np.diff(np.r_[first, len(flat)])
    pick = first + (rng.random(n) * count).astype(int)
    out = flat.iloc[pick].reset_index(drop=True)
    out["area_code"] = streets["area_code"].to_numpy()[rows]
    return out
