"""Web leads and nightly runs interleaved step by step (issues 16 and 21): never two golden records for one person.

``tests/test_service_concurrency.py`` races real processes over HTTP and finds an interleaving only now and
then; here each interleaving is played in order, deterministically, through the library calls the service
and ``cdq run`` make (:func:`cdq.leads.intake`, :func:`cdq.leads.drain`, :func:`cdq.leads.lock.hold_run`,
:func:`cdq.nightly.match_batch` / :func:`cdq.nightly.merge_match`), on SQLite and on PostgreSQL. Nothing is
refreshed by hand between the steps unless the step says so: a service's background round may come at
any time, or never, between a run and the next lead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cdq.golden import merge_batch
from cdq.leads import drain, intake
from cdq.leads.index import MatchIndex
from cdq.leads.lock import hold_run
from cdq.nightly import match_batch, merge_match
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def batch() -> pd.DataFrame:
    """The back-office export, imported and normalized as a nightly run does."""
    from cdq.normalize import normalize
    from cdq.staging import import_inputs

    return normalize(import_inputs([str(FIXTURES / "backoffice_export.csv")]).staging)[0]


@pytest.fixture(scope="module")
def model():
    """The model a service trains on a store without records (seeded synthetic customers): once per module."""
    return MatchIndex(GoldenStore("sqlite://")).model


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path) -> GoldenStore:
    if request.param == "sqlite":
        return GoldenStore(f"sqlite:///{tmp_path / 'golden.sqlite'}")
    return GoldenStore(request.getfixturevalue("pg_url"))


def _lead(batch: pd.DataFrame, row: int, **changes: str) -> dict:
    """A web lead typed by a customer the batch holds (row ``row``), with ``changes``."""
    record = batch.iloc[row]
    fields = ("first_name", "infix", "last_name", "email", "postcode", "house_number")
    lead = {k: str(record[k]) for k in fields if pd.notna(record.get(k)) and str(record[k])}
    return {**lead, **changes, "source_code": "website", "qualification": "warm"}


def _people(batch: pd.DataFrame, n: int) -> list[int]:
    """Rows of ``n`` customers with a name, an e-mail and an address (a lead for them is clearly them)."""
    ok = batch["email"].notna() & batch["last_name"].notna() & batch["postcode"].notna() & \
        batch["house_number"].notna() & batch["first_name"].notna()
    return [int(i) for i in list(batch.index[ok])[:n]]


def _nightly(store: GoldenStore, batch: pd.DataFrame, *, between=None) -> bool:
    """One nightly run: hold the store, match, (``between()``), merge, release — as ``cdq run`` does.

    Returns whether the merge had to match again (someone wrote what matching reads since it matched).
    """
    with hold_run(store, "nightly"):
        run_id = store.start_run("nightly")
        match = match_batch(batch, store)
        if between is not None:
            between()
        result, merged = merge_match(match, store, load_rules(), run_id)
        store.finish_run(run_id, counts=result.counts)
    return merged.rematched


def _golden_of(store: GoldenStore) -> dict[str, set[str]]:
    """e-mail (lower case) -> the active golden ids holding a live source record with it."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select s.payload, x.golden_id, g.status from source_records s join xref x on x.source_record_id = s.id "
            "join golden_records g on g.golden_id = x.golden_id where s.deleted_run is null")).all()
    out: dict[str, set[str]] = {}
    for payload, gid, status in rows:
        assert status == "active", f"a live source record points at a {status} golden record {gid}"
        email = (json.loads(payload).get("email") or "").lower()
        if email:
            out.setdefault(email, set()).add(gid)
    return out


def _one_each(store: GoldenStore, emails: list[str]) -> None:
    found = _golden_of(store)
    doubles = {e: sorted(found.get(e.lower(), ())) for e in emails if len(found.get(e.lower(), ())) != 1}
    assert not doubles, f"persons not in exactly one golden record: {doubles}"


def _service(store: GoldenStore, model) -> MatchIndex:
    """A service started on the store: its index built as ``cdq serve`` builds it at start."""
    index = MatchIndex(store, model=model)
    index.refresh()
    return index


def test_a_lead_right_after_a_nightly_run_attaches_to_its_golden_record(store, batch, model):
    """The interleaving the HTTP test hit now and then: the run released the store, and a lead came in
    before the service's background round refreshed its index — matched against an index without the
    run's records, it made a second golden record for a customer the run had just stored."""
    index = _service(store, model)
    _nightly(store, batch)
    rows = _people(batch, 5)
    answers = [intake(_lead(batch, r), store, index) for r in rows]
    assert [a.outcome for a in answers] == ["matched"] * len(rows), answers
    _one_each(store, [batch.at[r, "email"] for r in rows])


def test_a_lead_after_a_run_that_changed_a_record_finds_it_by_its_new_values(store, batch, model):
    """A service round refreshed the index while a nightly held the store (its held-by check came just
    before the hold), after another writer (a portal change, run id above the nightly's) wrote: the
    nightly's later writes carry a lower run id than what that refresh had seen. They must be indexed
    anyway (the index followed run ids, which are not in commit order), so a lead with the record's new
    name, e-mail and address finds it."""
    index = _service(store, model)
    _nightly(store, batch)
    row = _people(batch, 1)[0]
    moved = batch.copy()  # married and moved: every blocking key of the record changes but the first name
    moved.loc[row, ["last_name", "email", "postcode", "house_number", "street", "city", "phone", "mobile",
                    "birth_date"]] = ["Wijnaendts", "nieuw.adres@example.nl", "9711 AB", "7", None, None, None, None,
                                      None]

    def portal_write_and_refresh() -> None:
        portal = store.start_run("portal")
        other = batch.iloc[[-1]].assign(phone="0201234567")
        merge_batch(other, pd.DataFrame({"record_id": other["record_id"], "cluster_id": other["record_id"]}),
                    store, load_rules(), portal)
        store.finish_run(portal)
        index.refresh()

    assert _nightly(store, moved, between=portal_write_and_refresh)  # the portal's write: matched again
    index.refresh()  # and the background round after the run: it must see the run's changes too
    answer = intake(_lead(moved, row), store, index)
    assert answer.outcome == "matched", answer
    _one_each(store, ["nieuw.adres@example.nl"])


# SQLite in the default run; PostgreSQL (the same interleavings, ~2x the time) in .ci/run's second step (slow)
@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])],
                         indirect=True)
def test_leads_before_during_and_after_a_run_each_once(store, batch, model):
    """Before the run: merged at once (the run's matching reads them). During: queued, drained after the
    run against what it wrote. After: matched at once. Every customer in one golden record."""
    index = _service(store, model)
    rows = _people(batch, 6)
    new = {"first_name": "Zeynep", "last_name": "Kılıçarslan", "email": "zeynep.k@example.nl",
           "postcode": "1020 UJ", "house_number": "42", "source_code": "website", "qualification": "warm"}
    before = [intake(_lead(batch, r), store, index) for r in rows[:2]] + [intake(new, store, index)]
    assert [a.outcome for a in before] == ["created"] * 3

    during: list = []
    rematched = _nightly(store, batch, between=lambda: during.extend(
        [intake(_lead(batch, r), store, index) for r in rows[2:4]] + [intake(new, store, index)]))
    assert [a.outcome for a in during] == ["queued"] * 3
    assert not rematched  # a queued lead changes nothing the run matched against
    after = [intake(_lead(batch, r), store, index) for r in rows[4:]]  # before the queue is drained
    assert drain(store, index) == 3
    after += [intake(_lead(batch, r), store, index) for r in rows] + [intake(new, store, index)]
    assert all(a.outcome == "matched" for a in after), after
    _one_each(store, [batch.at[r, "email"] for r in rows] + [new["email"]])


# SQLite in the default run; PostgreSQL (the same interleavings, ~2x the time) in .ci/run's second step (slow)
@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])],
                         indirect=True)
def test_two_nightly_runs_and_leads_between_them(store, batch, model):
    """A second nightly run (the ERP table) after leads and a first run: still one golden record each."""
    from cdq.normalize import normalize
    from cdq.staging import import_inputs

    erp = normalize(import_inputs([f"sqlite:///{FIXTURES / 'erp.sqlite'}?table=klanten"]).staging)[0]
    index = _service(store, model)
    rows = _people(batch, 4)
    _nightly(store, batch)
    first = [intake(_lead(batch, r), store, index) for r in rows[:2]]
    _nightly(store, erp, between=lambda: first.append(intake(_lead(batch, rows[2]), store, index)))
    first.append(intake(_lead(batch, rows[3]), store, index))
    drain(store, index)
    assert [a.outcome for a in first] == ["matched", "matched", "queued", "matched"], first
    _one_each(store, [batch.at[r, "email"] for r in rows])


def test_a_killed_runs_hold_is_released_and_its_queued_leads_taken_in(store, batch, model):
    """A run killed with SIGKILL leaves its hold in ``store_lock``: the service's round releases a hold
    whose process is gone (this host), and the leads queued behind it are matched, not left waiting."""
    import os
    import socket
    import subprocess
    import sys

    from cdq.leads.lock import held_by, release_if_gone
    from cdq.store.online import store_lock

    index = _service(store, model)
    _nightly(store, batch)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with store.begin() as conn:
        conn.execute(store_lock.update().values(holder=f"nightly pid {gone.pid} on {socket.gethostname()}"))
    alive = f"nightly pid {os.getpid()} on {socket.gethostname()}"
    row = _people(batch, 1)[0]
    assert intake(_lead(batch, row), store, index).outcome == "queued"
    with store.begin() as conn:  # a live holder is kept
        conn.execute(store_lock.update().values(holder=alive))
    assert release_if_gone(store) is None and held_by(store) == alive
    with store.begin() as conn:
        conn.execute(store_lock.update().values(holder=f"nightly pid {gone.pid} on {socket.gethostname()}"))
    assert release_if_gone(store) is not None and held_by(store) is None
    assert drain(store, index) == 1
    _one_each(store, [batch.at[row, "email"]])
