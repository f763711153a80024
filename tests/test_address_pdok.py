"""The PDOK Locatieserver client and provider, against a local HTTP server answering like the documented API.

The server on 127.0.0.1 returns ``{"response": {"numFound", "start", "maxScore", "docs": [...]}}`` with the
documented address fields; it can fail the first requests (503, 429 with Retry-After) to test retries.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from cdq.address import complete
from cdq.address.pdok import PATH, LocatieserverClient, PdokError, PdokProvider, docs_frame, split_huis_nlt


def _doc(postcode, number, letter=None, addition=None, street="Kerkstraat", city="Hoofddorp", bag="0394200000000007"):
    nlt = f"{number}{letter or ''}" + (f"-{addition}" if addition else "")
    doc = {"type": "adres", "straatnaam": street, "huisnummer": number, "huis_nlt": nlt, "postcode": postcode,
           "woonplaatsnaam": city, "gemeentenaam": "Haarlemmermeer", "provincienaam": "Noord-Holland",
           "nummeraanduiding_id": bag, "weergavenaam": f"{street} {nlt}, {postcode} {city}"}
    if letter:
        doc["huisletter"] = letter
    if addition:
        doc["huisnummertoevoeging"] = addition
    return doc


DOCS = [_doc("2132AA", 7), _doc("2132AA", 9, "A", bag="0394200000000091"),
        _doc("2132AA", 9, None, "2", bag="0394200000000092"),
        _doc("2132AA", 9, None, "3", bag="0394200000000093") | {"huisnummertoevoeging": None}]


class _Handler(BaseHTTPRequestHandler):
    failures: list[tuple[int, dict]] = []
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).seen.append(self.path)
        url = urllib.parse.urlparse(self.path)
        if url.path != PATH:
            self.send_error(404)
            return
        if type(self).failures:
            code, headers = type(self).failures.pop(0)
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            return
        query = urllib.parse.parse_qs(url.query)
        fq = dict(f.split(":", 1) for f in query.get("fq", []))
        docs = [d for d in DOCS if ("postcode" not in fq or d["postcode"] == fq["postcode"])
                and str(d["huisnummer"]) == fq.get("huisnummer", str(d["huisnummer"]))]
        if "q" in query:
            words = query["q"][0].lower().split()
            docs = [d for d in docs if d["straatnaam"].lower() in words or d["woonplaatsnaam"].lower() in words]
        body = json.dumps({"response": {"numFound": len(docs), "start": 0, "maxScore": 9.5, "numFoundExact": True,
                                        "docs": docs}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    _Handler.failures, _Handler.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("text, parts", [("12A-2", (12, "A", "2")), ("7", (7, None, None)), ("3-HS", (3, None, "HS")),
                                         ("104b", (104, "B", None)), ("", (None, None, None))])
def test_split_huis_nlt(text, parts):
    assert split_huis_nlt(text) == parts


def test_docs_frame_uses_huis_nlt_when_fields_missing():
    frame = docs_frame([{"type": "adres", "huis_nlt": "9-3", "postcode": "2132AA", "straatnaam": "Kerkstraat"},
                        {"type": "weg", "straatnaam": "Kerkstraat"}])
    assert frame[["number", "letter", "addition"]].values.tolist() == [[9, None, "3"]]


def _client(server: str, tmp_path: Path, **kw) -> LocatieserverClient:
    return LocatieserverClient(server, cache_path=tmp_path / "cache.sqlite", min_interval=0, backoff=0.01, **kw)


def test_complete_through_the_provider(server: str, tmp_path: Path):
    frame = pd.DataFrame({"record_id": ["a", "b", "c", "d", "e"],
                          "street": [None, "Kerkstr.", None, None, "Kerkstraat"],
                          "house_number": ["7", "9a", "9-3", "8", "7"],
                          "postcode": ["2132 AA", "2132AA", "2132AA", "2132AA", None],
                          "city": [None, "HOOFDDORP", None, None, "Hoofddorp"]})
    out, findings = complete(frame, PdokProvider(_client(server, tmp_path)))
    assert out["address_status"].tolist() == ["completed", "verified", "completed", "not_found", "completed"]
    assert out["bag_address_id"].tolist() == ["0394200000000007", "0394200000000091", "0394200000000093", None,
                                              "0394200000000007"]
    assert out.loc[0, ["street", "city", "municipality"]].tolist() == ["Kerkstraat", "Hoofddorp", "Haarlemmermeer"]
    assert {"ADDRESS_NOT_FOUND", "ADDRESS_POSTCODE_FOUND"} <= set(findings["reason_code"])


def test_cache_answers_repeated_questions(server: str, tmp_path: Path):
    client = _client(server, tmp_path)
    first = client.docs(client.url("2132AA", 7))
    again = _client(server, tmp_path).docs(client.url("2132AA", 7))
    assert first == again and len(_Handler.seen) == 1


def test_retries_on_503_and_429(server: str, tmp_path: Path):
    _Handler.failures = [(503, {}), (429, {"Retry-After": "0"})]
    client = _client(server, tmp_path)
    assert len(client.docs(client.url("2132AA", 9))) == 3
    assert client.requests == 3


def test_gives_up_with_a_clear_error(server: str, tmp_path: Path):
    _Handler.failures = [(503, {})] * 5
    client = _client(server, tmp_path, retries=2)
    with pytest.raises(PdokError, match="HTTP 503"):
        client.docs(client.url("2132AA", 7))
    assert client.requests == 3


def test_rate_limit_spaces_requests(server: str, tmp_path: Path):
    import time

    client = LocatieserverClient(server, min_interval=0.1)
    start = time.monotonic()
    for number in (7, 8, 9):
        client.docs(client.url("2132AA", number))
    assert time.monotonic() - start >= 0.2


def test_unreachable_server(tmp_path: Path):
    client = LocatieserverClient("http://127.0.0.1:9", min_interval=0, retries=1, backoff=0.01, timeout=1)
    with pytest.raises(PdokError, match="not reachable"):
        client.docs(client.url("2132AA", 7))
