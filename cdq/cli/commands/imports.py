"""``cdq import``: read inputs of any supported kind and write the staging frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cdq.cli import report
from cdq.cli.paths import refuse_overwriting_inputs
from cdq.export import write_table
from cdq.headers import load_mapping
from cdq.staging import import_inputs


def register(app: typer.Typer) -> None:
    """Add ``cdq import`` to the app."""

    @app.command("import")
    @report.handle_errors
    def import_command(
        inputs: list[str] = typer.Argument(..., help="Files: CSV/TXT, XLSX/XLS/ODS, VCF, MBOX/EML/MSG, a folder "
                                           "of .eml files, or an SQLAlchemy URL like sqlite:///db.sqlite?table=klanten"),
        out: Path = typer.Option(..., "--out", "-o", help="Staging frame to write (.csv, .parquet or .xlsx)."),
        mapping: Path | None = typer.Option(None, "--mapping", "-m", help="YAML file: input header -> canonical column."),
        sheet: str | None = typer.Option(None, "--sheet", help="Excel: read only this sheet (default: every sheet)."),
        quarantine: Path | None = typer.Option(None, "--quarantine", help="Where to write quarantined rows "
                                               "(default: next to --out, *.quarantine.csv)."),
        explain_mapping: bool = typer.Option(False, "--explain-mapping", help="Also say why each input column "
                                             "went where it went (synonym, words, layout, values, mapping file)."),
    ) -> None:
        """Import customer files into one staging frame (canonical columns + the input's own columns)."""
        refuse_overwriting_inputs(out, inputs)
        mapping_file = load_mapping(mapping) if mapping else None
        options: dict[str, Any] = {"sheet": sheet} if sheet else {}
        with report.progress_bar("importing") as progress:
            result = import_inputs(inputs, mapping=mapping_file, progress=progress, **options)
        write_table(result.staging, out)
        quarantine_path = quarantine or out.with_name(out.stem + ".quarantine.csv")
        write_table(result.quarantine, quarantine_path)
        report.import_summary(result.tables, mapping=True, explain=explain_mapping)
        report.line(f"wrote {out} and {quarantine_path}")
        report.line(result.accounting_line())
