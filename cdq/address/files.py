"""Complete the addresses of a whole input file (what ``cdq address complete`` does).

The file is read by the import adapters and mapped to canonical columns (header synonyms, combined
fields such as "Kerkstraat 12-A" split), completed with :func:`cdq.address.complete`, and returned as the
input's own columns plus the completed canonical address columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdq.address.complete import ADDRESS_COLUMNS, NEW_COLUMNS, ORIG_PREFIX, complete
from cdq.columns import RAW_PREFIX, empty_quarantine
from cdq.headers import MappingFile
from cdq.importers import read_input
from cdq.log import Progress
from cdq.staging import stage


@dataclass
class FileResult:
    """Output rows (input columns + address columns), findings and rows that could not be staged."""

    frame: pd.DataFrame
    findings: pd.DataFrame
    quarantine: pd.DataFrame

    def status_counts(self) -> pd.DataFrame:
        counts = self.frame["address_status"].value_counts()
        return counts.rename_axis("address_status").reset_index(name="rows")


def complete_file(path: str | Path, store, *, mapping: MappingFile | None = None,
                  progress: Progress | None = None) -> FileResult:
    """Read ``path`` (any supported input), complete its addresses against ``store`` (``progress``: see
    :func:`~cdq.address.complete.complete`)."""
    frames, quarantines = [], [empty_quarantine()]
    for raw in read_input(path):
        staging, quarantine = stage(raw, mapping=mapping)
        frames.append(staging)
        quarantines.append(quarantine)
    staging = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    done, findings = complete(staging, store, progress=progress)
    return FileResult(_output(done), findings, pd.concat(quarantines, ignore_index=True))


def _output(done: pd.DataFrame) -> pd.DataFrame:
    """The input's own columns (original headers) followed by the address result columns.

    An input header that is itself a result column name (``postcode``) is replaced in place by the
    completed value; the typed value stays in ``orig:postcode`` when it changed.
    """
    raw = [c for c in done.columns if str(c).startswith(RAW_PREFIX)]
    out = done[raw].copy()
    out.columns = [c[len(RAW_PREFIX):] for c in raw]
    results = ADDRESS_COLUMNS + NEW_COLUMNS + [c for c in done.columns if str(c).startswith(ORIG_PREFIX)]
    for column in results:
        out[column] = done[column].to_numpy()
    return out
