"""Records per second loaded into BottleCRM (sequential vs bounded concurrency) and into the SQL target.

Run: ``.venv/bin/python benchmarks/bench_crm.py [N]`` (default 300 records). Needs the local BottleCRM
(``bash scripts/bottlecrm/up.sh``); each BottleCRM run uses a fresh organisation, so runs do not collide.
Prints rows, seconds, rows/s and peak memory per target.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd

from cdq.crm import load_from_store
from cdq.crm.registry import target_from_url
from cdq.golden import merge_batch
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

REPO = Path(__file__).resolve().parents[1]
BCRM_DIR = Path(os.environ.get("BCRM_DIR", "/tmp/cdq-bottlecrm"))


def store_with(n: int, tmp: Path) -> GoldenStore:
    staging = pd.DataFrame([{"record_id": f"r{i}", "source": "erp", "source_key": str(i), "first_name": f"Naam{i}",
                             "last_name": "Jansen", "email": f"p{i}@bench.nl", "phone": f"+316{i:08d}",
                             "street": "Dorpsstraat", "house_number": str(i + 1), "postcode": "3511AB",
                             "city": "Utrecht", "country": "NL", "source_updated_at": "2024-01-01"}
                            for i in range(n)])
    store = GoldenStore(f"sqlite:///{tmp / 'golden.db'}")
    clusters = pd.DataFrame({"record_id": staging["record_id"], "cluster_id": staging["record_id"]})
    merge_batch(staging, clusters, store, load_rules(), store.start_run("bench"))
    return store


def new_org_token() -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    out = subprocess.run(["bash", "-c", f'. "{BCRM_DIR}/env.sh" && cd "{BCRM_DIR}/run" && python '
                          f'"{REPO}/scripts/bottlecrm/bootstrap.py" {name}@example.com {name}'],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)["PAT"]


def timed(label: str, store: GoldenStore, url: str) -> tuple:
    crm = target_from_url(url)
    start = time.perf_counter()
    result, _ = load_from_store(store, crm)
    seconds = time.perf_counter() - start
    return label, result.created, seconds, result.created / seconds


def main(n: int = 300) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = store_with(n, tmp)
        rows.append(timed("SQL target (SQLite)", store, f"sqlite:///{tmp / 'crm.db'}"))
        creds = BCRM_DIR / "creds.env"
        if creds.exists():
            base = dict(line.split("=", 1) for line in creds.read_text().splitlines() if "=" in line)["BCRM_URL"]
            runs = [("BottleCRM API, sequential", 1, 10**9), ("BottleCRM API, 4 threads", 4, 10**9),
                    ("BottleCRM API, 8 threads", 8, 10**9), ("BottleCRM CSV import + API", 8, 20)]
            for n_run, (label, concurrency, bulk_min) in enumerate(runs):
                os.environ["CDQ_CRM_TOKEN"] = new_org_token()
                url = (f"bottlecrm+{base}?concurrency={concurrency}&bulk_min={bulk_min}"
                       f"&state=sqlite:///{tmp / f'state{n_run}.db'}")
                rows.append(timed(label, store, url))
        else:
            sys.stderr.write("BottleCRM not running (bash scripts/bottlecrm/up.sh): skipped\n")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(f"{'target':<28}{'rows':>7}{'seconds':>10}{'rows/s':>10}\n")
    for label, count, seconds, rate in rows:
        sys.stdout.write(f"{label:<28}{count:>7}{seconds:>10.2f}{rate:>10.1f}\n")
    sys.stdout.write(f"peak memory {peak:.0f} MB\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
