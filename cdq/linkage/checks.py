"""Silent failure modes of record linkage made loud: missing input columns fail, a run that links nothing warns.

A frame without the columns linkage compares (headers not mapped) would give every record its own cluster;
a mistyped extra comparison column would compare "missing" with "missing". Both are errors (exit 2). A
run over a non-trivial file that finds no match at all is allowed, but says why it probably did not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.errors import ConfigError, UsageError

#: The canonical staging columns record linkage reads (cdq.linkage.prepare).
LINKAGE_COLUMNS = ("first_name", "initials", "last_name", "birth_date", "gender", "company_name", "kvk_number",
                   "street", "house_number", "postcode", "city", "bag_address_id", "email", "phone", "mobile")
#: A run over at least this many records that links none of them gets a warning.
NON_TRIVIAL_RECORDS = 100


def _filled(frame: pd.DataFrame, column: str) -> bool:
    """Whether any value of the column is non-empty (stops at the first: usually the first row)."""
    for value in frame[column].to_numpy(dtype=object):
        if value is not None and value == value and str(value).strip():
            return True
    return False


def check_input(frame: pd.DataFrame, settings) -> list[str]:
    """The linkage columns that carry values; raises when there are none or an extra column does not exist.

    Raises:
        ConfigError: an extra comparison names a column the input does not have.
        UsageError: two or more records and none of :data:`LINKAGE_COLUMNS` (nor an extra column) has a value.

    Examples:
        >>> from cdq.linkage.settings import load_settings
        >>> check_input(pd.DataFrame({"last_name": ["Jansen", "Bakker"], "city": [None, ""]}), load_settings())
        ['last_name']
        >>> check_input(pd.DataFrame({"naam": ["Jansen", "Bakker"]}), load_settings())
        Traceback (most recent call last):
        ...
        cdq.errors.UsageError: none of the columns record linkage compares is in the input ...
    """
    missing = [e.column for e in settings.extras if e.column not in frame.columns]
    if missing:
        raw = [c for c in frame.columns if str(c).startswith("src:")][:10]
        raise ConfigError(f"extra comparison column(s) {', '.join(map(repr, missing))} not in the input",
                          hint=f"input columns kept as src:: {', '.join(raw) or 'none'}")
    filled = [c for c in LINKAGE_COLUMNS if c in frame.columns and _filled(frame, c)]
    extras = [e.column for e in settings.extras if _filled(frame, e.column)]
    if len(frame) >= 2 and not filled and not extras:
        absent = [c for c in LINKAGE_COLUMNS if c not in frame.columns]
        detail = f"missing: {', '.join(absent)}" if absent else "all of them are empty"
        raise UsageError(f"none of the columns record linkage compares is in the input ({detail}); every record "
                         "would be its own cluster",
                         hint="map the input's headers to canonical columns (--mapping), e.g. "
                              f"{', '.join(LINKAGE_COLUMNS)}")
    return filled + extras


def no_match_warning(n: int, n_pairs: int, matched: np.ndarray, probability: np.ndarray, filled: list[str],
                     model, settings) -> str | None:
    """Why a run over a non-trivial file probably linked nothing (None when it linked something or is small).
    ``matched``: per candidate pair, whether it was decided a match.

    Examples:
        >>> no_match_warning(500, 0, np.array([]), np.array([]), ["company_name"], None, None)[:40]
        '500 records and no matched pair: no bloc'
    """
    if n < NON_TRIVIAL_RECORDS or matched.any():
        return None
    head = f"{n} records and no matched pair: "
    if n_pairs == 0:
        return head + (f"no blocking pass produced a candidate pair; the columns with values ({', '.join(filled)}) "
                       "are keys of no pass, or no two records share them (rules/matching.yaml blocking.passes)")
    best = float(np.max(probability)) if len(probability) else 0.0
    reason = f"{n_pairs} candidate pairs, the best scored {best:.2f} (auto_match {settings.auto_match:.2f})"
    why = (model.meta or {}).get("why") if model is not None else None
    if why:
        reason += f"; {why}, so the rules' prior model scored them"
    return head + reason + f"; fields with values: {', '.join(filled)}"
