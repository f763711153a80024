"""Import and normalize customer files in one call: what ``cdq clean`` does, as a library function.

:func:`clean_files` composes the import (every adapter, header mapping, staging) with the normalize stage and
returns a :class:`CleanResult` that knows how to write itself, so the CLI, notebooks and the service share
one implementation of import → normalize → write.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cdq.export import write_table
from cdq.headers import MappingFile, load_mapping
from cdq.log import Progress
from cdq.normalize import NormalizeConfig, load_config, normalize
from cdq.staging import ImportResult, import_inputs

__all__ = ["CleanResult", "clean_files"]

logger = logging.getLogger(__name__)


@dataclass
class CleanResult:
    """The cleaned staging frame, its findings, and the import it came from (quarantine, accounting)."""

    cleaned: pd.DataFrame
    findings: pd.DataFrame
    imported: ImportResult

    @property
    def quarantine(self) -> pd.DataFrame:
        """Rows no adapter could read or that carry no usable field, with the reason."""
        return self.imported.quarantine

    def issue_counts(self) -> pd.DataFrame:
        """Rows per reason code and severity, most frequent first."""
        if self.findings.empty:
            return pd.DataFrame(columns=["reason_code", "severity", "rows"])
        counts = self.findings.groupby(["reason_code", "severity"]).size().rename("rows").reset_index()
        return counts.sort_values(["rows", "reason_code"], ascending=[False, True], ignore_index=True)

    def summary_line(self) -> str:
        """``cleaned: N rows, N with issues, N findings; rows in = staged + quarantined``."""
        flagged = int((self.cleaned["issues"].fillna("") != "").sum()) if "issues" in self.cleaned else 0
        return (f"cleaned: {len(self.cleaned)} rows, {flagged} with issues, {len(self.findings)} findings; "
                f"{self.imported.accounting_line()}")

    def write(self, out: str | Path, findings: str | Path | None = None) -> dict[str, Path]:
        """Write the cleaned frame to ``out`` (.csv, .xlsx or .parquet), the findings next to it
        (``*.findings.csv`` unless ``findings`` is given) and the quarantine (``*.quarantine.csv``, only
        when there is one); return what was written, by name."""
        out = Path(out)
        written = {"cleaned": write_table(self.cleaned, out),
                   "findings": write_table(self.findings, findings or out.with_name(out.stem + ".findings.csv"))}
        if len(self.quarantine):
            written["quarantine"] = write_table(self.quarantine, out.with_name(out.stem + ".quarantine.csv"))
        return written


def clean_files(paths: Sequence[str | Path] | str | Path, *, mapping: MappingFile | str | Path | None = None,
                config: NormalizeConfig | str | Path | None = None, keep_unusable: bool = True,
                progress: Progress | None = None, **options: Any) -> CleanResult:
    """Import every input and normalize the result; nothing is written (see :meth:`CleanResult.write`).

    Args:
        paths: files (CSV, Excel, vCard, mailbox, ...), folders of .eml files or SQLAlchemy URLs.
        mapping: a header mapping (object or YAML path): input header → canonical column.
        config: normalize settings (object, YAML path, or None for ``rules/normalization.yaml``).
        keep_unusable: keep rows without identifying fields (flagged ``NO_USABLE_FIELDS``) instead of
            quarantining them.
        progress: optional ``(done, total)`` callback, called after each input, then after each step of
            normalize.
        options: passed to the import adapters (e.g. ``sheet="Klanten"``).

    Examples:
        >>> from cdq.resources import resource
        >>> result = clean_files([resource("fixtures", "backoffice_export.csv")])
        >>> result.imported.rows_in == len(result.cleaned) + len(result.quarantine)
        True
        >>> result.cleaned.loc[0, "postcode"]   # 3044TQ in the file
        '3044 TQ'
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if mapping is not None and not isinstance(mapping, MappingFile):
        mapping = load_mapping(mapping)
    if not isinstance(config, NormalizeConfig):
        config = load_config(config)
    imported = import_inputs(list(paths), mapping=mapping, progress=progress, keep_unusable=keep_unusable, **options)
    cleaned, findings = normalize(imported.staging, config, progress=progress)
    logger.info("cleaned %d inputs: %d rows, %d findings", len(paths), len(cleaned), len(findings))
    return CleanResult(cleaned, findings, imported)
