"""BeST-Address's XML download loads into the same rows, and gives the same answers, as its CSV.

No real BeST-Address XML file is in ../shared/data, so the files are written here from the CSV test rows of
tests/helpers.py (which test_address_belgium loads), element for element in the published layouts:

- current: ``tns:addressResponseBySource`` / ``tns:streetNameResponseBySource`` / ``tns:municipalityResponseBySource``
  / ``tns:postalInfoResponseBySource`` (namespaces ``http://fsb.belgium.be/mappingservices/FullDownload/v1_00`` and
  ``http://fsb.belgium.be/data/common``), as the Flemish register serialises them for FPS BOSA
  (Informatievlaanderen's BOSA integration tests), in a zip of per-region zips (``FlandersAddress20240101.zip`` …);
- older: ``tns:Address`` with ``addressCode``, ``hasStreetname/Streetname/objectIdentifier``… in
  ``http://vocab.belgif.be/ns/inspire/``, as FPS BOSA's own readers (Fedict/best-tools) read it.
"""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest
from helpers import BEST_BRUSSELS as BRUSSELS
from helpers import BEST_FLANDERS as FLANDERS
from helpers import BEST_WALLONIA as WALLONIA
from typer.testing import CliRunner

from cdq.address import AddressStore, complete, load_bag
from cdq.address.loaders import detect_format
from cdq.cli.main import app

TNS = "http://fsb.belgium.be/mappingservices/FullDownload/v1_00"
COM = "http://fsb.belgium.be/data/common"
OLD = "http://vocab.belgif.be/ns/inspire/"
# Wallonia's street has the same identifier as a Brussels one: identifiers are per region
REGIONS = {"Brussels": BRUSSELS, "Flanders": FLANDERS,
           "Wallonia": WALLONIA.replace(",701,", ",501,")}
SOURCE = {"Brussels": "brussels", "Flanders": "flanders", "Wallonia": "wallonia"}


def _frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text.lstrip("\n")), dtype=str, keep_default_na=False)


def _ref(tag: str, ns: str, ident: str) -> str:
    return (f"<com:{tag}><com:namespace>{ns}</com:namespace><com:objectIdentifier>{ident}</com:objectIdentifier>"
            "<com:versionIdentifier>2002-08-13T17:32:32</com:versionIdentifier>" f"</com:{tag}>")


def _names(frame_row: pd.Series, prefix: str, languages=("nl", "fr", "de")) -> str:
    return "".join(f"<com:name><com:language>{lang}</com:language><com:spelling>{escape(frame_row[prefix + lang])}"
                   "</com:spelling></com:name>" for lang in languages if frame_row.get(prefix + lang))


def _doc(root: str, region: str, body: str) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<tns:{root} xmlns:com="{COM}" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:tns="{TNS}">\n'
            f"<tns:source>{SOURCE[region]}</tns:source><tns:timestamp>2024-04-05T03:50:56</tns:timestamp>\n"
            f"{body}</tns:{root}>\n")


def current_layout(region: str, rows: pd.DataFrame) -> dict[str, str]:
    """The four XML files of one region in the current layout (file kind -> text)."""
    ns = f"https://example.{region.lower()}/id/"
    streets = "".join(
        f'<tns:streetName beginLifeSpanVersion="2014-01-01T00:00:00"><com:code><com:namespace>{ns}straatnaam'
        f"</com:namespace><com:objectIdentifier>{r.street_id}</com:objectIdentifier><com:versionIdentifier>"
        f"2016-10-03T08:44:22.810</com:versionIdentifier></com:code>{_names(r, 'streetname_')}"
        "<com:streetNameStatus><com:status>current</com:status><com:validFrom>2016-10-03T08:46:40</com:validFrom>"
        f"</com:streetNameStatus><com:type>streetname</com:type>{_ref('isAssignedByMunicipality', ns, r.municipality_id)}"
        "</tns:streetName>\n" for _, r in rows.drop_duplicates("street_id").iterrows())
    # an older version of the first street, listed after the current one: the newest version must win
    first = rows.iloc[0]
    streets += (f"<tns:streetName><com:code><com:namespace>{ns}straatnaam</com:namespace><com:objectIdentifier>"
                f"{first.street_id}</com:objectIdentifier><com:versionIdentifier>2002-01-01T00:00:00"
                "</com:versionIdentifier></com:code><com:name><com:language>nl</com:language><com:spelling>"
                "Oude Naam</com:spelling></com:name></tns:streetName>\n")
    municipalities = "".join(
        f"<tns:municipality><com:code><com:namespace>{ns}gemeente</com:namespace><com:objectIdentifier>"
        f"{r.municipality_id}</com:objectIdentifier><com:versionIdentifier>2002-08-13T17:32:32</com:versionIdentifier>"
        f"</com:code>{_names(r, 'municipality_name_')}</tns:municipality>\n"
        for _, r in rows.drop_duplicates("municipality_id").iterrows())
    postals = "".join(
        f"<tns:postalInfo><com:code><com:namespace>{ns}postinfo/</com:namespace><com:objectIdentifier>{r.postcode}"
        "</com:objectIdentifier><com:versionIdentifier>2002-08-13T16:37:33</com:versionIdentifier></com:code>"
        f"{_names(r, 'postname_', ('nl', 'fr'))}</tns:postalInfo>\n" for _, r in rows.drop_duplicates("postcode").iterrows())
    addresses = "".join(
        f'<tns:address beginLifeSpanVersion="2014-04-04T18:44:32"><com:code><com:namespace>{ns}adres</com:namespace>'
        f"<com:objectIdentifier>{r.address_id}</com:objectIdentifier><com:versionIdentifier>2024-04-04T18:44:37+02:00"
        "</com:versionIdentifier></com:code><com:position><com:pointGeometry><com:point><com:pos axisLabels=\"x y\" "
        'srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/31370" uomLabels="m m">'
        f"{r['EPSG:31370_x']} {r['EPSG:31370_y']}</com:pos></com:point></com:pointGeometry><com:positionGeometryMethod>"
        "derivedFromObject</com:positionGeometryMethod><com:positionSpecification>parcel</com:positionSpecification>"
        f"</com:position><com:addressStatus><com:status>{r.status}</com:status><com:validFrom>2014-04-04T18:44:32"
        "</com:validFrom></com:addressStatus>"
        + (f"<com:boxNumber>{r.box_number}</com:boxNumber>" if r.box_number else "")
        + f"<com:houseNumber>{r.house_number}</com:houseNumber><com:officiallyAssigned>true</com:officiallyAssigned>"
        f"{_ref('hasStreetName', ns + 'straatnaam', r.street_id)}{_ref('hasMunicipality', ns + 'gemeente', r.municipality_id)}"
        f"{_ref('hasPostalInfo', ns + 'postinfo', r.postcode)}</tns:address>\n" for _, r in rows.iterrows())
    return {"StreetName": _doc("streetNameResponseBySource", region, streets),
            "Municipality": _doc("municipalityResponseBySource", region, municipalities),
            "PostalInfo": _doc("postalInfoResponseBySource", region, postals),
            "Address": _doc("addressResponseBySource", region, addresses)}


def older_layout(region: str, rows: pd.DataFrame) -> dict[str, str]:
    """The same region in the older ``vocab.belgif.be/ns/inspire`` layout."""
    def names(r, prefix, tag, languages=("nl", "fr", "de")):
        return "".join(f"<add:{tag}><add:language>{lang}</add:language><add:spelling>{escape(r[prefix + lang])}"
                       f"</add:spelling></add:{tag}>" for lang in languages if r.get(prefix + lang))

    def ref(tag, inner, ident):
        return (f"<add:{tag}><add:{inner}><add:namespace>x</add:namespace><add:objectIdentifier>{ident}"
                f"</add:objectIdentifier><add:versionIdentifier>1</add:versionIdentifier></add:{inner}></add:{tag}>")

    def doc(root, body):
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<tns:{root} xmlns:tns="{TNS}" xmlns:add="{OLD}" '
                f'xmlns:gml="http://www.opengis.net/gml/3.2">\n{body}</tns:{root}>\n')

    code = "<add:{0}><add:namespace>x</add:namespace><add:objectIdentifier>{1}</add:objectIdentifier></add:{0}>"
    return {
        "Streetname": doc("StreetnameResponse", "".join(
            f"<tns:Streetname>{code.format('streetnameCode', r.street_id)}{names(r, 'streetname_', 'streetname')}"
            "<add:status>current</add:status></tns:Streetname>\n" for _, r in rows.drop_duplicates("street_id").iterrows())),
        "Municipality": doc("MunicipalityResponse", "".join(
            f"<tns:Municipality>{code.format('municipalityCode', r.municipality_id)}"
            f"{names(r, 'municipality_name_', 'municipalityName')}</tns:Municipality>\n"
            for _, r in rows.drop_duplicates("municipality_id").iterrows())),
        "Postalinfo": doc("PostalInfoResponse", "".join(
            f"<tns:PostalInfo>{code.format('postcode', r.postcode)}{names(r, 'postname_', 'postname', ('nl', 'fr'))}"
            "</tns:PostalInfo>\n" for _, r in rows.drop_duplicates("postcode").iterrows())),
        "Address": doc("AddressResponse", "".join(
            f"<tns:Address>{code.format('addressCode', r.address_id)}<add:addressPosition><add:pointGeometry>"
            f"<gml:Point><gml:pos>{r['EPSG:31370_x']} {r['EPSG:31370_y']}</gml:pos></gml:Point></add:pointGeometry>"
            f"</add:addressPosition><add:houseNumber>{r.house_number}</add:houseNumber>"
            + (f"<add:boxNumber>{r.box_number}</add:boxNumber>" if r.box_number else "")
            + f"<add:status>{r.status}</add:status>{ref('hasStreetname', 'Streetname', r.street_id)}"
            f"{ref('hasMunicipality', 'Municipality', r.municipality_id)}{ref('hasPostalInfo', 'PostalInfo', r.postcode)}"
            "</tns:Address>\n" for _, r in rows.iterrows())),
    }


def write_download(path: Path, layout=current_layout, date: str = "20240101") -> Path:
    """A BeST full download: a zip holding one zip per region and object type, each holding its XML file."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as outer:
        for region, text in REGIONS.items():
            for kind, xml in layout(region, _frame(text)).items():
                inner = io.BytesIO()
                with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zipped:
                    zipped.writestr(f"{region}{kind}{date}.xml", xml)
                outer.writestr(f"{region}{kind}{date}.zip", inner.getvalue())
        outer.writestr("best-ccby-license.docx", b"not a zip")
    return path


def _rows(store_path: Path) -> list[tuple]:
    """The Belgian rows of a store with their names (what completion reads)."""
    with sqlite3.connect(store_path) as conn:
        return sorted(conn.execute(
            "SELECT a.postcode, a.number, a.box, a.best_id, a.region, a.status, a.usable, s.nl, s.fr, s.de, "
            "p.municipality_nl, p.municipality_fr, p.municipality_de, p.postname_nl, p.postname_fr "
            "FROM be_addresses a JOIN be_streets s ON s.id = a.street_id JOIN be_places p ON p.id = a.place_id"))


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    folder: Path = tmp_path_factory.mktemp("best")
    out = {}
    csv_store = folder / "csv.sqlite"
    for region, text in REGIONS.items():
        name = folder / f"openaddress-be{region[:3].lower()}.csv"
        name.write_text(text.lstrip("\n"), encoding="utf-8")
        load_bag(name, out=csv_store)
    out["csv"] = csv_store
    for label, layout in (("xml", current_layout), ("older", older_layout)):
        download = write_download(folder / f"best-full-{label}.zip", layout)
        assert detect_format(download) == "best-xml"
        summary = load_bag(download, out=folder / f"{label}.sqlite")
        assert summary["format"] == "best-xml" and summary["regions"] == ["BE-BRU", "BE-VLG", "BE-WAL"]
        out[label] = folder / f"{label}.sqlite"
    return out


def test_xml_gives_the_csv_rows(stores):
    csv_rows = _rows(stores["csv"])
    assert len(csv_rows) == 11
    assert _rows(stores["xml"]) == csv_rows
    assert _rows(stores["older"]) == csv_rows


def test_newest_street_version_and_region_ids(stores):
    rows = _rows(stores["xml"])
    assert not any("Oude Naam" in str(r) for r in rows)
    # street 501 is Rue Neuve in Brussels and Rue de la Cathédrale in Wallonia
    assert {r[8] for r in rows if r[4] == "BE-WAL"} == {"Rue de la Cathédrale"}
    assert "Rue Neuve" in {r[8] for r in rows if r[4] == "BE-BRU"}


CASES = [
    {"street": "Nieuwstraat", "house_number": "14 bus 2", "postcode": "1000", "city": "Brussel", "country": "BE"},
    {"street": "Rue Neuve", "house_number": "14", "postcode": "1000", "city": "Bruxelles", "country": "BE"},
    {"street": "Veldstraat", "house_number": "7 bus 1", "postcode": "9000", "city": "Gand", "country": "BE"},
    {"street": "Meir", "house_number": "12a", "postcode": "2000", "city": None, "country": "BE"},
    {"street": "Place Emile Bockstael", "house_number": "3", "postcode": "1020", "city": "Laeken", "country": "BE"},
    {"street": "Rue de la Cathédrale", "house_number": "4", "postcode": "4000", "city": "Luik", "country": "BE"},
    {"street": "Rue Neuve", "house_number": "16", "postcode": "1000", "city": "Bruxelles", "country": "BE"},
    {"street": "Rue Neuve", "house_number": "99", "postcode": "1000", "city": "Bruxelles", "country": "BE"},
    {"street": "Elsensesteenweg", "house_number": "25", "postcode": "1050", "city": "Elsene", "country": None},
]


def test_same_answers_as_the_csv(stores):
    answers = {}
    for label, path in stores.items():
        with AddressStore.open(path) as store:
            out, _ = complete(pd.DataFrame(CASES), store)
        answers[label] = out.astype(object).where(out.notna(), None).to_dict("records")
    assert answers["xml"] == answers["csv"] == answers["older"]
    assert [a["address_status"] for a in answers["xml"]] == [
        "verified", "ambiguous", "verified", "completed", "verified", "verified", "withdrawn", "not_found",
        "verified"]


def test_unpacked_folder_and_single_region(tmp_path: Path):
    """One region's files unpacked into a folder load too, and replace only that region."""
    folder = tmp_path / "Flanders"
    folder.mkdir()
    for kind, xml in current_layout("Flanders", _frame(FLANDERS)).items():
        (folder / f"Flanders{kind}20240101.xml").write_text(xml, encoding="utf-8")
    assert detect_format(folder) == "best-xml"
    assert detect_format(folder / "FlandersAddress20240101.xml") == "best-xml"
    result = CliRunner().invoke(app, ["reference", "load-bag", str(folder), "--out", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.output
    assert [r[4] for r in _rows(tmp_path / "s.sqlite")] == ["BE-VLG"] * 4


def test_streets_without_addresses_are_a_clear_error(tmp_path: Path):
    download = tmp_path / "best.zip"
    with zipfile.ZipFile(download, "w") as out:
        out.writestr("FlandersAddress20240101.xml", _doc("addressResponseBySource", "Flanders", ""))
        out.writestr("FlandersStreetName20240101.xml", current_layout("Flanders", _frame(FLANDERS))["StreetName"])
    result = CliRunner().invoke(app, ["reference", "load-bag", str(download), "--out", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "no BeST-Address addresses" in result.output


def test_broken_xml_names_the_file(tmp_path: Path):
    download = tmp_path / "best.zip"
    with zipfile.ZipFile(download, "w") as out:
        out.writestr("FlandersAddress20240101.xml", _doc("addressResponseBySource", "Flanders", "<tns:address>"))
    result = CliRunner().invoke(app, ["reference", "load-bag", str(download), "--out", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "FlandersAddress20240101.xml" in result.output
    assert "Traceback" not in result.output

