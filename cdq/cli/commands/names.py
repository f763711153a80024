"""``cdq names check|train`` and ``cdq reference load-names``: name plausibility from the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from cdq.cli import report
from cdq.cli.paths import refuse_overwriting_inputs
from cdq.errors import UsageError


def register(app: typer.Typer) -> None:
    """Add the ``cdq names`` command group."""
    group = typer.Typer(help="Score how plausible person names are (0..1, a verdict and reason codes).",
                        no_args_is_help=True)
    app.add_typer(group, name="names")

    @group.command("check")
    @report.handle_errors
    def check_command(
        input_file: str = typer.Argument(..., metavar="INPUT", help="Any file cdq can import (CSV, Excel, vCard, ...)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output file (.csv, .xlsx or .parquet)."),
        column: str | None = typer.Option(None, "--column", "-c", help="Score this input column as a full name "
                                          "(default: the name columns cdq recognises)."),
        rules: Path | None = typer.Option(None, "--rules", help="Plausibility YAML (default: rules/plausibility.yaml)."),
        threshold: float | None = typer.Option(None, "--threshold", min=0.0, max=1.0,
                                               help="Override the threshold for name_plausible."),
    ) -> None:
        """Add name_plausibility, name_plausible and name_issues to every row; keep every input column."""
        from cdq.export import write_table
        from cdq.names.tables import check_names_file

        refuse_overwriting_inputs(out, [input_file])
        result = check_names_file(input_file, column=column, config=rules, threshold=threshold)
        write_table(result, out)
        _summary(result)
        report.line(f"wrote {out}")

    @group.command("train")
    @report.handle_errors
    def train_command(
        out: Path | None = typer.Option(None, "--out", "-o", help="Model file (default: $CDQ_NAMES_MODEL or "
                                        "~/.cache/cdq/names_model.json.gz, which `names check` then uses)."),
        store: Path | None = typer.Option(None, "--store", help="Name store (default: $CDQ_NAMES_STORE or "
                                          "~/.cache/cdq/names.sqlite)."),
        order: int = typer.Option(4, "--order", min=2, max=6, help="Character n-gram order."),
        builtin_only: bool = typer.Option(False, "--builtin-only", help="Train on the built-in list only."),
    ) -> None:
        """Train the character model on the built-in names plus the lists loaded with `reference load-names`."""
        from cdq.names import train_model
        from cdq.names.knowledge import builtin, load_knowledge
        from cdq.names.score import default_model_path

        knowledge = builtin() if builtin_only else load_knowledge(store)
        model = train_model(knowledge, order=order)
        path = model.save(out or default_model_path())
        report.line(f"trained an order-{order} model on {model.trained_on} names; wrote {path}")


def register_reference(group: typer.Typer) -> None:
    """Add ``cdq reference load-names`` to the ``reference`` group (called from ``reference.py``)."""

    @group.command("load-names")
    @report.handle_errors
    def load_names_command(
        file: Path = typer.Argument(..., help="A name list: one name a line (.gz allowed) or a CSV with a "
                                    "'name' column (and 'gender' for first names)."),
        kind: str = typer.Option(..., "--kind", "-k", help="first | surname"),
        out: Path | None = typer.Option(None, "--out", "-o", help="Store file (default: $CDQ_NAMES_STORE or "
                                        "~/.cache/cdq/names.sqlite)."),
    ) -> None:
        """Load first names (with gender) or surnames into the local name store used by `names check`."""
        from cdq.names.knowledge import default_store, load_names

        if kind not in ("first", "surname"):
            raise UsageError(f"--kind must be 'first' or 'surname', not {kind!r}")
        count = load_names(file, kind, out)
        report.line(f"loaded {count} {kind} names from {file} into {out or default_store()}")


def _summary(result: pd.DataFrame) -> None:
    codes = result["name_issues"].str.split(";").explode()
    codes = codes[codes.astype(bool)]
    counts = codes.value_counts().rename_axis("reason code").reset_index(name="rows")
    if len(counts):
        report.table(counts, title="name issues")
    implausible = int((~result["name_plausible"].astype(bool)).sum())
    report.line(f"names: {len(result)} rows, {len(result) - implausible} plausible, {implausible} implausible")
