"""Find a missing postcode from street + house number + city.

The city names the register places (by name, alias, municipality or a close spelling); the street is
looked up among the streets those places have (by comparison key, then by a close spelling); the
register addresses with that street and number then give the postcode. Work is done once per distinct
(city, street) pair and the address lookup is one batched join.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.address.keys import per_distinct
from cdq.address.text import city_key, similar_keys, street_key


def _places_for(cities: list[str], places: pd.DataFrame) -> dict[str, set[int]]:
    """Typed city -> register place ids (woonplaats name first, then municipality, then a close spelling)."""
    city_keys = places["city"].map(city_key)
    muni_keys = places["municipality"].map(lambda v: city_key(v) if v else "")
    by_city = pd.Series(places.index, index=city_keys).groupby(level=0).agg(set).to_dict()
    by_muni = pd.Series(places.index, index=muni_keys).groupby(level=0).agg(set).to_dict()
    out = {}
    for city in cities:
        key = city_key(city)
        ids = by_city.get(key) or by_muni.get(key)
        if not ids:
            close = [k for k in by_city if similar_keys(key, k)]
            ids = set().union(*(by_city[k] for k in close)) if close else set()
        out[city] = ids
    return out


def _streets_for(pairs: pd.DataFrame, place_ids: dict[str, set[int]], store) -> dict[tuple[str, str], set[int]]:
    """(typed city, typed street) -> register street ids in those places: by key, else by a close spelling."""
    needed = set().union(*place_ids.values()) if place_ids else set()
    streets = store.place_streets()
    streets = streets[streets["place_id"].isin(needed)].copy()
    streets["key"] = per_distinct(pd.Series(store.street_names[streets["street_id"].to_numpy()]), street_key)
    wanted = pd.DataFrame([(c, s, p, street_key(s)) for c, s in zip(pairs["city"], pairs["street"])
                           for p in place_ids.get(c, ())], columns=["city", "street", "place_id", "key"])
    hits = wanted.merge(streets, on=["place_id", "key"])
    out = hits.groupby(["city", "street"])["street_id"].agg(set).to_dict() if len(hits) else {}
    by_place = streets.groupby("place_id")[["key", "street_id"]]
    keys_of = {p: list(zip(g["key"], g["street_id"])) for p, g in by_place} if len(streets) else {}
    for city, street in zip(pairs["city"], pairs["street"]):
        if (city, street) not in out:
            key = street_key(street)
            out[(city, street)] = {sid for p in place_ids.get(city, ()) for k, sid in keys_of.get(p, ())
                                   if similar_keys(key, k)}
    return out


def find_postcodes(store, given: pd.DataFrame) -> pd.DataFrame:
    """For records without postcode: ``pc_code`` (encoded postcode or -1) and ``status``
    (``found``, ``not_found`` or ``ambiguous``), one row per record in ``given`` order."""
    given = given.reset_index(drop=True)
    place_ids = _places_for(sorted(set(given["city"])), store.places)
    pairs = given[["city", "street"]].drop_duplicates()
    street_ids = _streets_for(pairs, place_ids, store)
    wanted = [(s, int(n), i) for i, (c, st, n) in enumerate(zip(given["city"], given["street"], given["number"]))
              for s in street_ids[(c, st)]]
    status = np.full(len(given), "not_found", dtype=object)
    pc_code = np.full(len(given), -1, dtype=np.int64)
    if not wanted:
        return pd.DataFrame({"pc_code": pc_code, "status": status})
    keys = pd.DataFrame(wanted, columns=["street_id", "number", "row"])
    hits = store.by_street(keys["street_id"].to_numpy(), keys["number"].to_numpy())
    hits = keys.merge(hits[["street_id", "number", "place_id", "pc_code"]], on=["street_id", "number"])
    rows_city = given["city"].to_numpy()
    in_place = np.array([p in place_ids[rows_city[r]] for p, r in zip(hits["place_id"], hits["row"])], dtype=bool)
    hits = hits[in_place]
    per_row = hits.groupby("row")["pc_code"].agg(["nunique", "first"])
    one = per_row[per_row["nunique"] == 1]
    pc_code[one.index.to_numpy()] = one["first"].to_numpy()
    status[one.index.to_numpy()] = "found"
    status[per_row.index[per_row["nunique"] > 1].to_numpy()] = "ambiguous"
    return pd.DataFrame({"pc_code": pc_code, "status": status})
