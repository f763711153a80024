"""``cdq gates check``: run the quality-gate expectations on a staging or golden file (exit 1 on failure)."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq gates check`` to the app."""
    gates_app = typer.Typer(help="Quality gates (Great Expectations suites under rules/expectations).",
                            no_args_is_help=True)
    app.add_typer(gates_app, name="gates")

    @gates_app.command("check")
    @report.handle_errors
    def check_command(
        input: Path = typer.Argument(..., help="A staging/checked or golden table (.csv, .parquet, .xlsx)."),
        suite: str = typer.Option("staging", "--suite", help="Which suite: staging or golden."),
        suites: Path | None = typer.Option(None, "--suites", help="Folder with the suite JSON files."),
        docs: Path | None = typer.Option(None, "--docs", help="Write the Great Expectations Data Docs here."),
    ) -> None:
        """Validate INPUT against an expectation suite; exit 1 when a critical expectation fails."""
        from cdq.errors import UsageError
        from cdq.gates import check, run_gates
        from cdq.gates.tables import read_table

        if suite not in ("staging", "golden"):
            raise UsageError(f"--suite must be staging or golden, not {suite!r}")
        frame = read_table(input)
        result = run_gates(**{suite: frame}, suite_directory=suites, docs_dir=docs)
        failures = result.failures
        if len(failures):
            report.table(failures[["suite", "expectation", "column", "critical", "failed_rows", "checked_rows",
                                   "detail"]], title="failed expectations")
        if result.docs_index is not None:
            report.line(f"data docs: {result.docs_index}")
        check(result)
        report.line(result.summary())
