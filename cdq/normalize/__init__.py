"""Normalization of Dutch customer fields, one module per field family.

:func:`normalize` is the stage function: it takes a staging frame (``cdq.columns.CANONICAL`` plus the
input's ``src:`` columns) and returns it with canonical values normalized in the canonical columns, new
columns (below), the row's reason codes appended to ``issues``, and a findings frame with one row per
change or flag (``cdq.columns.FINDINGS``). Reason codes are documented in ``docs/reason_codes.md``.

Columns it adds: ``suffix``, ``partner_infix``, ``partner_last_name``, ``name_use`` (own | partner |
partner-own | own-partner), ``name_use_brp`` (the same as the BRP's E/P/V/N), ``salutation``, ``envelope_name``, ``email_suggestion``,
``postcode_pc4``. Before a canonical column is overwritten, its original value is kept in
``orig:<column>`` for the rows where normalization changed it (empty elsewhere); the column is only added
when at least one value changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from cdq.columns import CANONICAL, NAME_DERIVED
from cdq.log import Progress, ProgressLog
from cdq.normalize._report import Collector
from cdq.normalize.settings import NormalizeConfig, load_config

__all__ = ["normalize", "NormalizeConfig", "load_config", "ADDED_COLUMNS", "ORIG_PREFIX"]

logger = logging.getLogger(__name__)

ORIG_PREFIX = "orig:"
ADDED_COLUMNS = [*NAME_DERIVED, "email_suggestion", "postcode_pc4"]
#: Canonical columns normalize may rewrite (their changed originals go to ``orig:<column>``).
REWRITTEN = [
    "title",
    "initials",
    "first_name",
    "infix",
    "last_name",
    "gender",
    "birth_date",
    "party_type",
    "legal_form",
    "kvk_number",
    "vat_number",
    "street",
    "house_number",
    "house_letter",
    "house_number_addition",
    "postcode",
    "country",
    "email",
    "phone",
    "mobile",
]


def _families(config: NormalizeConfig) -> dict[str, Callable[[pd.DataFrame, Collector], None]]:
    from cdq.normalize import addresses, countries, dates, emails, name_lines, organisations, phones

    def normalize_addresses(f: pd.DataFrame, r: Collector) -> None:
        addresses.normalize_postcodes(f, r)
        addresses.normalize_house_numbers(f, r)
        countries.normalize_countries(f, r, config.region)

    return {
        "organisations": lambda f, r: organisations.normalize_organisations(f, r),
        "names": lambda f, r: name_lines.normalize_names(f, r, config),
        "addresses": normalize_addresses,
        "phones": lambda f, r: phones.normalize_phones(f, r, config.region),
        "emails": lambda f, r: emails.normalize_emails(f, r, config.check_deliverability),
        "dates": lambda f, r: dates.normalize_birth_dates(f, r),
    }


def normalize(
    frame: pd.DataFrame, config: NormalizeConfig | None = None, *, progress: Progress | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalize a staging frame; return ``(frame, findings)``. The input frame is not modified.

    Args:
        frame: a staging frame; missing canonical columns are treated as empty.
        config: resolved settings (default: ``rules/normalization.yaml``'s defaults).
        progress: optional ``(done, total)`` callback, called after each field family.

    Examples:
        >>> df = pd.DataFrame({"record_id": ["a"], "last_name": ["VRIES DE"], "postcode": ["1234ab"],
        ...                    "phone": ["06-12345678"]})
        >>> out, findings = normalize(df)
        >>> out.loc[0, ["infix", "last_name", "postcode", "mobile"]].tolist()
        ['de', 'Vries', '1234 AB', '+31612345678']
        >>> out.loc[0, "issues"]
        'NAME_INFIX_MOVED;COUNTRY_DEFAULTED;PHONE_MOVED_TO_MOBILE'
    """
    config = config or NormalizeConfig()
    out = frame.copy().reset_index(drop=True)
    for column in CANONICAL:
        if column not in out:
            out[column] = None
        else:
            out[column] = _as_text(out[column])
    originals = {c: out[c].to_numpy(dtype=object).copy() for c in REWRITTEN}
    report = Collector(out)
    families = _families(config)
    tick = ProgressLog(logger, "normalize", len(config.families), progress=progress)
    for k, name in enumerate(config.families, start=1):
        start = time.perf_counter()
        families[name](out, report)
        logger.info("normalize %s: %d rows in %.1fs", name, len(out), time.perf_counter() - start)
        tick(k)
    for column in ADDED_COLUMNS:
        if column not in out:
            out[column] = None
    _keep_originals(out, originals)
    out["issues"] = report.issues(out["issues"])
    return out, report.findings()


def _as_text(series: pd.Series) -> pd.Series:
    """Values as str (Excel gives ints and floats: 1234.0 → "1234"), missing as None."""
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return series.where(series.notna(), None)
    values = series.astype(object)
    return values.where(values.isna(), values.map(_text, na_action="ignore")).where(values.notna(), None)


def _text(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _keep_originals(out: pd.DataFrame, originals: dict[str, np.ndarray]) -> None:
    """``orig:<column>`` holds the pre-normalization value where it changed (None elsewhere)."""
    for column, before in originals.items():
        after = out[column].to_numpy(dtype=object)
        changed = pd.notna(before) & (before != after)
        if changed.any():
            # A second run keeps the first run's originals for the rows it does not change again.
            kept = (out[ORIG_PREFIX + column].to_numpy(dtype=object) if ORIG_PREFIX + column in out
                    else np.full(len(out), None, dtype=object))
            out[ORIG_PREFIX + column] = np.where(changed, before, kept)


def _register_codes() -> None:
    """The normalize stage's reason codes are registered in :mod:`cdq.reasons`; importing it is enough."""
    import cdq.reasons  # noqa: F401


_register_codes()
