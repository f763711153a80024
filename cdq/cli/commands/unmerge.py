"""``cdq unmerge``: undo the merge that retired a golden id; its records and values come back."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq unmerge`` to the app."""

    @app.command("unmerge")
    @report.handle_errors
    def unmerge_command(
        golden_id: str = typer.Argument(..., help="The retired golden id to split out again, e.g. G0000042."),
        store: str = typer.Option(..., "--store", help="Golden store URL, e.g. sqlite:///golden.db"),
        rules: Path | None = typer.Option(None, "--rules", help="Survivorship YAML (default: bundled)."),
    ) -> None:
        """Split a merged golden record out again and restore its previous golden values."""
        from cdq.golden import unmerge
        from cdq.store import GoldenStore
        from cdq.survivorship import load_rules

        result = unmerge(GoldenStore(store, must_exist=True), golden_id, load_rules(rules))
        report.line(f"unmerged {golden_id}: {result.counts['golden_written']} golden records rewritten "
                    f"(run {result.run_id}); run `cdq load` to update the CRM")
