"""Helpers shared by the delimited-text and spreadsheet adapters: header clean-up and row accounting."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdq.columns import QUARANTINE


def unique_headers(cells: Sequence[object]) -> list[str]:
    """The input's headers made usable: stripped, blanks named ``Unnamed N``, duplicates numbered.

    ``N`` is the 1-based column number a person sees; a repeated header gets `` 2``, `` 3``...

    Examples:
        >>> unique_headers(["Naam", " ", "E-mail", "E-mail", None])
        ['Naam', 'Unnamed 2', 'E-mail', 'E-mail 2', 'Unnamed 5']
    """
    out: list[str] = []
    seen: set[str] = set()
    next_number: dict[str, int] = {}  # per base name: the next suffix to try (keeps this linear)
    for i, cell in enumerate(cells, start=1):
        name = " ".join(str(cell).split()) if cell is not None else ""
        base = name or f"Unnamed {i}"
        candidate, k = base, next_number.get(base.lower(), 2)
        while candidate.lower() in seen:
            candidate, k = f"{base} {k}", k + 1
        next_number[base.lower()] = k
        seen.add(candidate.lower())
        out.append(candidate)
    return out


#: The most columns a table may have (Excel's and LibreOffice's own limit).
MAX_COLUMNS = 16_384


def check_width(path: object, width: int, what: str = "the header") -> None:
    """Refuse a table wider than :data:`MAX_COLUMNS`, naming the limit."""
    if width > MAX_COLUMNS:
        from cdq.errors import InputError

        raise InputError(path, f"{what} has {width:,} columns; cdq reads at most {MAX_COLUMNS:,} columns "
                         "(Excel's limit)", hint="check the delimiter, or split the file")


def looks_like_data(cells: Sequence[object]) -> bool:
    """A first row that holds data rather than headers: an e-mail address or a bare number in it.

    Examples:
        >>> looks_like_data(["Jan", "jan@example.nl"])
        True
        >>> looks_like_data(["1", "Jansen"])
        True
        >>> looks_like_data(["Voornaam", "E-mail", "Telefoon 2"])
        False
    """
    for cell in cells:
        text = str(cell).strip() if cell is not None else ""
        if "@" in text or (text and text.replace(" ", "").isdigit()):
            return True
    return False


def generated_headers(n: int) -> list[str]:
    """``column_1 .. column_n`` for a file without a header row."""
    return [f"column_{i}" for i in range(1, n + 1)]


def quarantine_frame(records: list[dict]) -> pd.DataFrame:
    """A quarantine frame (:data:`cdq.columns.QUARANTINE`) from dicts holding some of its keys."""
    frame = pd.DataFrame([{c: r.get(c) for c in QUARANTINE} for r in records], columns=QUARANTINE)
    return frame.astype({"source_row": "Int64"})


def text_frame(headers: list[str], rows: list[list[object]], *, all_text: bool = False) -> pd.DataFrame:
    """A frame of ``str``/``None`` cells with the given headers (empty text becomes ``None``).

    ``all_text``: the caller promises every row is a list of ``len(headers)`` cells, each ``str`` or
    ``None`` (a delimited file); the frame is then built as one 2-D array, with no Python call per cell.
    """
    if all_text and rows and headers:
        cells = np.array(rows, dtype=object)
        cells[cells == ""] = None
        return pd.DataFrame(cells, columns=headers)
    columns = list(zip(*rows, strict=False)) if rows else [()] * len(headers)
    data = {
        h: pd.Series([v if v != "" else None for v in col], dtype="object")
        for h, col in zip(headers, columns, strict=False)
    }
    return pd.DataFrame(data, columns=headers)
