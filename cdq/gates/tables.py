"""Read an intermediate table (a pipeline artefact) back: CSV (as written by cdq), Parquet or Excel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdq.errors import InputError


def read_table(path: str | Path) -> pd.DataFrame:
    """A frame from ``.csv``/``.txt`` (all text), ``.parquet`` or ``.xlsx``; unreadable input is an InputError.

    Examples:
        >>> read_table("no/such/file.csv")
        Traceback (most recent call last):
        ...
        cdq.errors.InputError: no/such/file.csv: file not found (give an existing .csv, .parquet or .xlsx file)
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", hint="give an existing .csv, .parquet or .xlsx file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=str)
    except (ValueError, OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read it as {suffix[1:]}: {type(e).__name__}") from e
    raise InputError(path, f"unsupported format {suffix!r}", hint="use .csv, .parquet or .xlsx")
