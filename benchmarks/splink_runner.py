"""Run Splink 5 (DuckDB) on one parquet file, configured as its documentation does for dedupe.

Run with the benchmark venv: ``.venv-bench/bin/python benchmarks/splink_runner.py IN.parquet OUT.csv [DEMO]``.
Without DEMO the input columns are unique_id, first_name, surname, dob, postcode, city, email (missing ones are
all-null) and the model is a generic one; with DEMO (febrl, historical, fake_1000) the input is the data set's
own columns and the model is Splink's published demo model for it (:data:`DEMOS`).
"""

import resource
import sys
import time

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def _peak_mb() -> float:
    """This process's own peak RSS: VmHWM (ru_maxrss would carry the forking parent's peak across exec)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _febrl(df: pd.DataFrame):
    """Splink's own febrl3 demo (docs/demos/examples/duckdb/febrl3): its comparisons, blocking rules, the
    deterministic rules for the prior (recall 0.9), u from 1e6 random pairs (seed 2), EM on date of birth and
    on postcode."""
    blocking = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"), block_on("date_of_birth"),
                block_on("postcode")]
    comparisons = [cl.NameComparison("given_name"), cl.NameComparison("surname"),
                   cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                   cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
                   cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                   cl.ExactMatch("postcode").configure(term_frequency_adjustments=True)]
    deterministic = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
                     "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth"]
    return blocking, comparisons, (deterministic, 0.9), dict(max_pairs=1e6, seed=2), \
        [block_on("date_of_birth"), block_on("postcode")], df, 0.2


def _historical(df: pd.DataFrame):
    """Splink's own historical_50k demo (docs/demos/examples/duckdb/deduplicate_50k_synthetic)."""
    blocking = [block_on("substr(first_name,1,3)", "substr(surname,1,4)"), block_on("surname", "dob"),
                block_on("first_name", "dob"), block_on("postcode_fake", "first_name"),
                block_on("postcode_fake", "surname"), block_on("dob", "birth_place"),
                block_on("substr(postcode_fake,1,3)", "dob"), block_on("substr(postcode_fake,1,3)", "first_name"),
                block_on("substr(postcode_fake,1,3)", "surname"),
                block_on("substr(first_name,1,2)", "substr(surname,1,2)", "substr(dob,1,4)")]
    comparisons = [cl.ForenameSurnameComparison("first_name", "surname",
                                                forename_surname_concat_col_name="first_name_surname_concat"),
                   cl.DateOfBirthComparison("dob", input_is_string=True), cl.PostcodeComparison("postcode_fake"),
                   cl.ExactMatch("birth_place").configure(term_frequency_adjustments=True),
                   cl.ExactMatch("occupation").configure(term_frequency_adjustments=True)]
    deterministic = [block_on("first_name", "surname", "dob"),
                     block_on("substr(first_name,1,2)", "surname", "substr(postcode_fake,1,2)"),
                     block_on("dob", "postcode_fake")]
    df = df.assign(first_name_surname_concat=df["first_name"] + " " + df["surname"])
    return blocking, comparisons, (deterministic, 0.6), dict(max_pairs=1e7), \
        [block_on("first_name", "surname"), block_on("dob")], df, None


def _fake_1000(df: pd.DataFrame):
    """Splink's README quickstart on fake_1000 (the same comparisons and training as its tutorial)."""
    blocking = [block_on("first_name", "dob"), block_on("surname")]
    comparisons = [cl.NameComparison("first_name"), cl.JaroAtThresholds("surname"),
                   cl.DateOfBirthComparison("dob", input_is_string=True),
                   cl.ExactMatch("city").configure(term_frequency_adjustments=True), cl.EmailComparison("email")]
    deterministic = [block_on("first_name", "surname", "dob"), block_on("email")]
    return blocking, comparisons, (deterministic, 0.7), dict(max_pairs=1e6), \
        [block_on("first_name", "surname"), block_on("dob")], df, None


DEMOS = {"febrl": _febrl, "historical": _historical, "fake_1000": _fake_1000}


def run_demo(name: str, df: pd.DataFrame, out: str) -> None:
    start = time.time()
    blocking, comparisons, (deterministic, recall), u_args, em_rules, df, threshold = DEMOS[name](df)
    settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons,
                               blocking_rules_to_generate_predictions=blocking)
    linker = Linker(DuckDBAPI().register(df), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
    linker.training.estimate_u_using_random_sampling(**u_args)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
    pairs = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.95).as_pandas_dataframe()
    clusters[["unique_id", "cluster_id"]].to_csv(out, index=False)
    print(f"{time.time() - start:.2f} {_peak_mb():.0f}")


#: The columns the generic model compares when the input has them (bench_linkage.py and bench_spark.py write them).
GENERIC_COLUMNS = ("first_name", "surname", "dob", "postcode", "city", "email")


def generic_model(present: list[str]) -> tuple[list, list]:
    """The generic model's comparisons and blocking rules over the ``present`` columns, as Splink's docs build
    one for person records (used on DuckDB here and on Spark by ``splink_spark_runner.py``)."""
    comparisons = []
    if "first_name" in present:
        comparisons.append(cl.NameComparison("first_name"))
    if "surname" in present:
        comparisons.append(cl.NameComparison("surname"))
    if "dob" in present:
        comparisons.append(cl.DateOfBirthComparison("dob", input_is_string=True))
    if "postcode" in present:
        comparisons.append(cl.PostcodeComparison("postcode"))
    if "city" in present:
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    if "email" in present:
        comparisons.append(cl.EmailComparison("email"))
    rules = [block_on(*k) for k in (("first_name", "surname"), ("surname", "dob"), ("first_name", "dob"),
                                    ("postcode", "first_name"), ("email",)) if all(c in present for c in k)]
    return comparisons, rules


def train(linker, rules: list) -> None:
    """The docs' training sequence: the deterministic-rules prior, u from random pairs, EM per training rule."""
    linker.training.estimate_probability_two_random_records_match(rules[:2], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in rules[:2]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as e:  # noqa: BLE001 - some rules fix every compared field; skip as the docs do
            print(f"EM on {rule} skipped: {e}", file=sys.stderr)


def main(src: str, out: str, demo: str | None = None) -> None:
    df = pd.read_parquet(src)
    if demo:
        run_demo(demo, df, out)
        return
    start = time.time()
    present = [c for c in GENERIC_COLUMNS if df[c].notna().any()]
    comparisons, rules = generic_model(present)
    settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons, blocking_rules_to_generate_predictions=rules)
    db = DuckDBAPI()
    linker = Linker(db.register(df), settings, log_level=40)
    train(linker, rules)
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.95).as_pandas_dataframe()
    clusters[["unique_id", "cluster_id"]].to_csv(out, index=False)
    peak_mb = _peak_mb()
    print(f"{time.time() - start:.2f} {peak_mb:.0f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
