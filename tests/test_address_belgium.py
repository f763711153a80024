"""Belgian addresses against BeST-Address.

The test files (``BEST_*`` in tests/helpers.py) are in the exact layout of FPS BOSA's published
``openaddress-be*.csv`` (header as written by ``BestWriterCSVOpenAddresses`` in github.com/Fedict/best-tools, 20 columns; region codes
BE-BRU, BE-VLG, BE-WAL; status ``current``/``retired``). Street and municipality names are real; ids,
coordinates and box numbers are invented.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from helpers import BEST_BRUSSELS as BRUSSELS
from helpers import BEST_FLANDERS as FLANDERS
from helpers import BEST_HEAD as HEAD
from helpers import BEST_WALLONIA as WALLONIA
from typer.testing import CliRunner

from cdq.address import AddressStore, complete, load_bag
from cdq.address.loaders import detect_format
from cdq.cli.main import app


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> AddressStore:
    folder: Path = tmp_path_factory.mktemp("be")
    path = folder / "s.sqlite"
    (folder / "nl.csv").write_text(
        "postcode;huisnummer;huisletter;huisnummertoevoeging;straat;woonplaats;gemeente;provincie\n"
        "1011AB;1;;;Damrak;Amsterdam;Amsterdam;Noord-Holland\n", encoding="utf-8")
    load_bag(folder / "nl.csv", out=path)
    for name, text in (("openaddress-bebru.csv", BRUSSELS), ("openaddress-bewal.csv", WALLONIA)):
        (folder / name).write_text(text.lstrip("\n"), encoding="utf-8")
        load_bag(folder / name, out=path)
    (folder / "openaddress-bevlg.csv").write_text(FLANDERS.lstrip("\n"), encoding="utf-8")
    with zipfile.ZipFile(folder / "openaddress-bevlg.zip", "w", zipfile.ZIP_DEFLATED) as out:
        out.write(folder / "openaddress-bevlg.csv", "openaddress-bevlg.csv")
    assert detect_format(folder / "openaddress-bevlg.zip") == "best-csv"
    load_bag(folder / "openaddress-bevlg.zip", out=path)
    with AddressStore.open(path) as opened:
        yield opened


OUT = ["street", "house_number", "house_number_addition", "postcode", "city", "municipality", "bag_address_id",
       "address_status"]


def _complete(store, rows: list[dict]) -> pd.DataFrame:
    out, _ = complete(pd.DataFrame(rows), store)
    return out[OUT].astype(object).where(out[OUT].notna(), None)


@pytest.mark.parametrize("typed, expected", [
    # bilingual Brussels: the answer keeps the language the street was typed in
    ({"street": "Nieuwstraat", "house_number": "12", "postcode": "1000", "city": "Brussel", "country": "België"},
     ["Nieuwstraat", "12", None, "1000", "Brussel", "Brussel", "BE-BRU:1001", "verified"]),
    ({"street": "Rue Neuve", "house_number": "12", "postcode": "1000", "city": "Bruxelles", "country": "Belgique"},
     ["Rue Neuve", "12", None, "1000", "Bruxelles", "Bruxelles", "BE-BRU:1001", "verified"]),
    # bus numbers: "14 bus 2", "14/2", "14 bte 2"; without the box: several addresses
    ({"street": "Nieuwstraat", "house_number": "14 bus 2", "postcode": "1000", "city": "Brussel", "country": "BE"},
     ["Nieuwstraat", "14", "2", "1000", "Brussel", "Brussel", "BE-BRU:1003", "verified"]),
    ({"street": "rue neuve", "house_number": "14/1", "postcode": "1000", "city": "Bruxelles", "country": "BE"},
     ["Rue Neuve", "14", "1", "1000", "Bruxelles", "Bruxelles", "BE-BRU:1002", "verified"]),
    ({"street": "Rue Neuve", "house_number": "14", "postcode": "1000", "city": "Bruxelles", "country": "BE"},
     ["Rue Neuve", "14", None, "1000", "Bruxelles", None, None, "ambiguous"]),
    ({"street": "Rue Neuve", "house_number": "14 bte 9", "postcode": "1000", "city": "Bruxelles", "country": "BE"},
     ["Rue Neuve", "14 bte 9", None, "1000", "Bruxelles", None, None, "addition_not_found"]),
    # leading zeros in BeST box numbers; Flemish/French municipality names
    ({"street": "Veldstraat", "house_number": "7 bus 1", "postcode": "9000", "city": "Gand", "country": "BE"},
     ["Veldstraat", "7", "0001", "9000", "Gand", "Gand", "BE-VLG:2003", "verified"]),
    ({"street": "Meir", "house_number": "50", "postcode": "2000", "city": "Anvers", "country": "BE"},
     ["Meir", "50", None, "2000", "Anvers", "Anvers", "BE-VLG:2001", "verified"]),
    ({"street": "Meir", "house_number": "12a", "postcode": "2000", "city": None, "country": "BE"},
     ["Meir", "12A", None, "2000", "Antwerpen", "Antwerpen", "BE-VLG:2002", "completed"]),
    # part of a municipality (postname): Laken/Laeken in Brussel
    ({"street": "Place Emile Bockstael", "house_number": "3", "postcode": "1020", "city": "Laeken", "country": "BE"},
     ["Place Émile Bockstael", "3", None, "1020", "Laeken", "Bruxelles", "BE-BRU:1005", "verified"]),
    ({"street": "Rue de la Cathédrale", "house_number": "4", "postcode": "4000", "city": "Luik", "country": "BE"},
     ["Rue de la Cathédrale", "4", None, "4000", "Luik", "Luik", "BE-WAL:3001", "verified"]),
    # withdrawn in BeST: known, never verified
    ({"street": "Rue Neuve", "house_number": "16", "postcode": "1000", "city": "Bruxelles", "country": "BE"},
     ["Rue Neuve", "16", None, "1000", "Bruxelles", None, None, "withdrawn"]),
    ({"street": "Rue Neuve", "house_number": "99", "postcode": "1000", "city": "Bruxelles", "country": "BE"},
     ["Rue Neuve", "99", None, "1000", "Bruxelles", None, None, "not_found"]),
])
def test_belgian_addresses(store, typed, expected):
    assert _complete(store, [typed]).iloc[0].tolist() == expected


def test_country_is_detected_per_record(store):
    rows = [
        {"street": "Damrak", "house_number": "1", "postcode": "1011 AB", "city": "Amsterdam", "country": None},
        {"street": "Meir", "house_number": "50", "postcode": "2000", "city": "Antwerpen", "country": None},
        {"street": "Meir", "house_number": "50", "postcode": "2000", "city": "Antwerpen", "country": "Nederland"},
        {"street": "Elsensesteenweg", "house_number": "25", "postcode": "1050", "city": "Elsene", "country": ""},
    ]
    out = _complete(store, rows)
    assert out["address_status"].tolist() == ["verified", "verified", "invalid", "verified"]
    assert (out.loc[1, "bag_address_id"], out.loc[3, "bag_address_id"]) == ("BE-VLG:2001", "BE-BRU:1006")


def test_regions_accumulate_and_status_shows_them(store):
    regions = {r["region"]: r["rows"] for r in store.status()["belgium"]}
    assert regions == {"BE-BRU": 6, "BE-VLG": 4, "BE-WAL": 1}
    assert store.status()["rows"] == 1  # the Dutch addresses stay
    result = CliRunner().invoke(app, ["reference", "status", "--store", str(store.path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "BE-VLG" in result.output


def test_missing_best_column_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "openaddress-bebru.csv"
    bad.write_text(HEAD.replace("box_number", "box") + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["reference", "load-bag", str(bad), "--format", "best-csv",
                                      "--out", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "box_number" in result.output
