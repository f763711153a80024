"""``cdq explain GOLDEN_ID`` and ``cdq why REF_A REF_B``: where a golden record's values come from, why records matched."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq explain`` and ``cdq why`` to the app."""

    @app.command("explain")
    @report.handle_errors
    def explain_command(
        golden_id: str = typer.Argument(..., help="A golden id, e.g. G0000042 (a retired id shows its survivor)."),
        store: str = typer.Option(..., "--store", help="Golden store URL, e.g. sqlite:///golden.sqlite"),
        model: Path | None = typer.Option(None, "--model", help="Linkage model JSON (default: the last run's)."),
    ) -> None:
        """Every value of a golden record with its source record and rule, its members, and why they matched."""
        from cdq.explain import explain_golden
        from cdq.store import GoldenStore

        found = explain_golden(GoldenStore(store, must_exist=True), golden_id, model=model)
        moved = f" (asked for {found.asked}, merged into it)" if found.asked != found.golden_id else ""
        report.line(f"{found.golden_id}{moved}: {found.status}, version {found.version}, "
                    f"{int(found.members['live'].sum())} live source records")
        report.table(found.values, title="values: source record and survivorship rule", max_rows=100)
        report.table(found.members, title="member records", max_rows=100)
        if len(found.pairs):
            report.table(found.pairs.drop(columns=["cannot_link"]), title="why they matched", max_rows=50)

    @app.command("why")
    @report.handle_errors
    def why_command(
        ref_a: str = typer.Argument(..., help="A stored source record, SOURCE|KEY (e.g. 'erp|K1042')."),
        ref_b: str = typer.Argument(..., help="The other source record."),
        store: str = typer.Option(..., "--store", help="Golden store URL, e.g. sqlite:///golden.sqlite"),
        model: Path | None = typer.Option(None, "--model", help="Linkage model JSON (default: the last run's)."),
    ) -> None:
        """The pair's evidence field by field (level and weight), its match probability and decision."""
        from cdq.explain import why
        from cdq.store import GoldenStore

        report.table(why(GoldenStore(store, must_exist=True), ref_a, ref_b, model=model),
                     title=f"why: {ref_a} / {ref_b}")
