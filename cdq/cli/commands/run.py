"""``cdq run PIPELINE.yaml`` and ``cdq demo``: run a pipeline definition end to end."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report
from cdq.pipeline import run_pipeline
from cdq.resources import resource

CRM_HELP = "CRM target URL (e.g. sqlite:///crm.db, postgresql://...); default: the pipeline's own."


def register(app: typer.Typer) -> None:
    """Add ``cdq run`` and ``cdq demo`` to the app."""

    @app.command("run")
    @report.handle_errors
    def run_command(
        pipeline: Path = typer.Argument(..., exists=True, dir_okay=False, help="Pipeline definition (YAML)."),
        workdir: Path = typer.Option(Path("cdq-run"), "--workdir", "-w", help="Where the store, CRM and reports go."),
        crm: str | None = typer.Option(None, "--crm", help=CRM_HELP),
        dry_run: bool = typer.Option(False, "--dry-run", help="Show what the CRM load would change; change nothing."),
        keep_intermediates: bool = typer.Option(False, "--keep-intermediates", help="Write every intermediate "
                                                "frame to WORKDIR/intermediates/ (debugging)."),
        wait: float = typer.Option(60.0, "--wait", min=0, help="Seconds to wait when another process is writing "
                                   "the golden store, then stop and name it (0: stop at once)."),
    ) -> None:
        """Run a pipeline definition (batch cleanse, nightly merge, annual verification, ...)."""
        _run(pipeline, workdir, crm, dry_run, keep_intermediates, wait)

    @app.command("demo")
    @report.handle_errors
    def demo_command(
        workdir: Path = typer.Option(Path("cdq-demo"), "--workdir", "-w", help="Where the demo's store, CRM "
                                     "database and reports go (default: ./cdq-demo)."),
        crm: str | None = typer.Option(None, "--crm", help=CRM_HELP),
        keep_intermediates: bool = typer.Option(False, "--keep-intermediates", help="Write intermediate frames."),
    ) -> None:
        """Run the whole pipeline on the bundled fixtures into an embedded SQLite CRM (offline).

        Run it twice on the same --workdir: the second run is a nightly run that changes nothing.
        """
        _run(resource("pipelines", "demo.yaml"), workdir, crm, False, keep_intermediates)


def _run(pipeline: Path, workdir: Path, crm: str | None, dry_run: bool, keep_intermediates: bool,
         wait: float = 0.0) -> None:
    with report.progress_bar("running pipeline") as progress:
        ctx = run_pipeline(pipeline, workdir=workdir, crm=crm, dry_run=dry_run,
                           keep_intermediates=keep_intermediates, progress=progress, wait=wait)
    report.run_summary(ctx)
