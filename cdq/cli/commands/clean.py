"""``cdq clean``: import inputs and normalize them (names, phones, e-mails, postcodes, companies, dates)."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.clean import clean_files
from cdq.cli import report
from cdq.cli.paths import refuse_overwriting_inputs
from cdq.normalize import load_config


def register(app: typer.Typer) -> None:
    """Add ``cdq clean`` to the app."""

    @app.command("clean")
    @report.handle_errors
    def clean_command(
        inputs: list[str] = typer.Argument(..., help="Input files (any format `cdq import` reads)."),
        out: Path = typer.Option(
            ...,
            "--out",
            "-o",
            help="Cleaned file to write (.csv, .xlsx or .parquet): "
            "canonical columns, orig:/src: columns and an issues column.",
        ),
        mapping: Path | None = typer.Option(
            None, "--mapping", "-m", help="YAML file: input header -> canonical column."
        ),
        belgian: bool = typer.Option(
            False,
            "--belgian",
            help="Belgian name convention: surnames kept as registered, prefix included (Van den Broeck).",
        ),
        rules: Path | None = typer.Option(
            None, "--rules", help="Normalization settings (default: rules/normalization.yaml)."
        ),
        findings_path: Path | None = typer.Option(
            None, "--findings", help="Where to write the findings (default: next to --out, *.findings.csv)."
        ),
    ) -> None:
        """Import and normalize customer files; every change and doubt is recorded as a reason code."""
        refuse_overwriting_inputs(out, inputs)
        with report.progress_bar("cleaning") as progress:
            result = clean_files(inputs, mapping=mapping, config=load_config(rules, belgian=True if belgian else None),
                                 progress=progress)
        written = result.write(out, findings_path)
        report.table(result.issue_counts(), title="normalize")
        report.line(f"wrote {written['cleaned']} and {written['findings']}")
        if "quarantine" in written:
            report.line(f"{len(result.quarantine)} unreadable row(s) quarantined: {written['quarantine']}")
        report.line(result.summary_line())
