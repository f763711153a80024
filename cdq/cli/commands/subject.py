"""``cdq subject find|export|erase|lift``: a data subject's rights of access and erasure (AVG/GDPR)."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from cdq.cli import report


def _who(by: str | None) -> str:
    try:
        return by or getpass.getuser()
    except OSError:  # no login name (a container): the audit still needs a name
        return "unknown"


def register(app: typer.Typer) -> None:
    """Add the ``cdq subject`` commands to the app."""
    subject_app = typer.Typer(help="A data subject's rights: find, export (access), erase (AVG/GDPR).",
                              no_args_is_help=True)
    app.add_typer(subject_app, name="subject")

    @subject_app.command("find")
    @report.handle_errors
    def find_command(
        store: str = typer.Option(..., "--store", help="Golden store URL, e.g. sqlite:///golden.sqlite"),
        golden_id: str | None = typer.Option(None, "--golden-id", help="A golden id (a merged id is followed)."),
        email: str | None = typer.Option(None, "--email"),
        phone: str | None = typer.Option(None, "--phone"),
        name: str | None = typer.Option(None, "--name", help='The name as written, e.g. "J. de Vries".'),
        postcode: str | None = typer.Option(None, "--postcode"),
        house_number: str | None = typer.Option(None, "--house-number"),
        birth_date: str | None = typer.Option(None, "--birth-date"),
    ) -> None:
        """Find a person's golden records with the linkage model (every record the pipeline would link)."""
        from cdq.privacy.subjects import find_subjects
        from cdq.store import GoldenStore

        found = find_subjects(GoldenStore(store, must_exist=True), golden_id=golden_id, email=email, phone=phone,
                              name=name, postcode=postcode, house_number=house_number, birth_date=birth_date)
        report.table(found, title="golden records of this person")
        report.line(f"found: {len(found)} golden record(s)")

    @subject_app.command("export")
    @report.handle_errors
    def export_command(
        golden_id: str = typer.Argument(..., help="The person's golden id (see `cdq subject find`)."),
        store: str = typer.Option(..., "--store", help="Golden store URL."),
        out: Path = typer.Option(..., "--out", help="Folder for subject_<id>.json and subject_<id>.html."),
    ) -> None:
        """Everything held about one person (right of access), as JSON and a readable Dutch letter."""
        from cdq.privacy.subjects import export_subject
        from cdq.store import GoldenStore

        paths = export_subject(GoldenStore(store, must_exist=True), golden_id, out)
        for kind, path in paths.items():
            report.line(f"{kind}: {path}")

    @subject_app.command("erase")
    @report.handle_errors
    def erase_command(
        golden_id: str = typer.Argument(..., help="The person's golden id (see `cdq subject find`)."),
        store: str = typer.Option(..., "--store", help="Golden store URL."),
        reason: str = typer.Option(..., "--reason", help="Why (kept in the erasure record), e.g. a request number."),
        crm: str | None = typer.Option(None, "--crm", help="CRM URL to delete the person from as well."),
        by: str | None = typer.Option(None, "--by", help="Who erases (default: the login name)."),
        workdir: Path | None = typer.Option(None, "--workdir", help="A pipeline work directory: delete the "
                                            "review workbook, exports and intermediates there that quote the person."),
    ) -> None:
        """Erase a person from the golden store (and the CRM), keeping only a tombstone."""
        from cdq.crm.registry import target_from_url
        from cdq.privacy import erase_subject
        from cdq.store import GoldenStore

        target = target_from_url(crm, state=store) if crm else None
        result = erase_subject(GoldenStore(store, must_exist=True), golden_id, reason=reason,
                               erased_by=_who(by), crm=target, workdir=workdir)
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(result.counts.items()))
        report.line(f"{'already erased' if result.already else 'erased'} {result.golden_id}: {counts}")
        for path in result.files_removed:
            report.line(f"removed: {path}")
        if result.files_to_regenerate:
            report.line(f"regenerate: {len(result.files_to_regenerate)} printout PDF(s) may show the person "
                        "(run `cdq printouts` again and destroy the old ones)")
        if result.crm_line:
            report.line(result.crm_line)

    @subject_app.command("lift")
    @report.handle_errors
    def lift_command(
        golden_id: str = typer.Argument(..., help="The erased golden id."),
        store: str = typer.Option(..., "--store", help="Golden store URL."),
        by: str | None = typer.Option(None, "--by", help="Who lifts it (default: the login name)."),
    ) -> None:
        """Let an erased person be imported again (the erasure record stays, the tombstone goes)."""
        from cdq.privacy import lift_erasure
        from cdq.store import GoldenStore

        n = lift_erasure(GoldenStore(store, must_exist=True), golden_id, lifted_by=_who(by))
        report.line(f"lifted the erasure of {golden_id}: {n} tombstone key(s) removed")
