"""``cdq split``: take one source record out of its golden record into a golden record of its own."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq split`` to the app."""

    @app.command("split")
    @report.handle_errors
    def split_command(
        ref: str = typer.Argument(..., help="The source record to split off, as SOURCE|KEY, e.g. 'erp|K1042'."),
        store: str = typer.Option(..., "--store", help="Golden store URL, e.g. sqlite:///golden.db"),
        rules: Path | None = typer.Option(None, "--rules", help="Survivorship YAML (default: bundled)."),
    ) -> None:
        """Split one source record off its golden record; it stays apart in later runs."""
        from cdq.golden import split_record
        from cdq.store import GoldenStore
        from cdq.survivorship import load_rules

        result = split_record(GoldenStore(store, must_exist=True), ref, load_rules(rules))
        new = result.xref["golden_id"].iloc[0]
        report.line(f"split {ref} off into {new}: {result.counts['golden_written']} golden records rewritten "
                    f"(run {result.run_id}); run `cdq load` to update the CRM")
