"""``cdq dedupe`` (import, normalize, match, cluster) and ``cdq evaluate`` (scores against the truth)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import typer

from cdq.clean import clean_files
from cdq.cli import report
from cdq.columns import RAW_PREFIX
from cdq.errors import InputError, UsageError
from cdq.export import write_table


def _output_ids(staging: pd.DataFrame, id_column: str | None) -> pd.Series:
    if not id_column:
        return staging["record_id"]
    column = RAW_PREFIX + id_column
    if column not in staging.columns:
        raise UsageError(f"--id-column {id_column!r} is not a column of the input",
                         hint="use the header exactly as it is written in the file")
    return staging[column]


def _read_clusters(path: Path, id_column: str, cluster_column: str) -> pd.Series:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
    except (OSError, ValueError, csv.Error) as e:
        raise InputError(path, f"cannot read as CSV ({e})") from e
    missing = [c for c in (id_column, cluster_column) if c not in frame.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}",
                         hint=f"columns found: {', '.join(frame.columns[:12])}")
    return pd.Series(frame[cluster_column].values, index=frame[id_column].str.lstrip("'"))


def _dedupe_on_spark(inputs: list[str], out: Path, id_column: str | None, mapping: Path | None,
                     master: str | None, trained, settings, pairs: Path | None) -> None:
    from cdq.engines.spark.run import dedupe_files
    from cdq.headers import load_mapping

    if pairs:
        raise UsageError("--pairs is not written by the Spark engine yet",
                         hint="keep the scored pairs with the library (cdq.engines.spark.dedupe(..., workdir=DIR))")
    with report.progress_bar("matching on spark") as progress:
        done = dedupe_files(inputs, out, id_column=id_column, mapping=load_mapping(mapping) if mapping else None,
                            master=master, model=trained, settings=settings, progress=progress)
    if len(done.quarantine):
        quarantine_out = out.with_name(out.stem + ".quarantine.csv")
        write_table(done.quarantine, quarantine_out)
        report.line(f"{len(done.quarantine)} unreadable row(s) quarantined (no cluster_id): {quarantine_out}")
    report.table(done.report.fillna(""), title="blocking")
    for warning in done.warnings:
        report.line(f"warning: {warning}")
    report.line(f"{done.records} records, {done.clusters} clusters, {done.matches} matched pairs, "
                f"{done.review} to review")
    report.line(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add ``cdq dedupe`` and ``cdq evaluate`` to the app."""

    @app.command("dedupe")
    @report.handle_errors
    def dedupe_command(
        inputs: list[str] = typer.Argument(..., help="Input files (any format `cdq import` reads)."),
        out: Path = typer.Option(..., "--out", "-o", help="CLUSTERS.csv to write (record_id, cluster_id)."),
        id_column: str | None = typer.Option(None, "--id-column", help="Input column whose value is the record_id."),
        mapping: Path | None = typer.Option(None, "--mapping", "-m", help="YAML file: input header -> canonical column."),
        pairs: Path | None = typer.Option(None, "--pairs", help="Also write the scored pairs (explanations) here."),
        model: Path | None = typer.Option(None, "--model", help="A model file (`cdq model train`, --save-model) "
                                          "instead of EM; the run uses the settings saved with it."),
        save_model: Path | None = typer.Option(None, "--save-model", help="Write the run's model with its resolved "
                                               "settings here (JSON; reuse it with --model)."),
        engine: str = typer.Option("pandas", "--engine", help="pandas (one machine) or spark (cdq[spark]: a Spark "
                                   "cluster, for inputs beyond one machine's memory; Parquet inputs read by Spark)."),
        spark_master: str | None = typer.Option(None, "--spark-master", help="Spark master URL (local[*], "
                                                "spark://host:7077; default CDQ_SPARK_MASTER or local[*])."),
    ) -> None:
        """Import, normalize, match and cluster: one cluster_id per input record."""
        from cdq.engines import ENGINES
        from cdq.linkage import dedupe
        from cdq.linkage.model import load_model, model_settings
        from cdq.linkage.settings import load_settings

        if engine not in ENGINES:
            raise UsageError(f"--engine {engine!r} is not an engine", hint=f"choose one of: {', '.join(ENGINES)}")
        if spark_master and engine != "spark":
            raise UsageError("--spark-master needs --engine spark")
        trained = load_model(model) if model else None
        settings = (model_settings(trained) if trained else None) or load_settings()
        if engine == "spark":
            if save_model:
                raise UsageError("--save-model is not written by the Spark engine yet")
            _dedupe_on_spark(inputs, out, id_column, mapping, spark_master, trained, settings, pairs)
            return

        # Rows without identifying fields stay in (as singletons): every input record gets a cluster_id.
        with report.progress_bar("cleaning") as progress:
            result = clean_files(inputs, mapping=mapping, progress=progress)
        if len(result.quarantine):
            quarantine_out = out.with_name(out.stem + ".quarantine.csv")
            write_table(result.quarantine, quarantine_out)
            report.line(f"{len(result.quarantine)} unreadable row(s) quarantined (no cluster_id): {quarantine_out}")
        if result.cleaned.empty:
            raise InputError(", ".join(map(str, inputs)), "no records to match (the input has no data rows)")
        staging = result.cleaned
        ids = _output_ids(staging, id_column)
        with report.progress_bar("matching") as progress:
            linked = dedupe(staging, settings, progress=progress, model=trained)
        if save_model:
            report.line(f"wrote the model and its settings to {linked.model.save(save_model, settings)}")
        to_id = dict(zip(staging["record_id"], ids))
        if id_column and not ids.is_unique:
            report.line(f"warning: --id-column {id_column} repeats {int(ids.duplicated().sum())} value(s); "
                        "those records share a record_id in the output but keep their own cluster")
        # cluster_id is cdq's own id of the cluster's first record: unique even when --id-column values repeat.
        clusters = pd.DataFrame({"record_id": linked.clusters["record_id"].map(to_id),
                                 "cluster_id": linked.clusters["cluster_id"]})
        write_table(clusters, out)
        if pairs:
            write_table(linked.pairs[linked.pairs["decision"] != "non_match"], pairs)
        report.table(linked.report.fillna(""), title="blocking")
        for warning in linked.warnings:
            report.line(f"warning: {warning}")
        decisions = linked.pairs["decision"].value_counts()
        report.line(f"{len(clusters)} records, {clusters['cluster_id'].nunique()} clusters, "
                    f"{decisions.get('match', 0)} matched pairs, {decisions.get('review', 0)} to review")
        report.line(f"wrote {out}")

    @app.command("evaluate")
    @report.handle_errors
    def evaluate_command(
        clusters: Path = typer.Argument(..., help="CLUSTERS.csv written by `cdq dedupe`."),
        truth: Path = typer.Option(..., "--truth", help="CSV with the true entity of each record."),
        truth_id_column: str = typer.Option(..., "--truth-id-column", help="Record id column in TRUTH."),
        truth_cluster_column: str = typer.Option(..., "--truth-cluster-column", help="Entity column in TRUTH."),
    ) -> None:
        """Pairwise precision, recall, F1 and B-cubed scores against the truth."""
        from cdq.linkage.evaluate import evaluate

        scores = evaluate(_read_clusters(clusters, "record_id", "cluster_id"),
                          _read_clusters(truth, truth_id_column, truth_cluster_column))
        rows = [{"measure": k, "value": f"{v:.4f}" if isinstance(v, float) else str(v)} for k, v in scores.items()]
        report.table(pd.DataFrame(rows), title="evaluation")
        report.line(f"precision {scores['precision']:.4f} recall {scores['recall']:.4f} f1 {scores['f1']:.4f}")
