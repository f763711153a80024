"""Run Splink 5 (DuckDB) on one prepared parquet file, configured as its documentation does for dedupe.

Run with the benchmark venv: ``.venv-bench/bin/python benchmarks/splink_runner.py IN.parquet OUT.csv``.
Input columns: unique_id, first_name, surname, dob, postcode, city, email (missing ones are all-null).
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


def main(src: str, out: str) -> None:
    df = pd.read_parquet(src)
    start = time.time()
    present = [c for c in ("first_name", "surname", "dob", "postcode", "city", "email") if df[c].notna().any()]
    comparisons = []
    if "first_name" in present:
        comparisons.append(cl.NameComparison("first_name"))
    if "surname" in present:
        comparisons.append(cl.NameComparison("surname"))
    if "dob" in present:
        comparisons.append(cl.DateOfBirthComparison("dob", input_is_string=True))
    if "postcode" in present:
        comparisons.append(cl.PostcodeComparison("postcode") if "postcode" in present else None)
    if "city" in present:
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    if "email" in present:
        comparisons.append(cl.EmailComparison("email"))
    rules = [block_on(*k) for k in (("first_name", "surname"), ("surname", "dob"), ("first_name", "dob"),
                                    ("postcode", "first_name"), ("email",)) if all(c in present for c in k)]
    settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons, blocking_rules_to_generate_predictions=rules)
    db = DuckDBAPI()
    linker = Linker(db.register(df), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(rules[:2], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in rules[:2]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as e:  # noqa: BLE001 - some rules fix every compared field; skip as the docs do
            print(f"EM on {rule} skipped: {e}", file=sys.stderr)
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.95).as_pandas_dataframe()
    clusters[["unique_id", "cluster_id"]].to_csv(out, index=False)
    peak_mb = _peak_mb()
    print(f"{time.time() - start:.2f} {peak_mb:.0f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
