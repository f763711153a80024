"""``cdq model train``: a linkage model re-estimated from the stewards' stored review decisions."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq model train`` to the app."""
    model_app = typer.Typer(help="Linkage models: learn from steward decisions, write a model file.",
                            no_args_is_help=True)
    app.add_typer(model_app, name="model")

    @model_app.command("train")
    @report.handle_errors
    def train_command(
        store: str = typer.Option(..., "--store", help="Golden store URL holding the records and the decisions."),
        out: Path = typer.Option(..., "--out", "-o", help="Model file to write (JSON); load it with --model."),
        from_decisions: bool = typer.Option(False, "--from-decisions",
                                            help="Re-estimate m from the stored review decisions (required)."),
        model: Path | None = typer.Option(None, "--model", help="Model file to start from (default: EM on the store)."),
    ) -> None:
        """Re-estimate the model from steward decisions; report before/after on the labelled pairs.

        Writes a new model file only: runs use it when given ``--model``, never silently.
        """
        from cdq.errors import UsageError
        from cdq.golden import stored_records
        from cdq.linkage.model import load_model
        from cdq.linkage.training import save_trained, train_from_decisions
        from cdq.review import load_decisions
        from cdq.store import GoldenStore

        if not from_decisions:
            raise UsageError("nothing to learn from", hint="pass --from-decisions")
        if out.exists() and model is not None and out.resolve() == model.resolve():
            raise UsageError(f"--out {out} is the --model it starts from",
                             hint="write the new model to another file and compare before switching")
        golden = GoldenStore(store, must_exist=True)
        try:
            records = stored_records(golden)
        finally:
            golden.engine.dispose()
        result = train_from_decisions(records, load_decisions(store), model=load_model(model) if model else None)
        report.table(result.report.round(4), title="labelled pairs: before / after")
        report.line("(scored on the pairs the model learnt from: an optimistic estimate)")
        report.line(f"wrote {save_trained(result, out)} (use it with --model; the default model is unchanged)")
