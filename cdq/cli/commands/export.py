"""``cdq export``: the golden records of a store as a file, optionally pseudonymised for tests and vendors."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq export`` to the app."""

    @app.command("export")
    @report.handle_errors
    def export_command(
        store: str = typer.Option(..., "--store", help="Golden store URL."),
        out: Path = typer.Option(..., "--out", help="The file to write (.csv, .xlsx or .parquet)."),
        pseudonymise: bool = typer.Option(False, "--pseudonymise", help="Replace names, e-mails, phones, house "
                                          "numbers and birth dates by keyed pseudonyms (key: CDQ_PSEUDONYM_KEY)."),
        organisations: bool = typer.Option(False, "--organisations", help="Write the golden organisations "
                                           "instead: one row each, with the golden ids of its locations and contacts."),
    ) -> None:
        """Write the active golden records (or organisations) to a file (owner-only permissions)."""
        from cdq.privacy.export import export_golden

        path, n = export_golden(store, out, pseudonymise=pseudonymise, organisations=organisations)
        what = "golden organisations" if organisations else "golden records"
        report.line(f"exported {n} {what}{' (pseudonymised)' if pseudonymise else ''}: {path}")
