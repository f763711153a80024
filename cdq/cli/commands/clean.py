"""``cdq clean``: import inputs and normalize them (names, phones, e-mails, postcodes, companies, dates)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from cdq.cli import report
from cdq.cli.paths import refuse_overwriting_inputs
from cdq.export import write_table
from cdq.headers import load_mapping
from cdq.normalize import load_config, normalize
from cdq.staging import import_inputs


def _issue_counts(findings: pd.DataFrame) -> pd.DataFrame:
    """Rows per reason code, most frequent first (rendered as the command's summary table)."""
    if findings.empty:
        return pd.DataFrame(columns=["reason_code", "severity", "rows"])
    counts = findings.groupby(["reason_code", "severity"]).size().rename("rows").reset_index()
    return counts.sort_values(["rows", "reason_code"], ascending=[False, True])


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
        config = load_config(rules, belgian=True if belgian else None)
        mapping_file = load_mapping(mapping) if mapping else None
        with report.progress_bar("importing") as progress:
            imported = import_inputs(inputs, mapping=mapping_file, progress=progress, keep_unusable=True)
        cleaned, findings = normalize(imported.staging, config)
        write_table(cleaned, out)
        findings_out = findings_path or out.with_name(out.stem + ".findings.csv")
        write_table(findings, findings_out)
        report.table(_issue_counts(findings), title="normalize")
        report.line(f"wrote {out} and {findings_out}")
        if len(imported.quarantine):
            quarantine_out = out.with_name(out.stem + ".quarantine.csv")
            write_table(imported.quarantine, quarantine_out)
            report.line(f"{len(imported.quarantine)} unreadable row(s) quarantined: {quarantine_out}")
        flagged = int((cleaned["issues"].fillna("") != "").sum())
        report.line(
            f"cleaned: {len(cleaned)} rows, {flagged} with issues, {len(findings)} findings; "
            f"{imported.accounting_line()}"
        )
