"""The CardDAV target against a real CardDAV server: Radicale (a test dependency) on a loopback port.

The scenario of tests/test_crm_saas.py: the first load creates a card per golden record, a rerun changes
nothing, an update arrives, a merge deletes the retired card, a card killed half-way is not made twice.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest
from helpers import nightly, people

from cdq.crm import load_from_store
from cdq.crm.carddav import parse_vcard
from cdq.crm.registry import target_from_url
from cdq.store import GoldenStore

MKCOL = (b'<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
         b"<D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>"
         b"<D:displayname>Klanten</D:displayname></D:prop></D:set></D:mkcol>")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def carddav(tmp_path, monkeypatch):
    """(address book URL, state URL, store) on a Radicale server of this test's own."""
    monkeypatch.delenv("CDQ_CRM_TOKEN", raising=False)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
                               "--auth-type", "none", "--rights-type", "authenticated",
                               "--storage-filesystem-folder", str(tmp_path / "dav")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/cdq/klanten/"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/.web/", timeout=1)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.1)
        parent = urllib.request.Request(base.rsplit("/", 2)[0] + "/", method="MKCOL")
        assert urllib.request.urlopen(parent, timeout=10).status == 201
        request = urllib.request.Request(base, data=MKCOL, method="MKCOL")
        assert urllib.request.urlopen(request, timeout=10).status == 201  # an admin makes the address book
        yield base, f"sqlite:///{tmp_path / 'state.db'}", GoldenStore(f"sqlite:///{tmp_path / 'golden.db'}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def _cards(base: str) -> dict[str, dict]:
    """Every card in the address book, by UID, read back from the server (PROPFIND, then GET)."""
    request = urllib.request.Request(base, method="PROPFIND", headers={"Depth": "1"})
    listing = urllib.request.urlopen(request, timeout=10).read().decode()
    out = {}
    for href in sorted(set(re.findall(r"<href>([^<]+\.vcf)</href>", listing))):
        card = parse_vcard(urllib.request.urlopen(f"{base.split('/cdq/')[0]}{href}", timeout=10).read().decode())
        out[card["UID"]] = card
    return out


def test_load_rerun_update_merge_against_radicale(carddav):
    base, state, store = carddav
    url = f"carddav+{base}?state={state}"
    staging = people(3)
    staging.loc[0, ["company_name", "infix"]] = ["Bakkerij De Vries", "van"]
    nightly(store, staging)
    assert load_from_store(store, target_from_url(url))[0].line() == "loaded: 4 created, 0 updated, 0 merged, 0 unchanged"
    cards = _cards(base)
    assert sorted(c.get("EMAIL", "") for c in cards.values()) == ["", "p0@x.nl", "p1@x.nl", "p2@x.nl"]
    org = next(c for c in cards.values() if c["KIND"] == "org")
    assert org["ORG"] == "Bakkerij De Vries" and org["ADR.locality"] == "Utrecht"
    jan = next(c for c in cards.values() if c.get("EMAIL") == "p0@x.nl")
    assert (jan["N.family"], jan["N.given"], jan["FN"], jan["KIND"]) == ("van Jansen", "Naam0", "Naam0 van Jansen",
                                                                         "individual")

    again = load_from_store(store, target_from_url(url), full=True)[0]
    assert again.line() == "loaded: 0 created, 0 updated, 0 merged, 4 unchanged"

    staging.loc[1, ["city", "source_updated_at"]] = ["Zwolle", "2024-06-01"]
    nightly(store, staging)
    assert load_from_store(store, target_from_url(url))[0].line() == "loaded: 0 created, 1 updated, 0 merged, 0 unchanged"
    assert sorted(c.get("ADR.locality") for c in _cards(base).values()) == ["Utrecht", "Utrecht", "Utrecht", "Zwolle"]

    clusters = pd.DataFrame({"record_id": staging["record_id"], "cluster_id": ["a", "a", "c", "org"]})
    nightly(store, staging.assign(source_updated_at="2024-07-01"), clusters)
    crm = target_from_url(url)
    assert load_from_store(store, crm)[0].merged == 1
    assert len(_cards(base)) == 3 and crm.state.table("cdq_crm_change")["action"].eq("delete").sum() == 1
    last = load_from_store(store, target_from_url(url), full=True)[0]
    assert (last.created, last.updated, last.merged, last.rejected) == (0, 0, 0, 0)


def test_a_card_made_by_a_killed_load_is_not_made_twice(carddav):
    base, state, store = carddav
    url = f"carddav+{base}?state={state}"
    nightly(store, people(2))
    load_from_store(store, target_from_url(url))
    assert len(_cards(base)) == 3
    # the state forgets what it recorded, as if the load was killed after the PUTs
    import sqlalchemy as sa

    with sa.create_engine(state).begin() as conn:
        conn.execute(sa.text("delete from cdq_crm_xref"))
    rerun = load_from_store(store, target_from_url(url), full=True)[0]
    assert rerun.created + rerun.updated + rerun.unchanged == 3 and len(_cards(base)) == 3
