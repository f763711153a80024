"""Steward console and customer portal over real HTTP (uvicorn on a loopback port): access control, CSRF,
log-in that does not tell whether a user exists, lock-out, personal links (own record only; tampered,
expired, reused links refused), escaping, and the stored effects of decisions and corrections."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlencode

import pandas as pd
import pytest
import sqlalchemy as sa
from helpers import running

from cdq.store import GoldenStore
from cdq.store.schema import golden_records
from cdq.web import tokens
from cdq.web.users import add_user

PASSWORD = "correct horse battery staple"


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects (so tests see every 303)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def go(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                val = rest.split(";")[0].strip('"')
                if val and "max-age=0" not in value.lower() and "expires=thu, 01 jan 1970" not in value.lower():
                    self.cookies[key] = val
                else:
                    self.cookies.pop(key, None)
        conn.close()
        return r.status, text, {k.lower(): v for k, v in r.getheaders()}

    def login(self, name: str, password: str) -> int:
        _, page, _ = self.go("GET", "/steward/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        status, _, headers = self.go("POST", "/steward/login", {"name": name, "password": password, "csrf": csrf})
        assert status == 303
        return headers["location"]

    def csrf(self, path: str = "/steward/customers") -> str:
        _, page, _ = self.go("GET", path)
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


@pytest.fixture()
def server(store_copy):  # noqa: F811
    store = GoldenStore(store_copy)
    add_user(store, "stew", "steward", PASSWORD)
    add_user(store, "view", "viewer", PASSWORD)
    with running(store=store_copy) as srv:
        yield srv


def _some_golden(store: GoldenStore, n: int = 2) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(golden_records.c.golden_id).where(golden_records.c.status == "active")
                                 .order_by(golden_records.c.golden_id).limit(n)).scalars())


STEWARD_PAGES = ["/steward/", "/steward/review", "/steward/customers", "/steward/customers?q=Jansen",
                 "/steward/customers/G0000001", "/steward/runs", "/steward/files/run_report.html"]
ACTIONS = [("/steward/review/decide", {"ref_a": "a|1", "ref_b": "b|2", "decision": "match"}),
           ("/steward/customers/G0000001/unmerge", {"retired_id": "G0000002"}),
           ("/steward/customers/G0000001/split", {"ref": "x|1"}),
           ("/steward/customers/G0000001/override", {"column": "email", "value": "a@b.nl"}),
           ("/steward/logout", {})]


def test_every_steward_url_refuses_anonymous_visitors_and_viewers_may_not_change(server):
    anonymous = Browser(server.port)
    for path in STEWARD_PAGES:
        status, _, headers = anonymous.go("GET", path)
        assert status == 303 and headers["location"] == "/steward/login", path
    for path, form in ACTIONS:
        status, _, headers = anonymous.go("POST", path, {**form, "csrf": "x"})
        assert status == 303 and headers["location"] == "/steward/login", path
    viewer = Browser(server.port)
    assert viewer.login("view", PASSWORD) == "/steward/review"
    assert viewer.go("GET", "/steward/")[2]["location"] == "/steward/review"
    for path in STEWARD_PAGES[1:-1]:
        assert viewer.go("GET", path)[0] == 200, path
    csrf = viewer.csrf()
    for path, form in ACTIONS[:-1]:
        assert viewer.go("POST", path, {**form, "csrf": csrf})[0] == 403, path
    assert "Undo the merge" not in viewer.go("GET", "/steward/customers/G0000001?lang=en")[1]


def test_forms_without_the_csrf_token_are_refused(server):
    anonymous = Browser(server.port)
    assert anonymous.go("POST", "/steward/login", {"name": "stew", "password": PASSWORD})[0] == 403
    steward = Browser(server.port)
    steward.login("stew", PASSWORD)
    for path, form in ACTIONS:
        assert steward.go("POST", path, form)[0] == 403, path
        assert steward.go("POST", path, {**form, "csrf": "forged"})[0] == 403, path
    before = server.store.table("golden_records")
    pd.testing.assert_frame_equal(server.store.table("golden_records"), before)


def test_login_does_not_tell_whether_a_user_exists_and_locks_out_after_five_failures(server):
    pages = []
    for name in ("stew", "nobody-here"):
        browser = Browser(server.port)
        assert browser.login(name, "wrong password!") == "/steward/login?failed=1"
        pages.append(re.sub(r'value="[^"]+"', "", browser.go("GET", "/steward/login?failed=1")[1]))
    assert pages[0] == pages[1]
    browser = Browser(server.port)
    for _ in range(4):
        browser.login("stew", "wrong password!")
    assert browser.login("stew", PASSWORD) == "/steward/login?failed=1"  # locked now, same answer
    assert browser.go("GET", "/steward/review")[0] == 303
    audit = server.store.table("console_audit")
    assert "login_refused" in set(audit["action"]) and not audit["detail"].str.contains(PASSWORD).any()


def test_steward_decides_a_pair_and_it_is_stored_like_a_review_workbook_decision(server):
    from cdq.web.queue import open_pairs

    queue = open_pairs(server.store)
    assert len(queue) >= 1, "the demo run queues its review band for the console"
    steward = Browser(server.port)
    steward.login("stew", PASSWORD)
    status, page, _ = steward.go("GET", "/steward/review")
    assert status == 200 and 'class="differs"' in page
    ref_a, ref_b = (re.search(rf'name="{k}" value="([^"]+)"', page).group(1) for k in ("ref_a", "ref_b"))
    status, _, headers = steward.go("POST", "/steward/review/decide", {"ref_a": ref_a, "ref_b": ref_b,
                                                                       "decision": "non_match",
                                                                       "csrf": steward.csrf()})
    assert status == 303
    decisions = server.store.table("review_decisions")
    row = decisions[(decisions["ref_a"] == min(ref_a, ref_b)) & (decisions["ref_b"] == max(ref_a, ref_b))]
    assert row["decision"].tolist() == ["non_match"] and row["decided_by"].tolist() == ["stew"]
    assert len(open_pairs(server.store)) == len(queue) - 1


def test_a_hostile_name_is_shown_as_text_everywhere(server):
    store = server.store
    golden_id = _some_golden(store, 1)[0]
    with store.begin() as conn:
        data = json.loads(conn.execute(sa.select(golden_records.c.data)
                                       .where(golden_records.c.golden_id == golden_id)).scalar())
        data.update(last_name="<script>alert(1)</script>", first_name='"><img src=x onerror=alert(2)>')
        conn.execute(golden_records.update().where(golden_records.c.golden_id == golden_id)
                     .values(data=json.dumps(data)))
    steward = Browser(server.port)
    steward.login("stew", PASSWORD)
    token = tokens.issue(store, golden_id)
    pages = [steward.go("GET", f"/steward/customers/{golden_id}")[1],
             steward.go("GET", f"/steward/customers?q={golden_id}")[1],
             Browser(server.port).go("GET", f"/mijn-gegevens/?t={token}")[1],
             Browser(server.port).go("GET", f"/mijn-gegevens/download?t={token}")[1]]
    for page in pages:
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_personal_link_opens_only_its_own_record_and_bad_links_are_refused(server):
    store = server.store
    mine, other = _some_golden(store, 2)
    token = tokens.issue(store, mine)
    own = json.loads(store.table("golden_records").set_index("golden_id").at[mine, "data"])
    theirs = json.loads(store.table("golden_records").set_index("golden_id").at[other, "data"])
    visitor = Browser(server.port)
    status, page, headers = visitor.go("GET", f"/mijn-gegevens/?t={token}&golden_id={other}")
    assert status == 200 and own["last_name"] in page and theirs["last_name"] not in page
    assert headers["referrer-policy"] == "no-referrer" and "golden_id" not in page.replace("golden_id=", "")
    assert mine not in page and other not in page  # no id in the page or its forms
    body, signature = token.split(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    expired = tokens.issue(store, mine, days=-1)
    wrong_purpose = tokens.issue(store, mine, purpose="printout")
    for bad in (f"{flipped}.{signature}", f"{body}.{signature[:-1]}x", expired, wrong_purpose, "", "G0000001"):
        status, page, _ = visitor.go("GET", f"/mijn-gegevens/?t={bad}")
        assert status == 403 and "werkt niet" in page, bad
        assert visitor.go("GET", f"/mijn-gegevens/download?t={bad}&format=json")[0] == 403
        assert visitor.go("GET", f"/mijn-gegevens/adres?t={bad}&postcode=1011AB&house_number=1")[0] == 403
    download = visitor.go("GET", f"/mijn-gegevens/download?t={token}&format=json")
    assert download[0] == 200 and json.loads(download[1])["golden_id"] == mine
    _, page, _ = visitor.go("GET", f"/mijn-gegevens/?t={token}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert visitor.go("POST", "/mijn-gegevens/", {"t": token, "csrf": "forged"})[0] == 403
    status, page, _ = visitor.go("POST", "/mijn-gegevens/", {"t": token, "csrf": csrf, **_form(own)})
    assert status == 200 and "Dank u wel" in page
    assert visitor.go("GET", f"/mijn-gegevens/?t={token}")[0] == 403  # used up
    assert visitor.go("POST", "/mijn-gegevens/", {"t": token, "csrf": csrf, **_form(own)})[0] == 403


def _form(values: dict) -> dict:
    from cdq.web.portal import FIELDS

    return {c: values.get(c) or "" for cols in FIELDS.values() for c in cols}


def test_a_correction_that_fails_validation_is_explained_in_dutch_and_nothing_is_stored(server):
    store = server.store
    golden_id = _some_golden(store, 1)[0]
    token = tokens.issue(store, golden_id)
    before = store.table("golden_records")
    visitor = Browser(server.port)
    _, page, _ = visitor.go("GET", f"/mijn-gegevens/?t={token}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    own = json.loads(before.set_index("golden_id").at[golden_id, "data"])
    form = {**_form(own), "email": "jan@@nergens", "postcode": "9999ZZ", "house_number": "99999"}
    status, page, _ = visitor.go("POST", "/mijn-gegevens/", {"t": token, "csrf": csrf, **form})
    assert status == 422 and "Wij hebben niets opgeslagen" in page
    assert "e-mailadres is niet geldig" in page and "adres klopt niet" in page
    pd.testing.assert_frame_equal(store.table("golden_records"), before)
    assert store.table("portal_corrections").empty
    assert visitor.go("GET", f"/mijn-gegevens/?t={token}")[0] == 200  # not used up by a refused correction


def test_erasing_a_customer_removes_their_portal_links_corrections_queue_pairs_and_leads(server):
    from cdq.privacy import erase_subject
    from cdq.web.portal import apply_correction
    from cdq.web.queue import open_pairs

    store = server.store
    queue = open_pairs(store)
    refs = store.table("source_records").merge(store.table("xref"), left_on="id", right_on="source_record_id")
    golden_id = refs.loc[refs["ref"] == queue.at[0, "ref_a"], "golden_id"].item()
    token = tokens.issue(store, golden_id)
    own = json.loads(store.table("golden_records").set_index("golden_id").at[golden_id, "data"])
    apply_correction(store, golden_id, {"email": "nieuw.adres@example.nl"}, ["email"])
    erase_subject(store, golden_id, reason="test", erased_by="test")
    assert tokens.check(store, token) is None
    for table, column in (("portal_tokens", "golden_id"), ("portal_corrections", "golden_id")):
        assert not store.table(table)[column].eq(golden_id).any(), table
    assert queue.at[0, "ref_a"] not in set(open_pairs(store)["ref_a"]) | set(open_pairs(store)["ref_b"])
    text = "\n".join(store.table(t).to_csv() for t in ("review_pairs", "portal_corrections", "source_records"))
    assert "nieuw.adres@example.nl" not in text and own["last_name"] not in store.table("review_pairs").to_csv()


def test_the_files_route_serves_the_report_and_data_docs_only(store_copy, tmp_path):  # noqa: F811
    workdir = tmp_path  # golden.sqlite of store_copy lies here too
    (workdir / "run_report.html").write_text("<h1>report</h1>")
    (workdir / "data_docs").mkdir()
    (workdir / "data_docs" / "index.html").write_text("<h1>docs</h1>")
    (workdir / "links.csv").write_text("golden_id,link\n")
    add_user(GoldenStore(store_copy), "view", "viewer", PASSWORD)
    with running(store=store_copy, workdir=str(workdir)) as srv:
        viewer = Browser(srv.port)
        viewer.login("view", PASSWORD)
        assert viewer.go("GET", "/steward/files/run_report.html")[0] == 200
        assert viewer.go("GET", "/steward/files/data_docs/index.html")[0] == 200
        for path in ("data_docs/../golden.sqlite", "data_docs/..%2Fgolden.sqlite", "data_docs/..%2F..%2Fetc%2Fpasswd",
                     "golden.sqlite", "links.csv", "data_docs/%2E%2E/links.csv", "..%2Flinks.csv"):
            status, body, _ = viewer.go("GET", f"/steward/files/{path}")
            assert status == 404 and "SQLite" not in body and "golden_id" not in body, path


def test_the_customer_download_holds_their_own_values_only(server):
    store = server.store
    mine, other = _some_golden(store, 2)
    # a wrong merge of the other customer into this one, undone again: the events keep a snapshot of both
    from cdq.golden import join_golden, unmerge
    from cdq.survivorship import load_rules

    join_golden(store, [mine, other], load_rules())
    unmerge(store, other, load_rules())
    theirs = json.loads(store.table("golden_records").set_index("golden_id").at[other, "data"])
    token = tokens.issue(store, mine)
    status, body, _ = Browser(server.port).go("GET", f"/mijn-gegevens/download?t={token}&format=json")
    assert status == 200
    report = json.loads(body)
    assert report["golden_id"] == mine and not report["history"] and not report["versions"]
    for key in ("email", "phone", "birth_date"):
        if theirs.get(key):
            assert str(theirs[key]) not in body, key
