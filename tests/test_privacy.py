"""Privacy (AVG/GDPR): find, export, erase (store + SQL CRM + BottleCRM), tombstones, retention, register,
pseudonymised exports. The subject is a real person-shaped record in three sources of a real pipeline run."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.crm.http import HttpClient
from cdq.crm.registry import target_from_url
from cdq.crm.sql import SqlCrmTarget
from cdq.pipeline import run_pipeline
from cdq.privacy import erase_subject, lift_erasure
from cdq.privacy.pseudonym import pseudonymise
from cdq.privacy.retention import RetentionRules, apply_retention
from cdq.privacy.subjects import export_subject, find_subjects
from cdq.store import GoldenStore

runner = CliRunner()

#: The subject: strings that must not survive an erasure anywhere in the store or the CRM.
SUBJECT = {"first": "Johanna", "last": "Wijnaendts", "email": "jo.wijnaendts@example-mail.nl",
           "phone_digits": "612349876", "birth": "1971-03-12", "street": "Zonnebloemlaan", "postcode": "9999 ZX"}
NEEDLES = ["Johanna", "Wijnaendts", "wijnaendts", "612349876", "1971-03-12", "Zonnebloemlaan", "9999 ZX", "9999ZX"]

CRM_EXPORT = """Klantnummer;Voornaam;Tussenvoegsel;Achternaam;Straat;Huisnummer;Postcode;Plaats;E-mail;Telefoon;Geboortedatum
K1;Johanna;;Wijnaendts;Zonnebloemlaan;17;9999 ZX;Veendam;jo.wijnaendts@example-mail.nl;06-12349876;12-03-1971
K2;Pieter;de;Groot;Kerkstraat;4;1011 AB;Amsterdam;pieter.degroot@example.nl;06-11112222;01-02-1960
K3;Anna;van;Dijk;Dorpsweg;8;3511 CD;Utrecht;anna.vandijk@example.nl;06-33334444;15-06-1985
K4;Karel;;Smit;Molenweg;22;5611 EF;Eindhoven;karel.smit@example.nl;06-55556666;30-09-1972
"""
ERP = """Relatienummer,Naam,Adres,Postcode,Woonplaats,Email,Mobiel,Geboortedatum
R10,"J. Wijnaendts",Zonnebloemlaan 17,9999ZX,Veendam,jo.wijnaendts@example-mail.nl,+31612349876,1971-03-12
R11,"P. de Groot",Kerkstraat 4,1011AB,Amsterdam,pieter.degroot@example.nl,+31611112222,1960-02-01
R12,"M. Visser",Havenstraat 3,9711 GH,Groningen,m.visser@example.nl,+31677778888,1990-12-24
"""
NEWSLETTER = """Klantnummer,Voornaam,Achternaam,E-mail,Telefoon
N1,Johanna,Wijnaendts,jo.wijnaendts@example-mail.nl,0612349876
N2,Anna,van Dijk,anna.vandijk@example.nl,0633334444
N3,Lotte,Bakker,lotte.bakker@example.nl,0699990000
"""


def _pipeline(tmp_path: Path, store: str, crm: str) -> Path:
    (tmp_path / "crm_export.csv").write_text(CRM_EXPORT, encoding="utf-8")
    (tmp_path / "erp.csv").write_text(ERP, encoding="utf-8")
    (tmp_path / "newsletter.csv").write_text(NEWSLETTER, encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(f"""name: privacy-test
purpose: customer administration and advice
inputs:
  - {{path: crm_export.csv, source: crm, purpose: contracts}}
  - {{path: erp.csv, source: erp, purpose: invoicing}}
  - {{path: newsletter.csv, source: newsletter, purpose: newsletter with consent}}
store: "{store}"
crm: "{crm}"
stages: [normalize, names, linkage, golden, load, export]
""", encoding="utf-8")
    return path


def dump_text(url: str) -> str:
    """Every row of every table of a database, as text (what a person reading a dump would see)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        return "\n".join(repr(tuple(r)) for n in names for r in conn.execute(sa.text(f'select * from "{n}"')).all())


def active_golden(store: GoldenStore) -> dict[str, dict]:
    rows = store.table("golden_records")
    return {g: json.loads(d) for g, d, s in zip(rows["golden_id"], rows["data"], rows["status"]) if s == "active"}


@pytest.fixture(params=["sqlite", "postgres"])
def urls(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/golden.sqlite", f"sqlite:///{tmp_path}/crm.sqlite"
    pg = request.getfixturevalue("pg_url")
    return pg, pg


def test_find_export_erase_and_the_next_night_does_not_bring_them_back(tmp_path, urls):
    store_url, crm_url = urls
    pipeline = _pipeline(tmp_path, store_url, crm_url)
    run_pipeline(pipeline, workdir=tmp_path / "w", keep_intermediates=True)
    store = GoldenStore(store_url)
    found = find_subjects(store, email="JO.Wijnaendts@example-mail.nl")
    assert len(found) == 1
    golden_id = found.at[0, "golden_id"]
    by_name = find_subjects(store, name="J. Wijnaendts", postcode="9999zx")
    assert by_name["golden_id"].tolist() == [golden_id]

    paths = export_subject(store, golden_id, tmp_path / "export")
    exported = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert sorted(s["source"] for s in exported["source_records"]) == ["crm", "erp", "newsletter"]
    assert exported["golden_records"][0]["data"]["last_name"] == "Wijnaendts"
    assert oct(paths["json"].stat().st_mode & 0o777) == "0o600"
    assert "Wijnaendts" in paths["html"].read_text(encoding="utf-8") and "<script" not in paths["html"].read_text()

    others_before = {g: v for g, v in active_golden(store).items() if g != golden_id}
    assert "Wijnaendts" in dump_text(crm_url)
    result = erase_subject(store, golden_id, reason="request 2026-17", erased_by="steward", crm=SqlCrmTarget(crm_url),
                           workdir=tmp_path / "w")
    assert result.counts["source_records"] == 3 and result.crm_line == "erased: 1 CRM record(s) deleted"
    for text in (dump_text(store_url), dump_text(crm_url)):
        assert not [n for n in NEEDLES if n in text], "personal data left after the erasure"
    removed = {Path(p).relative_to(tmp_path / "w").as_posix() for p in result.files_removed}
    assert {"golden_records.xlsx", "xref.csv", "intermediates/staging.parquet"} <= removed

    again = erase_subject(store, golden_id, reason="request 2026-17", erased_by="steward", crm=SqlCrmTarget(crm_url))
    assert again.already and again.crm_line == "erased: 0 CRM record(s) deleted"

    ctx = run_pipeline(pipeline, workdir=tmp_path / "w")  # the same old exports again
    assert not (tmp_path / "w" / "intermediates").exists()  # a run without --keep-intermediates cleans them
    held = ctx.frames["quarantine"]
    assert sorted(held.loc[held["reason_code"] == "SUBJECT_ERASED", "source"]) == ["crm", "erp", "newsletter"]
    assert held["raw"].isna().all()
    assert active_golden(store) == others_before  # every other customer unchanged, the subject not re-created
    for text in (dump_text(store_url), dump_text(crm_url)):
        assert not [n for n in NEEDLES if n in text]

    assert lift_erasure(store, golden_id, lifted_by="steward") > 0
    run_pipeline(pipeline, workdir=tmp_path / "w")
    back = [g for g, v in active_golden(store).items() if v.get("last_name") == "Wijnaendts"]
    assert len(back) == 1 and back[0] != golden_id  # a new customer: erased ids are never reused


@pytest.mark.bottlecrm
@pytest.mark.slow  # BottleCRM: run by .ci/run's second step
def test_erase_deletes_the_contact_from_a_real_bottlecrm(tmp_path, bottlecrm_org):
    url, token = bottlecrm_org
    store_url = f"sqlite:///{tmp_path}/g.sqlite"
    pipeline = _pipeline(tmp_path, store_url, f"bottlecrm+{url}")
    run_pipeline(pipeline, workdir=tmp_path / "w")
    store = GoldenStore(store_url)
    golden_id = find_subjects(store, email=SUBJECT["email"]).at[0, "golden_id"]
    state = store.table("cdq_crm_xref")
    crm_id = state.loc[state["golden_id"] == golden_id, "crm_id"].item()
    api = HttpClient(url, {"Authorization": f"Bearer {token}"})
    assert api.get(f"/api/contacts/{crm_id}/").status == 200
    others = {r["id"] for r in api.get("/api/contacts/", params={"limit": 1000}).body["results"]} - {crm_id}

    result = erase_subject(store, golden_id, reason="r", erased_by="s", crm=target_from_url(f"bottlecrm+{url}",
                                                                                          state=store_url))
    assert result.crm_line == "erased: 1 CRM record(s) deleted"
    assert api.get(f"/api/contacts/{crm_id}/").status == 404
    listed = api.get("/api/contacts/", params={"limit": 1000}).body["results"]
    assert {r["id"] for r in listed} == others and "Wijnaendts" not in json.dumps(listed)
    assert not [n for n in NEEDLES if n in dump_text(store_url)]  # the CRM state beside the store too
    ctx = run_pipeline(pipeline, workdir=tmp_path / "w")
    assert (ctx.frames["quarantine"]["reason_code"] == "SUBJECT_ERASED").sum() == 3
    listed = api.get("/api/contacts/", params={"limit": 1000}).body["results"]
    assert "Wijnaendts" not in json.dumps(listed) and {r["id"] for r in listed} == others


def _fake(kind: str):
    from crm_fakes.dynamics import FakeDynamics
    from crm_fakes.hubspot import FakeHubSpot
    from crm_fakes.salesforce import FakeSalesforce
    from crm_fakes.teamleader import FakeTeamleader

    return {"hubspot": FakeHubSpot, "salesforce": FakeSalesforce, "dynamics": FakeDynamics,
            "teamleader": FakeTeamleader}[kind]("token-123")


def _held(fake, kind: str) -> str:
    """Everything a fake CRM holds, as text."""
    stores = {"hubspot": "objects", "salesforce": "objects", "dynamics": "records", "teamleader": "records"}
    return json.dumps(getattr(fake, stores[kind]), default=str)


@pytest.mark.parametrize("kind", ["hubspot", "salesforce", "dynamics", "teamleader"])
def test_erase_deletes_from_each_saas_crm_against_its_documented_protocol(tmp_path, monkeypatch, kind):
    """Against local fakes of the documented APIs only (the real services cannot be reached from here)."""
    monkeypatch.setenv("CDQ_CRM_TOKEN", "token-123")
    store_url = f"sqlite:///{tmp_path}/g.sqlite"
    with _fake(kind) as fake:
        crm_url = f"{kind}+{fake.url}"
        run_pipeline(_pipeline(tmp_path, store_url, crm_url), workdir=tmp_path / "w")
        assert "Wijnaendts" in _held(fake, kind)
        before = _held(fake, kind).count("example.nl")
        store = GoldenStore(store_url)
        golden_id = find_subjects(store, email=SUBJECT["email"]).at[0, "golden_id"]
        result = erase_subject(store, golden_id, reason="r", erased_by="s",
                               crm=target_from_url(crm_url, state=store_url))
        assert result.crm_line == "erased: 1 CRM record(s) deleted"
        assert "Wijnaendts" not in _held(fake, kind) and "wijnaendts" not in _held(fake, kind)
        assert _held(fake, kind).count("example.nl") == before  # nobody else deleted


def test_a_shared_landline_or_family_email_does_not_hold_back_another_person(tmp_path):
    store_url, crm_url = f"sqlite:///{tmp_path}/g.sqlite", f"sqlite:///{tmp_path}/c.sqlite"
    pipeline = _pipeline(tmp_path, store_url, crm_url)
    run_pipeline(pipeline, workdir=tmp_path / "w")
    store = GoldenStore(store_url)
    golden_id = find_subjects(store, email=SUBJECT["email"]).at[0, "golden_id"]
    erase_subject(store, golden_id, reason="r", erased_by="s")
    partner = "N4,Marco,Wijnaendts,jo.wijnaendts@example-mail.nl,0612349876\n"  # her husband, same mailbox
    (tmp_path / "newsletter.csv").write_text(NEWSLETTER + partner, encoding="utf-8")
    ctx = run_pipeline(pipeline, workdir=tmp_path / "w")
    assert (ctx.frames["quarantine"]["reason_code"] == "SUBJECT_ERASED").sum() == 3
    assert any(v.get("first_name") == "Marco" for v in active_golden(store).values())


def test_erase_cli_killed_during_the_crm_delete_and_rerun_ends_like_an_uninterrupted_one(tmp_path):
    results = {}
    for label in ("killed", "straight"):
        base = tmp_path / label
        base.mkdir()
        store_url, crm_url = f"sqlite:///{base}/g.sqlite", f"sqlite:///{base}/c.sqlite"
        run_pipeline(_pipeline(base, store_url, crm_url), workdir=base / "w")
        golden_id = find_subjects(GoldenStore(store_url), email=SUBJECT["email"]).at[0, "golden_id"]
        command = [sys.executable, "-c", "from cdq.cli.main import main; main()", "subject", "erase", golden_id,
                   "--store", store_url, "--crm", crm_url, "--reason", "r", "--by", "s"]
        if label == "killed":
            env = {**os.environ, "CDQ_CRM_PAUSE_AFTER_ROWS": "1"}
            proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
            deadline = time.time() + 120
            while time.time() < deadline and "cdq-crm-paused" not in proc.stderr.readline():
                pass
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            assert "Wijnaendts" in dump_text(crm_url)  # the CRM transaction died with the process
            assert "Wijnaendts" not in dump_text(store_url)  # the store part had committed
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        crm = SqlCrmTarget(crm_url)
        store = GoldenStore(store_url)
        results[label] = (crm.table("contacts").drop(columns=[], errors="ignore").to_dict("records"),
                          store.table("golden_records")[["golden_id", "status", "data"]].to_dict("records"))
    assert results["killed"] == results["straight"]
    assert not [n for n in NEEDLES if n in repr(results["killed"])]


def test_erase_cli_refuses_without_reason_and_names_unknown_ids(tmp_path):
    store = f"sqlite:///{tmp_path}/g.sqlite"
    GoldenStore(store)
    result = runner.invoke(app, ["subject", "erase", "G0000042", "--store", store, "--reason", "r"])
    assert result.exit_code == 2 and "no golden record G0000042" in result.output
    result = runner.invoke(app, ["subject", "erase", "G0000042", "--store", store, "--reason", " "])
    assert result.exit_code == 2 and "needs a reason" in result.output


def _aged_store(tmp_path) -> tuple[GoldenStore, str]:
    """A store whose runs happened at known dates: the first 400 days ago, the second 10 days ago."""
    store_url, crm_url = f"sqlite:///{tmp_path}/g.sqlite", f"sqlite:///{tmp_path}/c.sqlite"
    pipeline = _pipeline(tmp_path, store_url, crm_url)
    text = pipeline.read_text().replace("source: newsletter,", "source: website,").replace(
        "path: erp.csv, source: erp,", "path: erp.csv, source: erp, full_extract: true,")
    pipeline.write_text(text)
    run_pipeline(pipeline, workdir=tmp_path / "w")
    erp = (tmp_path / "erp.csv").read_text().splitlines()
    (tmp_path / "erp.csv").write_text("\n".join(line for line in erp if "M. Visser" not in line) + "\n")
    run_pipeline(pipeline, workdir=tmp_path / "w")  # M. Visser is gone from the ERP's full extract
    store = GoldenStore(store_url)
    now = dt.datetime.now(dt.UTC)
    with store.begin() as conn:
        for run_id, days in ((1, 400), (2, 10)):
            conn.execute(sa.text("update runs set started_at = :t where run_id = :r"),
                         {"t": (now - dt.timedelta(days=days)).isoformat(timespec="seconds"), "r": run_id})
    return store, crm_url


def test_retention_purges_exactly_what_its_rules_say_and_dry_run_lists_the_same(tmp_path):
    store, crm_url = _aged_store(tmp_path)
    old = tmp_path / "w" / "review.xlsx"
    old.write_text("x")
    os.utime(old, (time.time() - 100 * 86400,) * 2)
    (tmp_path / "w" / "run_report.html").write_text("fresh")
    rules = RetentionRules(soft_deleted_records_days=5, golden_versions_days=None, run_artefacts_days=90,
                           inactive_prospects={"sources": ["website"], "months": 12})
    before = dump_text(store.url)
    planned = apply_retention(store, rules, workdir=tmp_path / "w", dry_run=True)
    assert dump_text(store.url) == before and old.exists()
    kinds = planned.groupby("kind")["target"].apply(sorted).to_dict()
    # Lotte Bakker is only on the (website) newsletter list, first and last seen 400 days ago; Visser was
    # deleted from the ERP 10 days ago (> 5); Anna van Dijk is on the website list AND the CRM export.
    lotte = [g for g, v in active_golden(store).items() if v.get("last_name") == "Bakker"]
    visser = store.table("golden_records").query("status == 'deleted'")["golden_id"].tolist()
    assert kinds == {"inactive_prospect": lotte, "soft_deleted_record": visser, "emptied_golden": visser,
                     "run_artefact": [str(old)]}
    done = apply_retention(store, rules, workdir=tmp_path / "w")
    pd.testing.assert_frame_equal(done.drop(columns="age_days"), planned.drop(columns="age_days"))
    text = dump_text(store.url)
    assert "Visser" not in text and "lotte.bakker" not in text and "Wijnaendts" in text
    assert not old.exists() and (tmp_path / "w" / "run_report.html").exists()
    assert set(store.table("golden_records").query("status == 'erased'")["golden_id"]) == set(lotte + visser)
    assert apply_retention(store, rules, workdir=tmp_path / "w").empty  # nothing left to purge


def test_retention_cli_dry_run_and_bad_rules_name_file_and_key(tmp_path):
    store, _ = _aged_store(tmp_path)
    result = runner.invoke(app, ["retention", "apply", "--store", store.url, "--dry-run"])
    assert result.exit_code == 0 and "would purge: nothing" in result.output  # the bundled rules: 365 days
    rules = tmp_path / "rules.yaml"
    rules.write_text("soft_deleted_records_days: 5\n")
    result = runner.invoke(app, ["retention", "apply", "--store", store.url, "--rules", str(rules), "--dry-run"])
    assert result.exit_code == 0 and "would purge: 1 emptied golden, 1 soft deleted record" in result.output
    bad = tmp_path / "r.yaml"
    bad.write_text("soft_deleted_record_days: 3\n")
    result = runner.invoke(app, ["retention", "apply", "--store", store.url, "--rules", str(bad)])
    assert result.exit_code == 2 and "r.yaml:1" in result.output and "soft_deleted_record_days" in result.output


def test_processing_register_names_fields_sources_purposes_recipients_and_retention(tmp_path):
    pipeline = _pipeline(tmp_path, "sqlite:///x.sqlite", "bottlecrm+https://crm.example.nl")
    result = runner.invoke(app, ["privacy", "register", str(pipeline), "--controller", "Voorbeeld BV"])
    assert result.exit_code == 0
    text = result.output
    for expected in ("Voorbeeld BV", "`birth_date`", "`email`", "`newsletter`: newsletter with consent",
                     "customer administration and advice", "bottlecrm at crm.example.nl", "365 days"):
        assert expected in text, expected


def test_pseudonymised_export_is_consistent_keyed_and_hides_every_real_value(tmp_path, monkeypatch):
    store_url = f"sqlite:///{tmp_path}/g.sqlite"
    run_pipeline(_pipeline(tmp_path, store_url, f"sqlite:///{tmp_path}/c.sqlite"), workdir=tmp_path / "w")
    monkeypatch.delenv("CDQ_PSEUDONYM_KEY", raising=False)
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["export", "--store", store_url, "--out", str(out), "--pseudonymise"])
    assert result.exit_code == 2 and "CDQ_PSEUDONYM_KEY" in result.output and not out.exists()
    monkeypatch.setenv("CDQ_PSEUDONYM_KEY", "a-test-key-of-32-characters-long")
    assert runner.invoke(app, ["export", "--store", store_url, "--out", str(out), "--pseudonymise"]).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert not [n for n in NEEDLES[:5] + ["degroot", "Groot", "11112222"] if n in text]
    frame = pd.read_csv(out, dtype=str)
    assert frame["email"].str.endswith("@example.invalid").all()
    again = pseudonymise(pd.DataFrame({"first_name": ["Johanna"], "email": ["JO@x.nl"], "mobile": ["+31612349876"]}),
                         b"a-test-key-of-32-characters-long")
    same = pseudonymise(pd.DataFrame({"first_name": ["Johanna"], "email": ["jo@x.nl"], "mobile": ["+31612349876"]}),
                        b"a-test-key-of-32-characters-long")
    other_key = pseudonymise(pd.DataFrame({"first_name": ["Johanna"], "email": ["jo@x.nl"], "mobile": ["+31612349876"]}),
                             b"another-key-of-32-characters-lon")
    assert again.equals(same) and not again.equals(other_key)
    assert same.at[0, "mobile"].startswith("+316")
