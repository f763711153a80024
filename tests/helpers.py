"""Helpers shared by several test modules: test modules never import each other, and fixtures live in conftest.py.

- where things are and how a missing resource is handled: ``REPO``, ``SHARED_DATA``, ``FIXTURES``, ``need``;
- data builders for the CRM tests (``people``, ``nightly``) and for the gates and run report tests
  (``clean_staging``, ``planted_staging``, ``golden_of``); Belgian BeST-Address CSV rows (``BEST_*``);
- a real ``cdq serve`` on a loopback port (``running``, ``Client``, ``free_port``) and the demo store's
  ``customer`` and ``demo_addresses``;
- the demo's golden store scored against the fixtures' truth (``score_demo``, ``demo_stored_records``,
  ``demo_entity_of``).
"""

from __future__ import annotations

import csv
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import pytest
import sqlalchemy as sa

from cdq.address.belgium import HEADER as BEST_HEADER
from cdq.golden import merge_batch
from cdq.survivorship import Rules, load_rules

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = REPO / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, what: str) -> None:
    """Fail under CI, skip elsewhere, when a required external resource is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is missing")
    pytest.skip(f"{what} not available")

RULES = load_rules()
#: The bundled rules without their ``require`` checks: lets a test plant an invalid value in a golden record
#: (to see what a CRM does with it), which the real rules keep out.
LENIENT = Rules(tuple(replace(g, require=None) for g in RULES.groups), RULES.source_priority, RULES.outputs)


def people(n, email="p{i}@x.nl", city="Utrecht"):
    rows = [{"record_id": f"r{i}", "source": "erp", "source_key": str(i), "first_name": f"Naam{i}",
             "last_name": "Jansen", "email": email.format(i=i), "city": city, "source_updated_at": "2024-01-01"}
            for i in range(n)]
    rows.append({"record_id": "org", "source": "erp", "source_key": "org", "party_type": "organisation",
                 "company_name": "Bakkerij De Vries", "city": "Utrecht", "source_updated_at": "2024-01-01"})
    return pd.DataFrame(rows)


def nightly(store, staging, clusters=None, rules=RULES):
    clusters = clusters if clusters is not None else pd.DataFrame(
        {"record_id": staging["record_id"], "cluster_id": staging["record_id"]})
    return merge_batch(staging, clusters, store, rules, store.start_run("nightly"))


SOURCES = {"backoffice": 40, "advisers_xls": 30, "outlook": 30}
STREETS = ["Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein"]
CITIES = ["Utrecht", "Delft", "Zwolle", "Antwerpen"]


def clean_staging() -> pd.DataFrame:
    """100 cleaned records from three sources, all in canonical formats (made up, not real people)."""
    rows = []
    for source, n in SOURCES.items():
        for i in range(n):
            k = len(rows)
            rows.append({
                "record_id": f"{source}:{i}", "source": source, "source_key": f"K{i}",
                "source_file": f"{source}.csv", "source_row": i + 2,
                "first_name": f"Voornaam{k % 7}", "last_name": f"Achternaam{k % 11}",
                "street": STREETS[k % 4], "house_number": str(k % 90 + 1),
                "postcode": f"{1000 + k * 37 % 8999} {'ABCDEFGH'[k % 8]}{'KLMNPRTV'[k % 8]}",
                "city": CITIES[k % 4], "email": f"klant{k}@voorbeeld.nl", "phone": f"+3130{k:07d}",
                "mobile": f"+316{k:08d}" if k % 3 else None,
                "address_status": ["verified", "completed", "not_found", "corrected"][k % 4],
                "name_plausibility": (k % 10) / 10 + 0.05, "issues": "PHONE_REFORMATTED" if k % 5 == 0 else "",
            })
    return pd.DataFrame(rows)


def planted_staging() -> pd.DataFrame:
    """The clean frame, but the source ``advisers_xls`` has its postcodes in the city column."""
    frame = clean_staging()
    shifted = frame["source"].eq("advisers_xls")
    frame.loc[shifted, "city"] = frame.loc[shifted, "postcode"]
    frame.loc[shifted, "postcode"] = None
    return frame


def golden_of(staging: pd.DataFrame) -> pd.DataFrame:
    golden = staging.drop(columns=["record_id"]).copy()
    golden.insert(0, "golden_id", [f"G{i + 1:07d}" for i in range(len(golden))])
    return golden


# --- Belgian addresses: BeST-Address CSV rows ----------------------------------------------------------------
# Made here in the exact layout of FPS BOSA's published ``openaddress-be*.csv`` (header as written by
# ``BestWriterCSVOpenAddresses`` in github.com/Fedict/best-tools, 20 columns; region codes BE-BRU, BE-VLG,
# BE-WAL; status ``current``/``retired``). Street and municipality names are real; ids, coordinates and box
# numbers are invented. test_address_belgium loads them as CSV, test_address_best_xml writes them as XML.

BEST_HEAD = ",".join(BEST_HEADER)
BEST_BRUSSELS = BEST_HEAD + """
149000.1,170500.2,50.8520,4.3560,1001,,12,21004,,Bruxelles,Brussel,1000,,,501,,Rue Neuve,Nieuwstraat,BE-BRU,current
149000.1,170500.2,50.8520,4.3560,1002,1,14,21004,,Bruxelles,Brussel,1000,,,501,,Rue Neuve,Nieuwstraat,BE-BRU,current
149000.1,170500.2,50.8520,4.3560,1003,2,14,21004,,Bruxelles,Brussel,1000,,,501,,Rue Neuve,Nieuwstraat,BE-BRU,current
149000.1,170500.2,50.8520,4.3560,1004,,16,21004,,Bruxelles,Brussel,1000,,,501,,Rue Neuve,Nieuwstraat,BE-BRU,retired
149100.0,171900.0,50.8650,4.3480,1005,,3,21004,,Bruxelles,Brussel,1020,Laeken,Laken,502,,Place Émile Bockstael,Emile Bockstaelplein,BE-BRU,current
150200.0,169800.0,50.8400,4.3700,1006,,25,21009,,Ixelles,Elsene,1050,,,503,,Chaussée d'Ixelles,Elsensesteenweg,BE-BRU,current
"""
BEST_FLANDERS = BEST_HEAD + """
153000.0,212000.0,51.2180,4.4050,2001,,50,11002,,Anvers,Antwerpen,2000,,,601,,,Meir,BE-VLG,current
153000.0,212000.0,51.2180,4.4050,2002,,12A,11002,,Anvers,Antwerpen,2000,,,601,,,Meir,BE-VLG,current
104000.0,194000.0,51.0540,3.7250,2003,0001,7,44021,,Gand,Gent,9000,,,602,,,Veldstraat,BE-VLG,current
104000.0,194000.0,51.0540,3.7250,2004,0002,7,44021,,Gand,Gent,9000,,,602,,,Veldstraat,BE-VLG,current
"""
BEST_WALLONIA = BEST_HEAD + """
235000.0,148000.0,50.6400,5.5700,3001,,4,62063,Lüttich,Liège,Luik,4000,,,701,,Rue de la Cathédrale,,BE-WAL,current
"""


# --- a real ``cdq serve``: uvicorn on a free loopback port in a thread, and a small HTTP client ------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """JSON over HTTP/1.1 to the test server (one connection per call: threads may share a client)."""

    def __init__(self, port: int, key: str | None = None):
        self.port, self.key = port, key

    def call(self, method: str, path: str, body: Any = None, *, key: str | None = "default",
             headers: dict[str, str] | None = None, params: dict | None = None,
             raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = dict(headers or {})
        token = self.key if key == "default" else key
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path + ("?" + urlencode(params) if params else ""), body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            payload: Any = json.loads(text)
        except json.JSONDecodeError:
            payload = text
        return r.status, payload, {k.lower(): v for k, v in r.getheaders()}


def cdq_serve_process(store_url: str, *options: str, tmpdir: Path | None = None) -> tuple[subprocess.Popen, int]:
    """``cdq serve --store URL OPTIONS`` as its own process on a free port, once ``/health`` answers 200
    (output and error merged into its stdout, text); ``tmpdir``: its temp folder (``TMPDIR``)."""
    port = free_port()
    cdq = Path(sys.executable).parent / "cdq"
    env = {**os.environ, "TMPDIR": str(tmpdir)} if tmpdir else None
    proc = subprocess.Popen([str(cdq), "serve", "--store", store_url, "--port", str(port), *options],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    client = Client(port)
    for _ in range(240):
        try:
            if client.call("GET", "/health", key=None)[0] == 200:
                break
        except OSError:
            time.sleep(0.5)
    return proc, port


class Running:
    """A started server: ``port``, ``client`` (with a key holding every scope), ``state``, ``store``."""

    def __init__(self, server: Any, port: int, app: Any, key: str):
        self.server, self.port, self.app, self.key = server, port, app, key
        self.state = app.state.cdq
        self.store = self.state.store
        self.client = Client(port, key)
        self.url = f"http://127.0.0.1:{port}"


@contextmanager
def running(**settings: Any) -> Iterator[Running]:
    """Serve ``create_app(load_settings(**settings))`` on a free port until the block ends."""
    import uvicorn

    from cdq.service import create_app, load_settings
    from cdq.service.apikeys import create_key

    port = free_port()
    settings.setdefault("refresh_seconds", 3600)  # tests call state.tick() themselves
    app = create_app(load_settings(environ={}, port=port, **settings))
    key = create_key(app.state.cdq.store, "tests", ["read", "match", "leads"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield Running(server, port, app, key)
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def customer(store_url: str, *, with_email: bool = True) -> dict:
    """An active golden customer of the demo store with name, address (and e-mail)."""
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select golden_id, data from golden_records where status = 'active' "
                                    "order by golden_id")).all()
    engine.dispose()
    for gid, data in rows:
        values = json.loads(data)
        if values.get("last_name") and values.get("first_name") and values.get("postcode") \
                and values.get("house_number") and (values.get("email") or not with_email) \
                and values.get("bag_address_id"):
            return {"golden_id": gid, **values}
    raise AssertionError("no complete customer in the demo store")


def demo_addresses() -> dict[tuple[str, str], list[dict]]:
    """(postcode, number) -> the demo reference rows at that number."""
    out: dict[tuple[str, str], list[dict]] = {}
    with open(REPO / "reference_data" / "demo_bag.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter=";"):
            out.setdefault((row["postcode"], row["huisnummer"]), []).append(row)
    return out


# --- the demo's golden store against its own truth (fixtures/truth.csv, truth_entities.csv) ----------------
# Each stored source record is mapped to its true entity by where it came from: file, sheet/table and row (the
# row a person sees, as truth.csv counts it); mail correspondents (one record per address, however many
# messages) by their e-mail address. Junk records (JUNK*) are nobody and are left out of the pairs.
NAME_PARTS = ["title", "initials", "first_name", "infix", "last_name"]


def _truth_key(file: str, table: str, row: str) -> str:
    return f"{Path(file).name}|{table}|{int(float(row))}"


def demo_stored_records(store: Path) -> pd.DataFrame:
    """``ref, golden_id`` and the payload's columns of every stored source record."""
    engine = sa.create_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select s.ref, x.golden_id, s.payload from source_records s join xref x on x.source_record_id = s.id"
        )).all()
    engine.dispose()
    payload = pd.DataFrame([json.loads(p) for _, _, p in rows])
    return payload.assign(ref=[r for r, _, _ in rows], golden_id=[g for _, g, _ in rows])


def demo_entity_of(records: pd.DataFrame, fixtures: Path) -> pd.Series:
    """The true entity id of each stored record (None where the truth has no row for it)."""
    truth = pd.read_csv(fixtures / "truth.csv", dtype=str, keep_default_na=False)
    by_row = {_truth_key(f, t, r): e for f, t, r, e in zip(truth["file"], truth["table"], truth["row"],
                                                             truth["entity_id"])}
    mail = truth[truth["file"].str.startswith(("mail/", "mailbox"))]
    by_mail = {(f.split("/")[0].split(".")[0], m.lower()): e for f, m, e in zip(mail["file"], mail["email"],
                                                                             mail["entity_id"])}
    out = []
    for rec in records.to_dict("records"):
        file = str(rec.get("source_file") or "")
        name = Path(file.split("?")[0]).name
        if name in ("mail", "mailbox.mbox"):
            out.append(by_mail.get((name.split(".")[0], str(rec.get("email") or "").lower())))
            continue
        table = str(rec.get("source") or "").split(":")[1] if ":" in str(rec.get("source")) else ""
        row = rec.get("source_row") or 0
        if name == "erp.sqlite":  # an SQL table has no rows a person sees: the truth counts its key
            table, row = "klanten", rec.get("source_key") or 0
        out.append(by_row.get(_truth_key(name, table, row)))
    return pd.Series(out, index=records.index, dtype=object)


def _pairs_of(groups: pd.Series) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for members in groups.groupby(groups).groups.values():
        pairs.update(itertools.combinations(sorted(members), 2))
    return pairs


@dataclass
class DemoScore:
    """Pairwise precision/recall of the golden records, households merged, names less complete."""

    precision: float
    recall: float
    true_pairs: int
    found_pairs: int
    false_pairs: list[tuple[str, str]]
    missed_pairs: list[tuple[str, str]]
    households_merged: list[str]
    less_complete_names: list[str]
    unmapped: list[str]


def score_demo(store: Path, fixtures: Path = FIXTURES) -> DemoScore:
    """Score the demo's golden store against the fixtures' truth."""
    records = demo_stored_records(store)
    records["entity"] = demo_entity_of(records, fixtures)
    unmapped = records.loc[records["entity"].isna(), "ref"].tolist()
    people = records[records["entity"].notna() & ~records["entity"].astype(str).str.startswith("JUNK")]
    refs = people.set_index("ref")
    truth_pairs = _pairs_of(refs["entity"])
    found = _pairs_of(refs["golden_id"])
    hit = truth_pairs & found
    entities = pd.read_csv(fixtures / "truth_entities.csv", dtype=str, keep_default_na=False).set_index("entity_id")
    household = people["entity"].map(entities["household_id"])
    merged = [g for g, grp in people.assign(h=household).groupby("golden_id")
              if grp["entity"].nunique() > 1 and grp["h"].nunique() == 1 and grp["h"].iloc[0]]
    return DemoScore(
        precision=len(hit) / len(found) if found else 1.0, recall=len(hit) / len(truth_pairs) if truth_pairs else 1.0,
        true_pairs=len(truth_pairs), found_pairs=len(found), false_pairs=sorted(found - truth_pairs),
        missed_pairs=sorted(truth_pairs - found), households_merged=merged,
        less_complete_names=_less_complete(store, records), unmapped=unmapped)


def _less_complete(store: Path, records: pd.DataFrame) -> list[str]:
    """Golden ids whose name has fewer filled parts than one of its live source records' names."""
    engine = sa.create_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        golden = conn.execute(sa.text("select golden_id, data from golden_records where status = 'active'")).all()
    engine.dispose()
    filled = {g: sum(bool((json.loads(d) or {}).get(c)) for c in NAME_PARTS) for g, d in golden}
    parts = records.reindex(columns=NAME_PARTS).notna() & records.reindex(columns=NAME_PARTS).astype(str).ne("")
    best = parts.sum(axis=1).groupby(records["golden_id"]).max()
    return sorted(g for g, n in best.items() if g in filled and filled[g] < n)
