"""Leads arriving while a nightly run writes the golden store (SQLite and PostgreSQL), over real HTTP.

The run (``cdq run`` in its own process, the demo pipeline into an empty store) holds the store lock from
import to the end; leads sent before it are merged at once, leads sent during it are queued (202) and taken
in after it. Checked afterwards: every lead has an active golden record, no person has two golden records,
and the store is consistent (every source record in exactly one golden record).

This races real processes and hits a given interleaving only now and then; the interleavings one by one,
deterministically, are in ``tests/test_leads_interleavings.py`` (the one this test used to hit — a lead
right after the run released the store, before the service's index caught up — among them).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import REPO, running

from cdq.store import GoldenStore


def _pipeline(tmp_path: Path, store_url: str) -> Path:
    text = (REPO / "pipelines" / "demo.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^store: .*$", f"store: '{store_url}'", text, flags=re.M)
    text = re.sub(r"^crm: .*$", f"crm: 'sqlite:///{tmp_path / 'crm.sqlite'}'", text, flags=re.M)
    path = tmp_path / "nightly.yaml"
    path.write_text(text.replace('"{fixtures}', f'"{REPO}/fixtures').replace(
        '"{reference_data}', f'"{REPO}/reference_data').replace("sqlite:///{fixtures}", f"sqlite:///{REPO}/fixtures"),
        encoding="utf-8")
    return path


def _people(demo_store: Path, n: int) -> list[dict]:
    """Customers the nightly batch also holds (from a demo run's golden records), as web leads."""
    store = GoldenStore(f"sqlite:///{demo_store}")
    with store.engine.connect() as conn:
        rows = [json.loads(d) for (d,) in conn.execute(sa.text(
            "select data from golden_records where status = 'active' order by golden_id")).all()]
    picked = [r for r in rows if r.get("email") and r.get("last_name") and r.get("first_name") and r.get("postcode")]
    return [{k: picked[i][k] for k in ("first_name", "infix", "last_name", "email", "postcode", "house_number")
             if picked[i].get(k)} for i in range(0, min(len(picked), n * 7), 7)][:n]


NEW_PEOPLE = [{"first_name": "Zeynep", "last_name": "Kılıçarslan", "email": "zeynep.k@example.nl", "postcode": "1020 UJ",
               "house_number": "42"},
              {"first_name": "Bartholomeus", "last_name": "Wijnaendts", "email": "b.wijnaendts@example.nl",
               "postcode": "3050 TB", "house_number": "90"},
              {"first_name": "Anouk", "infix": "van", "last_name": "Oosterzee", "email": "anouk.oosterzee@example.nl",
               "postcode": "2594 NE", "house_number": "50"}]


def _person_golden(store: GoldenStore) -> dict[str, set[str]]:
    """e-mail -> the active golden ids holding a live source record with that e-mail."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select s.payload, x.golden_id, g.status, g.merged_into from source_records s "
            "join xref x on x.source_record_id = s.id join golden_records g on g.golden_id = x.golden_id "
            "where s.deleted_run is null")).all()
    out: dict[str, set[str]] = {}
    for payload, gid, status, _merged in rows:
        assert status == "active", f"a live source record points at a {status} golden record {gid}"
        email = (json.loads(payload).get("email") or "").lower()
        if email:
            out.setdefault(email, set()).add(gid)
    return out


def _consistent(store: GoldenStore) -> None:
    with store.engine.connect() as conn:
        orphans = conn.execute(sa.text("select count(*) from source_records s left join xref x "
                                       "on x.source_record_id = s.id where x.golden_id is null")).scalar()
        dangling = conn.execute(sa.text("select count(*) from xref x left join golden_records g "
                                        "on g.golden_id = x.golden_id where g.golden_id is null")).scalar()
        doubles = conn.execute(sa.text("select count(*) from (select source_record_id from xref "
                                       "group by source_record_id having count(*) > 1) d")).scalar()
        lock = conn.execute(sa.text("select holder from store_lock")).scalar()
    assert (orphans, dangling, doubles, lock) == (0, 0, 0, None)


def leads_during_a_nightly_run(tmp_path: Path, store_url: str, demo_store: Path) -> None:
    GoldenStore(store_url)  # an empty store (migrated)
    pipeline = _pipeline(tmp_path, store_url)
    existing = _people(demo_store, 6)
    with running(store=store_url, crm=f"sqlite:///{tmp_path / 'crm_leads.sqlite'}") as srv:
        answers: list[tuple[dict, int, dict]] = []
        lock = threading.Lock()
        counter = iter(range(10_000))

        def send(person: dict, source: str = "website") -> None:
            lead = {**person, "source_code": source, "qualification": "warm"}
            status, body, _ = srv.client.call("POST", "/v1/leads", lead,
                                              headers={"Idempotency-Key": f"k{next(counter)}"})
            with lock:
                answers.append((person, status, body))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(send, existing[:2] + NEW_PEOPLE[:1]))  # before the run: merged at once
            cdq = Path(sys.executable).parent / "cdq"
            run = subprocess.Popen([str(cdq), "run", str(pipeline), "--workdir", str(tmp_path / "w")],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            wave = existing[2:] + NEW_PEOPLE + NEW_PEOPLE[1:]
            deadline = time.monotonic() + 600
            while run.poll() is None and time.monotonic() < deadline:  # during the run, in waves
                list(pool.map(send, wave, ["phone"] * len(wave)))
                time.sleep(0.5)
            out, _ = run.communicate(timeout=600)
            assert run.returncode == 0, out[-3000:]
            for _ in range(5):  # the background round: index refresh after the run, queue drained
                srv.state.tick()
            list(pool.map(send, existing[:3] + NEW_PEOPLE, ["letter"] * 6))  # after the run
        assert all(status in (201, 202) for _, status, _ in answers), [a[1:] for a in answers if a[1] not in (201, 202)]
        assert any(body["outcome"] == "queued" for _, _, body in answers), "no lead arrived during the run"
        leads = srv.store.table("leads")
        assert (leads["status"] == "queued").sum() == 0
        golden = srv.store.table("golden_records").set_index("golden_id")
        assert (golden.loc[leads["golden_id"], "status"] == "active").all()
        per_person = _person_golden(srv.store)
        for person in existing + NEW_PEOPLE:
            assert len(per_person[person["email"].lower()]) == 1, (person["email"], per_person[person["email"].lower()])
        _consistent(srv.store)
        assert "loaded:" in out


@pytest.mark.slow  # a real nightly `cdq run` process with leads posted during it (~4 min each on a loaded machine)
def test_leads_during_a_nightly_run_sqlite(tmp_path, demo_store):
    leads_during_a_nightly_run(tmp_path, f"sqlite:///{tmp_path / 'golden.sqlite'}", demo_store)


@pytest.mark.slow
@pytest.mark.postgres
def test_leads_during_a_nightly_run_postgresql(tmp_path, demo_store, pg_url):
    leads_during_a_nightly_run(tmp_path, pg_url, demo_store)
