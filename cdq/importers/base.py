"""The contract every import adapter fulfils.

An adapter reads one file (or one database query) and returns one :class:`RawTable` per table found
(an Excel workbook may give one per sheet). A raw table holds the input exactly as typed: text cells,
original headers, and the row number a person would see when opening the file. Rows the adapter cannot
parse at all go to the table's quarantine with a reason; whole-file failures raise
:class:`cdq.errors.InputError`. :func:`cdq.staging.stage` then maps a raw table to canonical columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cdq.columns import empty_quarantine


@dataclass
class RawTable:
    """One table read from one input, before header mapping.

    Attributes:
        frame: every cell as ``str`` or ``None``; columns are the input's own headers (unique).
        rows: for each frame row, the 1-based row/record number a person sees in the file.
        source_file: the path as given.
        table: sheet name, mailbox folder, SQL table, or ``None`` for single-table files.
        quarantine: rows that could not be read (schema :data:`cdq.columns.QUARANTINE`).
        premapped: header -> canonical column decided by the adapter itself (vCard, mailbox, known
            Outlook/Google CSV layouts); these win over the synonym table but not over a mapping file.
        rows_in: number of input records seen (staged + quarantined must add up to it).
        notes: adapter facts worth reporting (detected encoding, delimiter, header row, skipped senders).
        premapped_only: the adapter named every column itself (vCard, mailbox): columns it did not
            premap are extra details, never matched against the synonym table.
    """

    frame: pd.DataFrame
    rows: list[int]
    source_file: str
    table: str | None = None
    quarantine: pd.DataFrame = field(default_factory=empty_quarantine)
    premapped: dict[str, str] = field(default_factory=dict)
    rows_in: int | None = None
    notes: dict[str, object] = field(default_factory=dict)
    premapped_only: bool = False

    def __post_init__(self) -> None:
        if "source_row" in self.quarantine.columns:
            # row numbers are integers in every adapter's quarantine (4.0 reads as a broken row number)
            rows = pd.to_numeric(self.quarantine["source_row"], errors="coerce").round().astype("Int64")
            self.quarantine = self.quarantine.assign(source_row=rows)
        if self.rows_in is None:
            self.rows_in = len(self.frame) + len(self.quarantine)
