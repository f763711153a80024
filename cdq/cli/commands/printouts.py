"""``cdq printouts INPUT --adviser-column COL --out DIR`` and ``cdq printouts apply RETURNED.xlsx``.

One command takes both forms (the contract writes ``cdq printouts INPUT ...``, so ``printouts`` cannot be
a plain group): a first argument ``apply`` applies a returned form, ``make`` (optional) or anything else
is the input to print.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from cdq.cli import report
from cdq.errors import UsageError

_HELP = """Annual per-adviser verification printouts, and applying the returned forms.

\b
  cdq printouts INPUT --adviser-column COL --out DIR
      One Dutch PDF and one Excel return form per adviser (plus one for the records without an adviser).
      INPUT is any customer file cdq can import, or a golden store URL (sqlite:///golden.sqlite).
  cdq printouts apply RETURNED.xlsx [--store URL] [--reference REF]
      Validate the corrections in a returned form and apply the accepted ones as the high-trust
      source 'adviser_verification' (to the golden store, or into a corrected copy of the input file).
"""


def _date(text: str | None, option: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date", hint="write it as yyyy-mm-dd") from None


def _reference(path: Path | None):
    if path is None:
        return None
    from cdq.address import AddressStore

    return AddressStore.open(path)


def register(app: typer.Typer) -> None:
    """Add the ``cdq printouts`` command."""

    @app.command("printouts", help=_HELP, no_args_is_help=True)
    @report.handle_errors
    def printouts_command(
        args: list[str] = typer.Argument(..., metavar="INPUT | apply RETURNED.xlsx",
                                         help="The customers to print, or 'apply' and a returned form."),
        adviser_column: str = typer.Option("adviser", "--adviser-column", "-a",
                                           help="Column naming each customer's adviser (input header or "
                                           "'adviser')."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Printouts: output folder. Apply: the "
                                        "corrected file when the printout came from a file."),
        reference: Path | None = typer.Option(None, "--reference", "-r", help="Address reference store: "
                                              "address checks on the printout, existence check on apply."),
        run_date: str | None = typer.Option(None, "--run-date", help="Date printed on the pages (yyyy-mm-dd; "
                                            "default today)."),
        store: str | None = typer.Option(None, "--store", help="Apply: golden store URL (default: the one "
                                         "the printout came from)."),
        returned: str | None = typer.Option(None, "--date", help="Apply: verification date (yyyy-mm-dd; "
                                            "default: the form's modification date)."),
    ) -> None:
        if args[0] == "apply":
            if len(args) != 2:
                raise UsageError("cdq printouts apply takes one returned form",
                                 hint="cdq printouts apply RETURNED.xlsx [--store URL]")
            _apply(Path(args[1]), store, _reference(reference), _date(returned, "--date"), out)
            return
        inputs = args[1:] if args[0] == "make" else args
        if len(inputs) != 1:
            raise UsageError("cdq printouts takes one INPUT", hint="cdq printouts INPUT --adviser-column COL "
                             "--out DIR")
        if out is None:
            raise UsageError("--out DIR is required", hint="cdq printouts INPUT --adviser-column COL --out DIR")
        _make(inputs[0], adviser_column, out, _reference(reference), _date(run_date, "--run-date"))


def _make(source: str, adviser_column: str, out: Path, reference, run_date) -> None:
    from cdq.printouts import printouts_from

    if "://" not in source and not Path(source).exists():
        raise UsageError(f"input {source} does not exist", hint="give a customer file or a store URL")
    with report.progress_bar("printing") as progress:
        run = printouts_from(source, adviser_column, out, run_date, reference=reference, progress=progress)
    report.table(run.summary, title="printouts", max_rows=60)
    report.line(f"wrote {len(run.summary)} PDFs and return forms to {out}: {int(run.summary['customers'].sum())} "
                f"customers, {int(run.summary['pages'].sum())} pages in {run.seconds:.1f}s")


def _apply(form: Path, store: str | None, reference, day, out: Path | None) -> None:
    from cdq.export import write_table
    from cdq.printouts import apply_returned

    if not form.exists():
        raise UsageError(f"returned form {form} does not exist")
    result = apply_returned(form, store, reference, return_date=day, out=out)
    shown = result.changes[["nr", "key", "field", "old", "new", "outcome", "detail"]]
    if len(shown):
        report.table(shown, title="corrections", max_rows=60)
    if len(result.follow_up):
        report.table(result.follow_up, title="to follow up (nothing deleted automatically)")
    changes_out = form.with_name(f"{form.stem}_wijzigingen.csv")
    write_table(result.changes, changes_out)
    c = result.counts
    report.line(f"applied: {c['applied']} changed, {c['rejected']} rejected, {c['not_applied']} not applied, "
                f"{c['confirmed']} confirmed unchanged ({c['rows']} rows); details in {changes_out}"
                + (f"; corrected file {result.output}" if result.output else ""))
