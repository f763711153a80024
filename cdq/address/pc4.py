"""PC4 plausibility: does the typed city fit the postcode's four digits?

Where no street-level register is loaded, the PC4 -> place/municipality/province table still catches
"1011 AB Rotterdam". ``cdq reference load-pc4 FILE`` loads such a table into the store; it accepts any CSV
with a PC4 column (``pc4`` or ``postcode``; a ``level`` column, if present, selects the ``PC4`` rows), a
place column (``plaats``, ``city``, ``locality`` or ``woonplaats``) and optionally ``gemeente`` and
``provincie`` (or ``province_code``). Several files can be loaded at once: their places are merged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdq.address.text import city_key, similar_keys
from cdq.errors import InputError

PC4_COLUMNS = {"pc4": ("pc4", "postcode"), "place": ("plaats", "city", "locality", "woonplaats"),
               "municipality": ("gemeente", "municipality"), "province": ("provincie", "province", "province_code")}


def read_pc4(path: str | Path) -> pd.DataFrame:
    """Read one PC4 table into columns ``pc4, place, municipality, province``.

    Examples:
        >>> import tempfile, os
        >>> f = os.path.join(tempfile.mkdtemp(), "pc4.csv")
        >>> _ = open(f, "w").write("level,postcode,plaats,gemeente,provincie\\nPC2,10,A,A,NH\\nPC4,1011,Amsterdam,Amsterdam,Noord-Holland\\n")
        >>> read_pc4(f).values.tolist()
        [[1011, 'Amsterdam', 'Amsterdam', 'Noord-Holland']]
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read the PC4 table ({e})") from e
    lower = {c.strip().lower(): c for c in raw.columns}
    if "level" in lower:
        raw = raw[raw[lower["level"]].str.upper() == "PC4"]
    picked = {t: next((lower[n] for n in names if n in lower), None) for t, names in PC4_COLUMNS.items()}
    if not picked["pc4"] or not picked["place"]:
        raise InputError(path, "needs a PC4 column (pc4/postcode) and a place column (plaats/city/locality)")
    out = pd.DataFrame({t: (raw[c].str.strip() if c else "") for t, c in picked.items()})
    out = out[out["pc4"].str.fullmatch(r"[1-9]\d{3}") & (out["place"] != "")]
    return out.astype({"pc4": int}).drop_duplicates(["pc4", "place"]).reset_index(drop=True)


def plausibility(pc4: pd.Series, city: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    """Per record: ``known`` (PC4 in the table), ``plausible`` (city fits a place or municipality of the
    PC4; ``True`` where no city is typed) and the PC4's ``municipality``/``province`` where it has exactly one.

    Each distinct (PC4, city) pair is compared once.

    Examples:
        >>> t = pd.DataFrame({"pc4": [1011], "place": ["Amsterdam"], "municipality": ["Amsterdam"],
        ...                   "province": ["Noord-Holland"]})
        >>> plausibility(pd.Series([1011, 1011, 9999]), pd.Series(["AMSTERDAM", "Rotterdam", "X"]), t)[
        ...     ["known", "plausible"]].values.tolist()
        [[True, True], [True, False], [False, True]]
    """
    names: dict[int, set[str]] = {}
    for p, place, muni in zip(table["pc4"], table["place"], table["municipality"]):
        names.setdefault(int(p), set()).update(k for k in (city_key(place), city_key(muni) if muni else "") if k)
    frame = pd.DataFrame({"pc4": pc4.to_numpy(), "city": city.to_numpy()})
    pairs = frame.drop_duplicates()
    verdict = {}
    for p, c in zip(pairs["pc4"], pairs["city"]):
        known = names.get(p)
        if known is None or c is None or not str(c).strip():
            verdict[(p, c)] = True
            continue
        key = city_key(str(c))
        verdict[(p, c)] = key in known or any(similar_keys(key, k) for k in known)
    single = table[table["municipality"].fillna("") != ""].groupby("pc4").agg(n=("municipality", "nunique"), municipality=("municipality", "first"),
                                      province=("province", "first"))
    single = single[single["n"] == 1]
    out = pd.DataFrame(index=pc4.index)
    out["known"] = pc4.isin(list(names)).to_numpy()
    out["plausible"] = np.array([verdict[(p, c)] for p, c in zip(frame["pc4"], frame["city"])], dtype=bool)
    info = single.reindex(pc4.to_numpy())
    for column in ("municipality", "province"):
        values = info[column].to_numpy(dtype=object)
        out[column] = [v if isinstance(v, str) and v else None for v in values]
    return out
