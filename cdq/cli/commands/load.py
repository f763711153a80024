"""``cdq load``: load what changed in the golden store into a SQL CRM."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq load`` to the app."""

    @app.command("load")
    @report.handle_errors
    def load_command(
        store: str = typer.Option(..., "--store", help="Golden store URL, e.g. sqlite:///golden.db"),
        crm: str = typer.Option(..., "--crm", help="CRM target URL: sqlite:///crm.db, postgresql://..., "
                                "bottlecrm+http://host:port, salesforce+https://..., dynamics+https://..., "
                                "hubspot+https://..., teamleader+https://... (token: $CDQ_CRM_TOKEN)."),
        mapping: Path | None = typer.Option(None, "--mapping", help="CRM mapping YAML (default: bundled)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
        full: bool = typer.Option(False, "--full", help="Compare every golden record, not only the changed ones."),
    ) -> None:
        """Delta-upsert golden records into the CRM in one transaction; ends with 'loaded: ...'."""
        from cdq.crm import load_from_store, load_mapping
        from cdq.crm.registry import target_from_url
        from cdq.store import GoldenStore

        target = target_from_url(crm, load_mapping(mapping) if mapping else None, state=store)
        with report.progress_bar("loading into the CRM") as progress:
            result, plan = load_from_store(GoldenStore(store, must_exist=True), target, dry_run=dry_run, full=full,
                                           progress=progress)
        if dry_run:
            for kind, groups in (("create", plan.creates), ("update", plan.updates)):
                for entity, rows in groups.items():
                    report.table(pd.DataFrame(rows), title=f"would {kind} ({entity})", max_rows=10)
            for entity, pairs in plan.merges.items():
                report.table(pd.DataFrame(pairs, columns=["merge", "into"]), title=f"would merge ({entity})")
        if len(plan.rejected):
            report.table(pd.DataFrame(plan.rejected), title="refused by the CRM (kept for the next load)")
        report.load_lines(result)
