"""``cdq retention apply`` and ``cdq privacy register``: storage limitation and the processing register."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq retention apply`` and ``cdq privacy register`` to the app."""
    retention_app = typer.Typer(help="Retention rules (rules/retention.yaml): purge what is kept long enough.",
                                no_args_is_help=True)
    app.add_typer(retention_app, name="retention")
    privacy_app = typer.Typer(help="Privacy (AVG/GDPR) documentation.", no_args_is_help=True)
    app.add_typer(privacy_app, name="privacy")

    @retention_app.command("apply")
    @report.handle_errors
    def apply_command(
        store: str = typer.Option(..., "--store", help="Golden store URL."),
        workdir: Path | None = typer.Option(None, "--workdir", help="A run's work directory (its artefacts age too)."),
        rules: Path | None = typer.Option(None, "--rules", help="Retention YAML (default: bundled)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="List what would be purged; change nothing."),
    ) -> None:
        """Purge source records, prospects, old versions and run artefacts past their retention."""
        from cdq.privacy.retention import apply_retention, load_retention
        from cdq.store import GoldenStore

        purged = apply_retention(GoldenStore(store, must_exist=True), load_retention(rules), workdir=workdir,
                                 dry_run=dry_run)
        report.table(purged, title="would be purged" if dry_run else "purged")
        counts = purged["kind"].value_counts().to_dict()
        summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items())) or "nothing"
        report.line(f"{'would purge' if dry_run else 'purged'}: {summary}")

    @privacy_app.command("register")
    @report.handle_errors
    def register_command(
        pipelines: list[Path] = typer.Argument(..., help="Pipeline YAML files whose processing to describe."),
        rules: Path | None = typer.Option(None, "--retention", help="Retention YAML (default: bundled)."),
        controller: str = typer.Option("", "--controller", help="The organisation responsible (printed on top)."),
        out: Path | None = typer.Option(None, "--out", help="Write the Markdown here instead of printing it."),
    ) -> None:
        """The processing register entry (verwerkingsregister) of the given pipelines, as Markdown."""
        from cdq.privacy.register import processing_register
        from cdq.privacy.retention import load_retention

        text = processing_register(pipelines, load_retention(rules), controller=controller)
        if out:
            out.write_text(text, encoding="utf-8")
            report.line(f"processing register: {out}")
        else:
            typer.echo(text)
