"""``cdq synth``: write seeded synthetic Dutch customer records with their true entity ids."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from cdq.cli import report
from cdq.errors import UsageError


def register(app: typer.Typer) -> None:
    """Add ``cdq synth`` to the app."""

    @app.command("synth")
    @report.handle_errors
    def synth_command(
        records: int = typer.Option(10_000, "--records", "-n", min=1, help="Number of records."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same file)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output file (.csv or .parquet)."),
        duplicate_rate: float = typer.Option(0.3, "--duplicate-rate", min=0.0, max=0.95,
                                             help="Share of records that repeat an entity already present."),
        advisers: int = typer.Option(5, "--advisers", min=1, max=10, help="Advisers to spread customers over."),
        details: bool = typer.Option(False, "--details", help="Add household_id, org_id, variations, true_* columns."),
    ) -> None:
        """Generate synthetic Dutch customer records; the entity_id column is the truth for evaluation."""
        from cdq.synthetic import generate_records

        suffix = out.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise UsageError(f"{out}: unsupported output format {suffix!r}; use .csv or .parquet")
        started = time.perf_counter()
        frame = generate_records(records, seed, duplicate_rate, n_advisers=advisers, details=details)
        out.parent.mkdir(parents=True, exist_ok=True)
        # synthetic test input, written as generated: values like "+31 6 ..." must stay as they are
        if suffix == ".csv":
            frame.to_csv(out, index=False, lineterminator="\n")
        else:
            frame.to_parquet(out, index=False)
        report.line(f"wrote {len(frame)} records of {frame['entity_id'].nunique()} entities to {out} "
                    f"in {time.perf_counter() - started:.1f} s")
