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
        golden_id: str = typer.Argument(..., help="A golden id, e.g. G0000042 (a retired id shows its survivor), "
                                        "or a golden organisation, e.g. O0000005 (its locations and contacts)."),
        store: str = typer.Option(..., "--store", help="Golden store URL, e.g. sqlite:///golden.sqlite"),
        model: Path | None = typer.Option(None, "--model", help="Linkage model JSON (default: the last run's)."),
    ) -> None:
        """Every value of a golden record with its source record and rule, its members, and why they matched."""
        from cdq.explain import explain_golden
        from cdq.organisations import is_organisation_id
        from cdq.store import GoldenStore

        if is_organisation_id(golden_id):
            _explain_organisation(GoldenStore(store, must_exist=True), golden_id)
            return
        found = explain_golden(GoldenStore(store, must_exist=True), golden_id, model=model)
        moved = f" (asked for {found.asked}, merged into it)" if found.asked != found.golden_id else ""
        report.line(f"{found.golden_id}{moved}: {found.status}, version {found.version}, "
                    f"{int(found.members['live'].sum())} live source records")
        if found.organisation:
            report.line(f"organisation: {found.organisation}")
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


def _explain_organisation(store, organisation_id: str) -> None:
    """A golden organisation: values with source and rule, its locations and its contacts."""
    from cdq.explain import explain_organisation

    found = explain_organisation(store, organisation_id)
    moved = f" (asked for {found.asked}, merged into it)" if found.asked != found.organisation_id else ""
    report.line(f"{found.organisation_id}{moved}: organisation, {found.status}, version {found.version}, "
                f"{len(found.locations)} location(s), {len(found.contacts)} contact(s)")
    report.table(found.values, title="values: source record and survivorship rule", max_rows=100)
    report.table(found.locations, title="locations (one golden record per branch)", max_rows=200)
    if len(found.contacts):
        report.table(found.contacts, title="contacts", max_rows=200)
