"""``cdq review export|apply``: the steward's review workbook for uncertain pairs."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq review export`` and ``cdq review apply`` to the app."""
    review_app = typer.Typer(help="Steward review of uncertain pairs (Excel/LibreOffice workbook).",
                             no_args_is_help=True)
    app.add_typer(review_app, name="review")

    @review_app.command("export")
    @report.handle_errors
    def export_command(
        pairs: Path = typer.Option(..., "--pairs", help="Scored pairs (.parquet/.csv, e.g. intermediates/pairs)."),
        records: Path = typer.Option(..., "--records", help="The records the pairs refer to (.parquet/.csv)."),
        out: Path = typer.Option(..., "--out", help="The review workbook to write (.xlsx)."),
        store: str | None = typer.Option(None, "--store", help="Golden store URL: leave out pairs already decided."),
    ) -> None:
        """Write the pairs in the review band to a workbook a steward can decide in."""
        from cdq.gates.tables import read_table
        from cdq.review import export_review, load_decisions

        decisions = load_decisions(store) if store else None
        path = export_review(read_table(pairs), read_table(records), out, decisions)
        report.line(f"review workbook: {path}")

    @review_app.command("apply")
    @report.handle_errors
    def apply_command(
        workbook: Path = typer.Argument(..., help="The decided review workbook (.xlsx or .ods)."),
        store: str = typer.Option(..., "--store", help="Golden store URL, e.g. sqlite:///golden.sqlite"),
        by: str | None = typer.Option(None, "--by", help="Who decided (default: the login name)."),
    ) -> None:
        """Apply a review workbook's decisions to the golden store now and store them for every later run.

        A match joins the two golden records (refused, with the rule, when a cannot-link rule such as a
        different gender or birth date separates them; 'force match' overrides). A no match on two records
        of one golden record takes the newer one out into a golden record of its own.
        """
        from cdq.review import apply_review

        result = apply_review(workbook, store, by)
        if len(result.outcomes):
            report.table(result.outcomes, title="decisions (golden records before and after)", max_rows=200)
        report.line(result.line())
