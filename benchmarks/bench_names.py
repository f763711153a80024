"""Name plausibility benchmark: precision/recall on a held-out labelled set, and 1,000,000 names timed.

Run: ``.venv/bin/python benchmarks/bench_names.py [--rows 1000000] [--seeds 7 1 2]``

1. Labelled evaluation (:mod:`cdq.names.evaluation`): real names sampled from ``../shared/data/nl_names`` and
   held out of both the knowledge and the model, foreign names, and authored junk of every kind. Two setups:
   *user lists* (built-in + shared lists loaded, model retrained without the held-out names) and
   *out of the box* (built-in list and the shipped model only). "Positive" = flagged.
2. Throughput: ``rows`` person records drawn from the shared lists (with repeats, as real files have), 2%
   junk, scored by :func:`cdq.names.score_parts` with the out-of-the-box setup.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

import pandas as pd

from cdq.names import evaluation, ngram, resolve, score_parts, train_model
from cdq.names.knowledge import builtin
from cdq.names.score import builtin_model_path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def precision_recall(records: pd.DataFrame, result: pd.DataFrame) -> dict:
    """Flagging junk is the positive class."""
    flagged = evaluation.flagged(records, result)
    junk = ~records["kind"].str.startswith("real")
    tp, fp = int((flagged & junk).sum()), int((flagged & ~junk).sum())
    fn = int((~flagged & junk).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"real": int((~junk).sum()), "junk": int(junk.sum()),
            "real accepted": round(1 - fp / max(int((~junk).sum()), 1), 4), "junk flagged": round(recall, 4),
            "precision": round(precision, 4), "recall": round(recall, 4),
            "F1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0}


def run_evaluation(seeds: list[int]) -> pd.DataFrame:
    rows, per_kind = [], None
    shipped = ngram.load(builtin_model_path())
    for seed in seeds:
        labelled = evaluation.build(SHARED, n_real=600, seed=seed)
        setups = {
            "user lists + retrained model": resolve(knowledge=labelled.train_knowledge,
                                                    model=train_model(labelled.train_knowledge)),
            "out of the box (built-in)": resolve(knowledge=builtin(), model=shipped),
        }
        for name, resolved in setups.items():
            result = score_parts(labelled.records, resolved)
            rows.append({"seed": seed, "setup": name, **precision_recall(labelled.records, result)})
            if per_kind is None and name.startswith("user"):
                per_kind = evaluation.table(labelled.records, result)
    print("\nPer kind (seed %d, user lists + retrained model):" % seeds[0])
    print(per_kind.to_string(index=False))
    return pd.DataFrame(rows)


def synthetic_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` person records from the shared lists with Zipf-like repeats, plus 2% junk."""
    rng = random.Random(seed)
    first, surnames, top = evaluation.read_shared(SHARED)
    pool_first = [f for f, _ in first]
    pool_sur = top * 20 + rng.sample(surnames, 60_000)
    junk = [parts for _, parts in evaluation.JUNK]
    records = []
    for _ in range(n):
        if rng.random() < 0.02:
            records.append(rng.choice(junk))
            continue
        infix, last = evaluation._split_surname(rng.choice(pool_sur))
        fname = rng.choice(pool_first)
        records.append({"initials": fname[0] + ".", "first_name": fname, "infix": infix, "last_name": last})
    return pd.DataFrame(records).fillna("")


def run_throughput(n: int) -> dict:
    frame = synthetic_rows(n)
    resolved = resolve(knowledge=builtin(), model=ngram.load(builtin_model_path()))
    start = time.perf_counter()
    result = score_parts(frame, resolved)
    seconds = time.perf_counter() - start
    distinct = len(frame.drop_duplicates())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": n, "distinct records": distinct, "seconds": round(seconds, 1),
            "rows/s": int(n / seconds), "implausible": int((~result["name_plausible"]).sum()),
            "peak MB": int(peak)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 1, 2])
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2
    table = run_evaluation(args.seeds)
    print("\nPrecision/recall (positive = flagged as not a real person name):")
    print(table.to_string(index=False))
    ok = (table["real accepted"] >= 0.995).all() and (table["junk flagged"] >= 0.97).all()
    print(f"\nacceptance (>= 99.5% real accepted, >= 97% junk flagged, every seed and setup): {'PASS' if ok else 'FAIL'}")
    throughput = run_throughput(args.rows)
    print("\nThroughput:")
    print(pd.DataFrame([throughput]).to_string(index=False))
    fast = throughput["seconds"] < 60
    print(f"\n{args.rows:,} names in under 60 s: {'PASS' if fast else 'FAIL'}")
    return 0 if ok and fast else 1


if __name__ == "__main__":
    sys.exit(main())
