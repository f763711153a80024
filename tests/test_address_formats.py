"""The real register files (../shared/data/bag_real, see its SOURCES.md) load as they come, detected from the
file itself, and completion over each store gives the same answers for the same addresses."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.address import AddressStore, complete, load_bag
from cdq.address.loaders import detect_format
from cdq.cli.main import app
from cdq.errors import InputError

CBS = "cbs/gemeentelijke-indeling.csv"
# file -> (detected format, addresses in the store)
FILES = {
    "lvbag_extract/BAGNLDL-15092020-small.zip": ("lvbag", 5),
    "lvbag_extract/expand": ("lvbag", 5),
    "nlextract_csv/bagadres.csv": ("nlextract-csv", 99),
    "nlextract_csv/bagadres-full.csv": ("nlextract-csv", 99),
    "nlextract_csv/bagadresplus.csv": ("nlextract-csv", 99),
    "bagconv_output/bag.sqlite": ("bagconv-sqlite", 7),
    "bagconv_output/pcodes.csv": ("open-csv", 7),
    "bagconv_output/pcodes-geo.csv": ("open-csv", 7),
    "bagconv_output/postcodes-nl.csv": ("open-csv", 7),
    "bagconv_layout/bagconv_shaped_amsterdam.sqlite": ("bagconv-sqlite", 99),
    "pdok_layout/pdok_shaped_amsterdam.gpkg": ("gpkg", 95),
    "pdok_layout/pdok_shaped_groningen_doesburg.gpkg": ("gpkg", 24995),
}
AMSTERDAM = ["nlextract_csv/bagadres.csv", "nlextract_csv/bagadres-full.csv", "nlextract_csv/bagadresplus.csv",
             "bagconv_layout/bagconv_shaped_amsterdam.sqlite", "pdok_layout/pdok_shaped_amsterdam.gpkg"]
DOESBURG = ["lvbag_extract/BAGNLDL-15092020-small.zip", "lvbag_extract/expand", "bagconv_output/bag.sqlite",
            "bagconv_output/pcodes.csv", "bagconv_output/postcodes-nl.csv",
            "pdok_layout/pdok_shaped_groningen_doesburg.gpkg"]
COMPARED = ["address_status", "street", "city", "postcode", "house_number", "house_letter", "house_number_addition"]


@pytest.fixture(scope="module")
def bag_real(shared_data: Path) -> Path:
    return shared_data / "bag_real"


@pytest.fixture(scope="module")
def stores(bag_real: Path, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stores")
    out = {}
    for i, name in enumerate(FILES):
        out[name] = folder / f"{i}.sqlite"
        load_bag(bag_real / name, out=out[name], municipalities=bag_real / CBS)
    return out


@pytest.mark.parametrize("name", list(FILES))
def test_every_real_format_loads_as_it_comes(name: str, bag_real: Path, stores: dict[str, Path]):
    fmt, rows = FILES[name]
    assert detect_format(bag_real / name) == fmt
    with AddressStore.open(stores[name]) as store:
        status = store.status()
    assert (status["format"], status["rows"]) == (fmt, rows)
    assert status["source"] == str(bag_real / name)


def test_zipped_bagconv_csv_loads(bag_real: Path, tmp_path: Path):
    # bagconv and postcodes-nl publish the CSV zipped; the delimiter is sniffed from the unpacked text
    archive = tmp_path / "pcodes.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(bag_real / "bagconv_output/pcodes.csv", "pcodes.csv")
    summary = load_bag(archive, out=tmp_path / "s.sqlite")
    assert (summary["format"], summary["rows"]) == ("open-csv", 7)


def test_lvbag_extract_joins_current_versions(stores: dict[str, Path]):
    with AddressStore.open(stores["lvbag_extract/BAGNLDL-15092020-small.zip"]) as store:
        status = store.status()
        rows = pd.read_sql_query("SELECT * FROM addresses", store.conn)
        found = store._decode(rows.assign(bag_id=rows["bag_id"].fillna(-1)))
    assert status["standdatum"] == "2020-09-15"
    by_id = found.set_index("bag_id")
    # houseboats and caravan pitches are addresses too; place -> municipality (GEM-WPL) -> province (CBS)
    assert by_id.loc["0221200000330151", ["postcode", "number", "street", "city", "municipality", "province",
                                         "kind"]].tolist() == [
        "6982CZ", 2, "Koppenberch", "Doesburg", "Doesburg", "Gelderland", "ligplaats"]
    assert by_id.loc["0221200000330171", "kind"] == "standplaats"
    assert by_id.loc["0221200000330227", ["kind", "register_status"]].tolist() == [
        "verblijfsobject", "Verbouwing verblijfsobject"]
    # 0221200000330998 has an old version (4x, 6981ED) and a newer one without a postcode: the newest counts
    assert "0221200000330998" not in by_id.index
    assert sorted(found["kind"].value_counts().items()) == [("ligplaats", 2), ("standplaats", 2),
                                                           ("verblijfsobject", 1)]


def test_part_of_an_extract_is_refused_with_a_clear_message(bag_real: Path, tmp_path: Path):
    with pytest.raises(InputError, match="public spaces"):
        load_bag(bag_real / "lvbag_extract/expand/0221NUM15092020-000001.xml", out=tmp_path / "s.sqlite")


def test_nlextract_secondary_addresses_and_kinds(stores: dict[str, Path]):
    with AddressStore.open(stores["nlextract_csv/bagadresplus.csv"]) as store:
        rows = pd.read_sql_query("SELECT * FROM addresses", store.conn)
        found = store._decode(rows.assign(bag_id=rows["bag_id"].fillna(-1)))
    assert found["secondary"].sum() > 0
    assert {"verblijfsobject", "ligplaats", "standplaats"} <= set(found["kind"])


def test_inspire_addresses_are_refused_with_the_reason(bag_real: Path, tmp_path: Path):
    result = CliRunner().invoke(app, ["reference", "load-bag", str(bag_real / "inspire_addresses/ADNL_28992.gpkg"),
                                      "--out", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "references" in result.output


def test_format_override_is_checked(bag_real: Path, tmp_path: Path):
    result = CliRunner().invoke(app, ["reference", "load-bag", str(bag_real / "nlextract_csv/bagadres.csv"),
                                      "--format", "flat", "--out", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "missing column" in result.output


def test_reference_status_shows_source_and_standdatum(bag_real: Path, tmp_path: Path):
    runner = CliRunner()
    store = tmp_path / "s.sqlite"
    loaded = runner.invoke(app, ["reference", "load-bag", str(bag_real / "lvbag_extract/BAGNLDL-15092020-small.zip"),
                                 "--out", str(store), "--municipalities", str(bag_real / CBS)])
    assert loaded.exit_code == 0, loaded.output
    assert "register date 2020-09-15" in loaded.output
    shown = runner.invoke(app, ["reference", "status", "--store", str(store)], env={"COLUMNS": "250"})
    assert shown.exit_code == 0 and "2020-09-15" in shown.output and "lvbag" in shown.output


def _typed(keys: pd.DataFrame) -> pd.DataFrame:
    """Each common address typed several ways, plus a number that does not exist."""
    label = keys["number"].astype(str) + keys["letter"].fillna("")
    with_addition = label + ("-" + keys["addition"].fillna("")).where(keys["addition"].notna(), "")
    ways = [with_addition, with_addition.str.lower(), keys["number"].astype(str),
            (keys["number"] + 5000).astype(str)]
    frames = [pd.DataFrame({"postcode": keys["postcode"], "house_number": w, "street": None, "city": None})
              for w in ways]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("group", [AMSTERDAM, DOESBURG], ids=["amsterdam", "doesburg"])
def test_same_answers_from_every_store(group: list[str], stores: dict[str, Path]):
    keysets = []
    for name in group:
        with AddressStore.open(stores[name]) as store:
            rows = pd.read_sql_query("SELECT postcode, number, letter, addition FROM addresses", store.conn)
        keysets.append(set(zip(rows["postcode"], rows["number"], rows["letter"], rows["addition"])))
    common = sorted(set.intersection(*keysets))
    assert len(common) >= (4 if group is DOESBURG else 90)
    with AddressStore.open(stores[group[0]]) as store:
        keys = store._decode(pd.DataFrame(
            [(*k, 0, 0, -1, 0, 0) for k in common],
            columns=["postcode", "number", "letter", "addition", "street_id", "place_id", "bag_id", "status_id",
                     "flags"]))[["postcode", "number", "letter", "addition"]]
    typed = _typed(keys)
    answers = []
    for name in group:
        with AddressStore.open(stores[name]) as store:
            out, _ = complete(typed, store)
        answers.append(out[COMPARED].astype(object).where(out[COMPARED].notna(), None))
    for name, answer in zip(group[1:], answers[1:]):
        differ = ~(answer.fillna("").to_numpy() == answers[0].fillna("").to_numpy()).all(axis=1)
        assert not differ.any(), f"{name} differs from {group[0]}:\n{typed[differ].head()}\n{answer[differ].head()}"
    statuses = set(answers[0]["address_status"])
    assert "not_found" in statuses and statuses & {"completed", "verified"}
    assert np.all(answers[0]["address_status"].iloc[-len(keys):] == "not_found")


def test_broken_xml_names_the_file(tmp_path: Path):
    folder = tmp_path / "extract"
    folder.mkdir()
    (folder / "9999NUM01012024-000001.xml").write_text(
        '<?xml version="1.0"?><sl:bagStand xmlns:sl="http://www.kadaster.nl/schemas/x"><open></sl:bagStand>')
    result = CliRunner().invoke(app, ["reference", "load-bag", str(folder), "--out", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "9999NUM01012024-000001.xml" in result.output


NUM = ('<sl-bag-extract:bagObject><Objecten:Nummeraanduiding><Objecten:identificatie domein="NL.IMBAG.'
       'Nummeraanduiding">{i:016d}</Objecten:identificatie><Objecten:huisnummer>{n}</Objecten:huisnummer>'
       '<Objecten:postcode>1011AB</Objecten:postcode><Objecten:typeAdresseerbaarObject>Verblijfsobject'
       '</Objecten:typeAdresseerbaarObject><Objecten:status>Naamgeving uitgegeven</Objecten:status>'
       '<Objecten:voorkomen><Historie:Voorkomen><Historie:voorkomenidentificatie>1</Historie:voorkomenidentificatie>'
       '<Historie:beginGeldigheid>2010-01-01</Historie:beginGeldigheid><Historie:tijdstipRegistratie>'
       '2010-01-01T10:00:00.000</Historie:tijdstipRegistratie></Historie:Voorkomen></Objecten:voorkomen>'
       '<Objecten:ligtAan><Objecten-ref:OpenbareRuimteRef domein="NL.IMBAG.Openbareruimte">0363300000000001'
       '</Objecten-ref:OpenbareRuimteRef></Objecten:ligtAan></Objecten:Nummeraanduiding></sl-bag-extract:bagObject>\n')
PROBE = """
import sys
from pathlib import Path
from cdq.address.lvbag import _Current, parse_stream
seen = []
with open(sys.argv[1], "rb") as handle:
    parse_stream(handle, sys.argv[1], _Current("2024-01-01"), lambda t, r: seen.append(r[0]), {})
peak = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM"))
print(len(seen), peak // 1024)
"""


def test_xml_is_streamed_not_held_in_memory(tmp_path: Path):
    import subprocess
    import sys

    big = tmp_path / "9999NUM01012024-000001.xml"
    with big.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?><sl-bag-extract:bagStand '
                  'xmlns:Objecten="www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601" '
                  'xmlns:Historie="www.kadaster.nl/schemas/lvbag/imbag/historie/v20200601" '
                  'xmlns:Objecten-ref="www.kadaster.nl/schemas/lvbag/imbag/objecten-ref/v20200601" '
                  'xmlns:sl-bag-extract="http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601" '
                  'xmlns:sl="http://www.kadaster.nl/schemas/standlevering-generiek/1.0"><sl:standBestand><sl:stand>')
        for i in range(150_000):
            out.write(NUM.format(i=i + 1, n=i % 500 + 1))
        out.write("</sl:stand></sl:standBestand></sl-bag-extract:bagStand>")
    assert big.stat().st_size > 120e6
    done = subprocess.run([sys.executable, "-c", PROBE, str(big)], capture_output=True, text=True, check=True)
    objects, peak_mb = map(int, done.stdout.split())
    # the whole tree would take well over a gigabyte; streamed, the interpreter and libraries are most of it
    assert objects == 150_000 and peak_mb < 250, peak_mb


def test_standard_library_parser_reads_the_same(bag_real: Path, tmp_path: Path):
    # without lxml (not installed) the standard library's iterparse is used: same objects, same fields
    from cdq.address import lvbag

    def rows(parse) -> list:
        # compared as staged (the fast path hands SQL text that SQL turns into integers and NULLs)
        conn = sqlite3.connect(":memory:")
        conn.executescript(lvbag.STAGING)
        for name, handle in lvbag.xml_members(bag_real / "lvbag_extract/expand", tmp_path):
            parse(handle, name, lvbag._Current(None), lambda t, r: conn.execute(lvbag.SQL[t], r), {})
        return [(t, sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr))
                for t in ("num", "opr", "wpl", "obj", "gemwpl")]

    fast = rows(lambda h, n, c, s, i: lvbag._parse_lxml(h, c, s, i))
    assert fast == rows(lvbag._parse_stdlib) and sum(len(r) for _, r in fast) > 200
    assert all(r for _, r in fast)


def test_bagconv_sqlite_keeps_additions(stores: dict[str, Path]):
    # bagconv writes the addition as `huistoevoeging`; dropping it made a bare "105" look `completed`
    with AddressStore.open(stores["bagconv_layout/bagconv_shaped_amsterdam.sqlite"]) as store:
        out, _ = complete(pd.DataFrame({"postcode": ["1011AB", "1011AB"], "house_number": ["105", "105-2"]}), store)
    assert out["address_status"].tolist() == ["ambiguous", "completed"]
    assert out["house_number_addition"].tolist()[1] == "2" and out["bag_address_id"].tolist()[0] is None


def test_pdok_geopackage_has_houseboats_and_caravan_pitches(stores: dict[str, Path]):
    with AddressStore.open(stores["pdok_layout/pdok_shaped_groningen_doesburg.gpkg"]) as store:
        kinds = dict(store.conn.execute("SELECT flags & 3, count(*) FROM addresses GROUP BY 1").fetchall())
    assert kinds.get(2, 0) > 0 and kinds.get(3, 0) > 0  # ligplaats, standplaats


def test_missing_file_is_a_clear_error(tmp_path: Path):
    result = CliRunner().invoke(app, ["reference", "load-bag", str(tmp_path / "nope.zip"),
                                      "--out", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "file not found" in result.output
