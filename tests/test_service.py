"""``cdq serve`` over real HTTP (uvicorn on a loopback port): every endpoint, auth, scopes, bad input,
idempotent leads, the SQL CRM, OpenRefine reconciliation against the W3C v0.2 schemas, limits and logs."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import SHARED_DATA, customer, demo_addresses, need, running

from cdq.service.apikeys import create_key, revoke_key
from cdq.store import GoldenStore


def test_health_docs_and_openapi(store_copy):
    with running(store=store_copy) as srv:
        status, body, _ = srv.client.call("GET", "/health", key=None)
        assert status == 200 and body["status"] == "ok" and body["reference"]["addresses"] > 1000
        status, page, headers = srv.client.call("GET", "/docs", key=None)
        assert status == 200 and "swagger-ui" in page and headers["content-type"].startswith("text/html")
        status, spec, _ = srv.client.call("GET", "/openapi.json", key=None)
        paths = set(spec["paths"])
        assert {"/health", "/v1/address", "/v1/validate", "/v1/match", "/v1/leads", "/reconcile"} <= paths


def test_address_completion_and_additions(store_copy):
    addresses = demo_addresses()
    (postcode, number), rows = next((k, v) for k, v in addresses.items() if len(v) >= 2)
    with running(store=store_copy) as srv:
        status, body, _ = srv.client.call("GET", "/v1/address", params={"postcode": postcode.lower(),
                                                                         "house_number": number})
        assert status == 200, body
        assert body["street"] == rows[0]["straat"] and body["city"] == rows[0]["woonplaats"]
        expected = {f"{number}{r['huisletter']}" + (f"-{r['huisnummertoevoeging']}" if r["huisnummertoevoeging"] else "")
                    for r in rows}
        assert {a.upper() for a in body["additions"]} == {e.upper() for e in expected}
        missing = max(int(n) for p, n in addresses if p == postcode) + 1000
        status, body, _ = srv.client.call("GET", "/v1/address", params={"postcode": postcode,
                                                                         "house_number": str(missing)})
        assert status == 200 and body["address_status"] == "not_found" and body["street"] is None


def test_auth_failures_scopes_and_revocation(store_copy):
    with running(store=store_copy) as srv:
        params = {"postcode": "1020UJ", "house_number": "42"}
        assert srv.client.call("GET", "/v1/address", params=params, key=None)[0] == 401
        assert srv.client.call("GET", "/v1/address", params=params, key="cdq_00000000_nope")[0] == 401
        assert srv.client.call("GET", "/v1/address", params=params, key=srv.key[:-2] + "xx")[0] == 401
        read_only = create_key(srv.store, "reader", ["read"])
        assert srv.client.call("GET", "/v1/address", params=params, key=read_only)[0] == 200
        status, body, _ = srv.client.call("POST", "/v1/match", {"last_name": "Jansen"}, key=read_only)
        assert status == 403 and "match" in body["detail"]
        lead = {"last_name": "Jansen", "source_code": "website", "qualification": "warm"}
        assert srv.client.call("POST", "/v1/leads", lead, key=read_only)[0] == 403
        assert revoke_key(srv.store, "reader") == 1
        time.sleep(5.5)  # the service caches a verified key for 5 s
        assert srv.client.call("GET", "/v1/address", params=params, key=read_only)[0] == 401
        audit = srv.store.table("audit_log")
        assert {401, 403} <= set(audit.loc[audit["kind"] == "error", "status"].astype(int))


@pytest.mark.parametrize("method,path,body,field", [
    ("GET", "/v1/address?postcode=1020UJ", None, "house_number"),
    ("POST", "/v1/validate", {"last_name": "Jansen", "emial": "a@b.nl"}, "emial"),
    ("POST", "/v1/validate", {"last_name": ["Jansen"]}, "last_name"),
    ("POST", "/v1/match", {"postcode": "x" * 50}, "postcode"),
    ("POST", "/v1/leads", {"last_name": "Jansen", "qualification": "warm"}, "source_code"),
    ("POST", "/v1/leads", {"last_name": "Jansen", "source_code": "website", "qualification": "hot"}, "qualification"),
    ("POST", "/v1/match?limit=0", {"last_name": "Jansen"}, "limit"),
])
def test_bad_input_is_a_422_naming_the_field(store_copy, method, path, body, field):
    with running(store=store_copy) as srv:
        status, answer, _ = srv.client.call(method, path, body)
        assert status == 422, answer
        assert field in [f["field"] for f in answer["fields"]]
        assert "Jansen" not in json.dumps(answer)  # the value is not echoed


def test_bad_json_oversized_body_and_no_personal_data_in_logs(store_copy, caplog):
    caplog.set_level(logging.INFO, logger="cdq")
    with running(store=store_copy, max_body_bytes=2048) as srv:
        status, answer, _ = srv.client.call("POST", "/v1/validate", raw=b'{"last_name": "Wijnaendts"')
        assert status == 422 and answer["fields"][0]["field"] == "body"
        status, answer, _ = srv.client.call("POST", "/v1/validate", {"last_name": "x" * 5000})
        assert status == 413
        lead = {"first_name": "Gerrit", "last_name": "Wijnaendts", "email": "gerrit.wijnaendts@example.nl",
                "postcode": "1020 UJ", "house_number": "42", "source_code": "website", "qualification": "warm"}
        assert srv.client.call("POST", "/v1/leads", lead)[0] == 201
        srv.client.call("GET", "/v1/address", params={"postcode": "1020UJ", "house_number": "42"})
    logged = caplog.text + srv.store.table("audit_log").to_csv()
    assert "POST /v1/leads 201" in caplog.text
    for secret in ("Wijnaendts", "gerrit", "1020", "UJ"):
        assert secret.lower() not in logged.lower(), secret


def test_validate_explains_in_english_and_dutch(store_copy):
    with running(store=store_copy) as srv:
        status, body, _ = srv.client.call("POST", "/v1/validate", {
            "first_name": "Asdf", "last_name": "Qwerty", "phone": "0612", "email": "jan@example.nl",
            "postcode": "1020uj", "house_number": "42", "house_number_addition": "1"})
        assert status == 200, body
        assert body["name"]["plausible"] is False and body["name"]["reasons"]
        assert body["phone"] == "invalid" and body["email"] == "valid"
        assert body["record"]["postcode"] == "1020 UJ" and body["record"]["street"] == "Reigersingel"
        codes = {i["code"]: i for i in body["issues"]}
        assert "PHONE_NOT_DIALABLE" in codes and codes["PHONE_NOT_DIALABLE"]["nl"] != codes["PHONE_NOT_DIALABLE"]["en"]
        assert srv.store.table("leads").empty  # nothing stored


def test_match_finds_the_existing_customer_with_an_explanation(store_copy):
    known = customer(store_copy)
    typo = known["last_name"][:-1] if len(known["last_name"]) > 4 else known["last_name"]
    with running(store=store_copy) as srv:
        status, body, _ = srv.client.call("POST", "/v1/match?limit=3", {
            "first_name": known["first_name"], "last_name": typo, "postcode": known["postcode"],
            "house_number": known["house_number"], "email": known["email"]})
        assert status == 200, body
        best = body["candidates"][0]
        assert best["golden_id"] == known["golden_id"] and best["decision"] == "match"
        assert best["explanation"]["email"]["level"] == "exact" and best["explanation"]["email"]["weight"] > 0
        assert best["golden"]["last_name"] == known["last_name"]
        status, body, _ = srv.client.call("POST", "/v1/match", {"first_name": "Xqzwy", "last_name": "Plokmijn",
                                                                "postcode": "9999 ZZ", "house_number": "1"})
        assert status == 200 and all(c["decision"] != "match" for c in body["candidates"])


def test_leads_attach_create_and_are_idempotent(store_copy, tmp_path):
    known = customer(store_copy)
    crm = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    with running(store=store_copy, crm=crm) as srv:
        lead = {"first_name": known["first_name"], "last_name": known["last_name"], "email": known["email"],
                "postcode": known["postcode"], "house_number": known["house_number"], "source_code": "website",
                "qualification": "warm", "campaign": "voorjaar"}
        status, first, _ = srv.client.call("POST", "/v1/leads", lead, headers={"Idempotency-Key": "form-1"})
        assert status == 201 and first["outcome"] == "matched" and first["golden_id"] == known["golden_id"]
        status, again, _ = srv.client.call("POST", "/v1/leads", lead, headers={"Idempotency-Key": "form-1"})
        assert status == 200 and again["lead_id"] == first["lead_id"] and again["replayed"] is True
        new = {"first_name": "Zeynep", "last_name": "Kılıçarslan", "email": "zeynep.k@example.nl",
               "postcode": "1020 UJ", "house_number": "42", "source_code": "fair", "qualification": "cold"}
        answers: list = []
        threads = [threading.Thread(target=lambda: answers.append(
            srv.client.call("POST", "/v1/leads", new, headers={"Idempotency-Key": "fair-7"}))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(a[0] for a in answers) == [200, 200, 200, 201]
        assert len({a[1]["lead_id"] for a in answers}) == 1 and answers[0][1]["outcome"] == "created"
        retyped = {**new, "email": "zeynep.kilicarslan@example.nl", "source_code": "phone"}
        status, third, _ = srv.client.call("POST", "/v1/leads", retyped)
        assert status == 201 and third["golden_id"] == answers[0][1]["golden_id"], third
        status, shown, _ = srv.client.call("GET", f"/v1/leads/{first['lead_id']}")
        assert status == 200 and shown["crm_status"] == "created"
    leads = srv.store.table("leads")
    assert len(leads) == 3 and leads["idempotency_key"].dropna().tolist().count("fair-7") == 1
    sources = srv.store.table("source_records")
    assert sources["ref"].str.startswith("lead:").sum() == 3
    golden = srv.store.table("golden_records").set_index("golden_id")
    assert golden.at[known["golden_id"], "status"] == "active"
    in_crm = sa.create_engine(crm).connect().execute(sa.text("select lead_id, golden_id, qualification from cdq_leads")).all()
    assert {(r[0], r[1]) for r in in_crm} == {(a["lead_id"], a["golden_id"]) for a in (first, answers[0][1], third)}
    audit = srv.store.table("audit_log")
    assert (audit["kind"] == "lead").sum() == 3


def _schema(name: str) -> dict:
    need((SHARED_DATA / "reconciliation_api_0.2").is_dir(), "../shared/data/reconciliation_api_0.2")
    return json.loads((SHARED_DATA / "reconciliation_api_0.2" / name).read_text(encoding="utf-8"))


def _validator(name: str):
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    folder = SHARED_DATA / "reconciliation_api_0.2"
    resources = [(s["$id"], Resource.from_contents(s, default_specification=DRAFT7))
                 for s in (json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")) if "$id" in s]
    return Draft7Validator(_schema(name), registry=Registry().with_resources(resources))


def test_reconciliation_answers_validate_against_the_w3c_schemas(store_copy):
    known = customer(store_copy)
    queries = {"q0": {"query": f"{known['first_name']} {known['last_name']}", "type": "customer", "limit": 3,
                      "properties": [{"pid": "postcode", "v": known["postcode"]},
                                     {"pid": "house_number", "v": known["house_number"]},
                                     {"pid": "email", "v": known["email"]}]},
               "q1": {"query": "Xqzwy Plokmijn", "properties": [{"pid": "birth_date", "v": "1901-01-01"}]}}
    _validator("reconciliation-query-batch.json").validate(queries)
    with running(store=store_copy) as srv:
        status, manifest, _ = srv.client.call("GET", "/reconcile")
        assert status == 200
        _validator("manifest.json").validate(manifest)
        status, results, _ = srv.client.call("POST", "/reconcile", raw=f"queries={json.dumps(queries)}".encode(),
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, results
        _validator("reconciliation-result-batch.json").validate(results)
        best = results["q0"]["result"][0]
        assert best["id"] == known["golden_id"] and best["match"] is True and best["score"] > 90
        assert all(not r["match"] for r in results["q1"]["result"])
        status, via_get, _ = srv.client.call("GET", "/reconcile", params={"queries": json.dumps(queries)})
        assert status == 200 and via_get["q0"]["result"][0]["id"] == known["golden_id"]
        status, jsonp, headers = srv.client.call("GET", "/reconcile", params={"callback": "cb"})
        assert jsonp.startswith("cb(") and "javascript" in headers["content-type"]
        status, page, _ = srv.client.call("GET", "/reconcile/preview", params={"id": known["golden_id"]})
        assert status == 200 and known["last_name"] in page
        assert srv.client.call("GET", "/reconcile", key=None)[0] == 401
        status, _, _ = srv.client.call("POST", "/reconcile", raw=b"queries={broken",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 422
    with running(store=store_copy, reconcile_public=True) as srv:
        status, manifest, _ = srv.client.call("GET", "/reconcile", key=None)
        assert status == 200 and manifest["versions"] == ["0.2"]
        assert srv.client.call("POST", "/v1/match", {"last_name": "x"}, key=None)[0] == 401  # only reconcile opens


def test_rate_limit_per_key_and_cors_allow_list(store_copy):
    with running(store=store_copy, rate_limit="5/minute", cors_origins=["https://www.example.nl"]) as srv:
        other = create_key(srv.store, "other", ["read"])
        codes = [srv.client.call("GET", "/health", key=None)[0]]
        codes += [srv.client.call("POST", "/v1/validate", {"last_name": "Bos"})[0] for _ in range(6)]
        assert codes == [200, 200, 200, 200, 200, 200, 429]
        assert srv.client.call("POST", "/v1/validate", {"last_name": "Bos"}, key=other)[0] == 200  # per key
        preflight = {"Origin": "https://www.example.nl", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"}
        _, _, headers = srv.client.call("OPTIONS", "/v1/leads", key=None, headers=preflight)
        assert headers.get("access-control-allow-origin") == "https://www.example.nl"
        _, _, headers = srv.client.call("OPTIONS", "/v1/leads", key=None,
                                        headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in headers


def test_cdq_serve_command_starts_on_the_demo_store_and_stops_gracefully(demo_store, tmp_path):
    import shutil
    import signal

    from helpers import Client, cdq_serve_process

    shutil.copy(demo_store, tmp_path / "golden.sqlite")
    (tmp_path / "tmp").mkdir()
    proc, port = cdq_serve_process(f"sqlite:///{tmp_path / 'golden.sqlite'}", tmpdir=tmp_path / "tmp")
    try:
        client = Client(port)
        assert client.call("GET", "/docs", key=None)[0] == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    # uvicorn finishes the requests in flight, runs the shutdown, then re-raises SIGTERM (exit -15 = stopped)
    assert proc.returncode in (0, -signal.SIGTERM), out
    assert "Application shutdown complete" in out and "Traceback" not in out, out
    # the bundled demo address reference it built for the run (no --reference) is gone with it
    assert not list((tmp_path / "tmp").iterdir())


def test_cdq_serve_workers_fork_after_start_answer_alike_and_stop_together(demo_store, tmp_path):
    """--workers 2: two processes forked after the index and model are ready, on one port; the same record
    gets the same answer from whichever worker takes it; SIGTERM stops both gracefully."""
    import shutil
    import signal
    from concurrent.futures import ThreadPoolExecutor

    from helpers import Client, cdq_serve_process

    shutil.copy(demo_store, tmp_path / "golden.sqlite")
    url = f"sqlite:///{tmp_path / 'golden.sqlite'}"
    key = create_key(GoldenStore(url), "workers", ["read", "match"])
    known = customer(url)
    (tmp_path / "tmp").mkdir()
    proc, port = cdq_serve_process(url, "--workers", "2", tmpdir=tmp_path / "tmp")
    try:
        client = Client(port, key)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 2
        record = {k: known[k] for k in ("first_name", "last_name", "postcode", "house_number", "email")}
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.call("POST", "/v1/match", record)[:2], range(40)))
        assert {status for status, _ in answers} == {200}
        assert answers[0][1]["candidates"][0]["golden_id"] == known["golden_id"]
        assert all(body == answers[0][1] for _, body in answers)
        address = client.call("GET", "/v1/address", params={"postcode": "1020UJ", "house_number": "42"})
        assert address[0] == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert out.count("Application shutdown complete") == 2 and "Traceback" not in out, out
    # the demo reference the workers shared was removed once, by the parent, after both had stopped
    assert not list((tmp_path / "tmp").iterdir())
