"""Address reference tables in the flat BAG format, drawn from the synthetic address space.

:func:`write_demo_bag` writes ``reference_data/demo_bag.csv``: every true address of the fixture population
and its neighbours, so ``cdq demo`` can complete and verify addresses offline. :func:`write_synthetic_bag`
streams a national-size table (9.8 million rows) for benchmarks.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from cdq.synthetic.addresses import expand, street_table

logger = logging.getLogger(__name__)

BAG_COLUMNS = ["postcode", "huisnummer", "huisletter", "huisnummertoevoeging", "straat", "woonplaats", "gemeente",
               "provincie", "nummeraanduiding_id"]


def _write(frame: pd.DataFrame, path: Path, header: bool) -> None:
    frame[BAG_COLUMNS].to_csv(path, sep=";", index=False, header=header, mode="w" if header else "a",
                              lineterminator="\n")


def demo_bag(addresses: pd.DataFrame, neighbours: int = 6) -> pd.DataFrame:
    """The BAG rows of the streets in ``addresses`` (``street, house_number, city``), numbers within
    ``neighbours`` of a true number."""
    streets = street_table()
    keyed = addresses.rename(columns={"street": "street", "city": "place"})
    hit = streets.merge(keyed[["street", "place"]].drop_duplicates(), on=["street", "place"])
    wanted = hit.merge(keyed, on=["street", "place"])
    numbers = pd.to_numeric(wanted["house_number"], errors="coerce").fillna(1).astype(int).to_numpy()
    offsets = np.arange(-neighbours, neighbours + 1)
    around = (numbers[:, None] + offsets[None, :]).ravel()
    rows = np.repeat(np.arange(len(wanted)), len(offsets))
    ok = (around >= 1) & (around <= wanted["length"].to_numpy()[rows])
    pairs = pd.DataFrame({"row": rows[ok], "n": around[ok]}).drop_duplicates()
    pairs["key"] = wanted["place_idx"].to_numpy()[pairs["row"]] * 10000 + wanted["street_idx"].to_numpy()[pairs["row"]]
    pairs = pairs.drop_duplicates(["key", "n"])
    flat = expand(wanted.reset_index(drop=True), numbers=pairs["n"].to_numpy(), street_rows=pairs["row"].to_numpy())
    return flat.sort_values(["postcode", "huisnummer", "huisletter", "huisnummertoevoeging"]).reset_index(drop=True)


def write_demo_bag(population_csv: Path, path: Path) -> Path:
    """Write the demo BAG table for a population file (``street, house_number, city`` columns)."""
    pop = pd.read_csv(population_csv, dtype=str, keep_default_na=False)
    table = demo_bag(pop[["street", "house_number", "city"]])
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(table, path, header=True)
    logger.info("wrote %d addresses to %s", len(table), path)
    return path


def write_synthetic_bag(path: str | Path, n_addresses: int = 9_800_000, seed: int = 0,
                        chunk_streets: int = 4000, progress=None) -> int:
    """Stream a national-size synthetic BAG table (flat CSV, ``;``) of about ``n_addresses`` rows.

    Every place's first streets come first (those synthetic customer records use); further streets follow
    in a seeded random order until the row count is reached. The address space holds about 10 million
    dwellings; asking for more writes them all. Returns the number of rows written.

    Examples:
        >>> import tempfile, os
        >>> target = os.path.join(tempfile.mkdtemp(), "bag.csv")
        >>> write_synthetic_bag(target, n_addresses=5000)
        5000
    """
    path = Path(path)
    streets = street_table()
    core = streets["street_idx"] < 120
    rest = np.flatnonzero(~core.to_numpy())
    order = np.r_[np.flatnonzero(core.to_numpy()), np.random.default_rng(seed).permutation(rest)]
    written = 0
    for start in range(0, len(order), chunk_streets):
        chunk = expand(streets.iloc[np.sort(order[start:start + chunk_streets])].reset_index(drop=True))
        chunk = chunk.iloc[: n_addresses - written]
        _write(chunk, path, header=written == 0)
        written += len(chunk)
        if progress:
            progress(written, n_addresses)
        if written >= n_addresses:
            break
    logger.info("wrote %d synthetic BAG addresses to %s", written, path)
    return written
