"""``cdq reference load-bag|load-pc4|status``: build and inspect the local address reference store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from cdq.cli import report

_STORE_HELP = "Reference store file (default: $CDQ_BAG_STORE or ~/.cache/cdq/bag.sqlite)."


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def register(app: typer.Typer) -> None:
    """Add the ``cdq reference`` command group."""
    group = typer.Typer(help="Load and inspect reference data (BAG addresses, PC4 areas, name lists).",
                        no_args_is_help=True)
    app.add_typer(group, name="reference")
    from cdq.cli.commands.names import register_reference

    register_reference(group)  # cdq reference load-names (name lists for name plausibility)

    @group.command("load-bag")
    @report.handle_errors
    def load_bag_command(
        file: Path = typer.Argument(..., help="Address register as downloaded: LV BAG extract (zip, folder or XML), "
                                    "PDOK GeoPackage, NLExtract CSV, bagconv CSV/SQLite, cdq flat CSV, or "
                                    "Belgium's BeST-Address (openaddress-be*.csv or the XML download)."),
        fmt: str | None = typer.Option(None, "--format", "-f",
                                       help="lvbag | gpkg | nlextract-csv | open-csv | bagconv-sqlite | flat | "
                                            "best-csv | best-xml (default: detected from the file)."),
        out: Path | None = typer.Option(None, "--out", "-o", help=_STORE_HELP),
        municipalities: Path | None = typer.Option(
            None, "--municipalities", "-m",
            help="CBS municipality table (gemeentecode;gemeentenaam;provincienaam) for the LV BAG extract, which "
                 "names municipalities only by code."),
    ) -> None:
        """Load an address register into the local reference store (Dutch: replaces what was loaded)."""
        from cdq.address import load_bag

        with report.progress_bar("loading addresses") as progress:
            summary = load_bag(file, fmt=fmt, out=out, progress=progress, municipalities=municipalities)
        dated = f", register date {summary['standdatum']}" if summary.get("standdatum") else ""
        report.line(f"loaded {summary['rows']} addresses from {file} ({summary['format']}{dated}) in "
                    f"{summary['seconds']}s; {summary['skipped_malformed']} malformed and "
                    f"{summary['duplicates']} duplicate rows skipped ({summary.get('conflicting_duplicates', 0)} "
                    f"listed twice with different content, kept as ambiguous); {summary.get('not_usable', 0)} "
                    f"withdrawn addresses kept as known; store {_size(summary['size_bytes'])}")

    @group.command("load-pc4")
    @report.handle_errors
    def load_pc4_command(
        files: list[Path] = typer.Argument(..., help="PC4 -> place/municipality/province CSV file(s)."),
        out: Path | None = typer.Option(None, "--out", "-o", help=_STORE_HELP),
    ) -> None:
        """Load PC4 -> place/municipality tables (postcode/city plausibility without street-level data)."""
        from cdq.address import load_pc4

        rows = load_pc4(files, out=out)
        report.line(f"loaded {rows} PC4 -> place rows from {len(files)} file(s)")

    @group.command("status")
    @report.handle_errors
    def status_command(
        store_path: Path | None = typer.Option(None, "--store", "--reference", "-r", help=_STORE_HELP),
    ) -> None:
        """Say what the reference store holds: rows, source, format, register date (standdatum), size."""
        from cdq.address import AddressStore

        with AddressStore.open(store_path) as store:
            status = store.status()
        rows = [("store", status["path"]), ("size", _size(status["size_bytes"])),
                ("addresses (NL)", status["rows"]), ("source", status.get("source", "-")),
                ("format", status.get("format", "-")), ("register date (standdatum)", status.get("standdatum") or "-"),
                ("loaded at", status.get("loaded_at", "-")),
                ("withdrawn (known, not used)", status.get("not_usable", "-")),
                ("listed twice with different content", status.get("conflicting_duplicates", "-")),
                ("PC4 rows", status["pc4_rows"]), ("PC4 source", status.get("pc4_source", "-"))]
        for region in status.get("belgium", []):
            rows += [(f"addresses (BE, {region['region']})", region["rows"]),
                     (f"source (BE, {region['region']})", region["source"]),
                     (f"loaded at (BE, {region['region']})", region["loaded_at"])]
        report.table(pd.DataFrame(rows, columns=["what", "value"]).astype(str), title="address reference")
