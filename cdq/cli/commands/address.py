"""``cdq address complete``: complete and verify addresses against the BAG reference store."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report
from cdq.cli.paths import refuse_overwriting_inputs


def register(app: typer.Typer) -> None:
    """Add the ``cdq address`` command group."""
    group = typer.Typer(help="Complete and verify Dutch addresses (postcode + house number) against the BAG.",
                        no_args_is_help=True)
    app.add_typer(group, name="address")

    @group.command("complete")
    @report.handle_errors
    def complete_command(
        input_path: Path = typer.Argument(..., metavar="INPUT", help="Input file (CSV, Excel, vCard, ...)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output file (.csv, .xlsx or .parquet)."),
        reference: Path | None = typer.Option(None, "--reference", "-r", help="Reference store (default: "
                                              "$CDQ_BAG_STORE or ~/.cache/cdq/bag.sqlite)."),
        findings_path: Path | None = typer.Option(None, "--findings", help="Where to write the findings "
                                                  "(default: next to --out, *.findings.csv)."),
        mapping: Path | None = typer.Option(None, "--mapping", "-m", help="YAML file: input header -> "
                                            "canonical column."),
    ) -> None:
        """Add completed/verified address columns and an address_status per row; keeps every input column."""
        from cdq.address import AddressStore
        from cdq.address.files import complete_file
        from cdq.export import write_table
        from cdq.headers import load_mapping

        refuse_overwriting_inputs(out, [input_path])
        if not input_path.exists():
            from cdq.errors import InputError

            raise InputError(input_path, "file not found", hint="check the path")
        with AddressStore.open(reference) as store, report.progress_bar("completing addresses") as progress:
            result = complete_file(input_path, store, mapping=load_mapping(mapping) if mapping else None,
                                   progress=progress)
        write_table(result.frame, out)
        findings_out = findings_path or out.with_name(out.stem + ".findings.csv")
        write_table(result.findings, findings_out)
        report.table(result.status_counts(), title="address status")
        if len(result.quarantine):
            quarantine_out = out.with_name(out.stem + ".quarantine.csv")
            write_table(result.quarantine, quarantine_out)
            report.line(f"{len(result.quarantine)} row(s) without any usable field: written to {quarantine_out}")
        report.line(f"wrote {out} ({len(result.frame)} rows) and {findings_out} ({len(result.findings)} findings)")
