"""Address completion and verification: table-driven cases, the CLI, PC4 plausibility and the acceptance set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.address import AddressStore, complete, load_bag, load_pc4
from cdq.address.synthetic import synthetic_bag
from cdq.cli.main import app
from cdq.columns import FINDINGS

REFERENCE = """postcode;huisnummer;huisletter;huisnummertoevoeging;straat;woonplaats;gemeente;provincie;nummeraanduiding_id
1011AB;1;;;Burgemeester van der Plasstraat;Amsterdam;Amsterdam;Noord-Holland;0363200000000001
1011AB;12;;;Burgemeester van der Plasstraat;Amsterdam;Amsterdam;Noord-Holland;0363200000000012
1011AB;12;;1;Burgemeester van der Plasstraat;Amsterdam;Amsterdam;Noord-Holland;0363200000000121
1011AB;12;;2;Burgemeester van der Plasstraat;Amsterdam;Amsterdam;Noord-Holland;0363200000000122
1011AB;14;B;;Burgemeester van der Plasstraat;Amsterdam;Amsterdam;Noord-Holland;0363200000000142
1011AB;16;;;Burgemeester van der Plasstraat;Amsterdam;Amsterdam;Noord-Holland;0363200000000016
1011AB;16;A;;Burgemeester van der Plasstraat;Amsterdam;Amsterdam;Noord-Holland;0363200000000161
1011AB;16;B;;Burgemeester van der Plasstraat;Amsterdam;Amsterdam;Noord-Holland;0363200000000162
2511CV;5;;;Prins Hendriklaan;'s-Gravenhage;'s-Gravenhage;Zuid-Holland;0518200000000005
2132AA;7;;;Kerkstraat;Hoofddorp;Haarlemmermeer;Noord-Holland;0394200000000007
8911AA;3;;;Sint Jacobsstraat;Leeuwarden;Leeuwarden;Fryslân;0080200000000003
"""
OUT = ["street", "house_number", "house_letter", "house_number_addition", "postcode", "city", "bag_address_id",
       "address_status"]
PLAS = "Burgemeester van der Plasstraat"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> AddressStore:
    folder = tmp_path_factory.mktemp("ref")
    (folder / "bag.csv").write_text(REFERENCE, encoding="utf-8")
    load_bag(folder / "bag.csv", out=folder / "s.sqlite")
    with AddressStore.open(folder / "s.sqlite") as opened:
        yield opened


# (street, house_number, postcode, city) -> expected OUT values, and the reason codes expected
CASES = [
    pytest.param((PLAS, "1", "1011 AB", "Amsterdam"),
                 (PLAS, "1", None, None, "1011 AB", "Amsterdam", "0363200000000001", "verified"), [], id="verified"),
    pytest.param(("Burg. v.d. Plasstr.", "1", "1011 ab", "AMSTERDAM"),
                 (PLAS, "1", None, None, "1011 AB", "Amsterdam", "0363200000000001", "verified"),
                 ["ADDRESS_STREET_STANDARDISED", "ADDRESS_CITY_STANDARDISED"], id="abbreviations-case"),
    pytest.param((None, "1", "1011 AB", None),
                 (PLAS, "1", None, None, "1011 AB", "Amsterdam", "0363200000000001", "completed"),
                 ["ADDRESS_STREET_COMPLETED", "ADDRESS_CITY_COMPLETED"], id="completed"),
    pytest.param(("Burgemeester van der Plastraat", "1", "1011 AB", "Amsterdm"),
                 (PLAS, "1", None, None, "1011 AB", "Amsterdam", "0363200000000001", "corrected"),
                 ["ADDRESS_STREET_CORRECTED", "ADDRESS_CITY_CORRECTED"], id="typos"),
    pytest.param((PLAS, "12 II", "1011 AB", "Amsterdam"),
                 (PLAS, "12", None, "2", "1011 AB", "Amsterdam", "0363200000000122", "corrected"),
                 ["ADDRESS_ADDITION_CORRECTED"], id="roman-floor"),
    pytest.param((PLAS, "12-2", "1011 AB", "Amsterdam"),
                 (PLAS, "12", None, "2", "1011 AB", "Amsterdam", "0363200000000122", "verified"), [],
                 id="addition-hyphen"),
    pytest.param((PLAS, "12", "1011 AB", "Amsterdam"),
                 (PLAS, "12", None, None, "1011 AB", "Amsterdam", "0363200000000012", "verified"), [],
                 id="plain-number-among-additions"),
    pytest.param((PLAS, "14b", "1011 AB", "Amsterdam"),
                 (PLAS, "14", "B", None, "1011 AB", "Amsterdam", "0363200000000142", "verified"), [],
                 id="letter-in-number"),
    pytest.param((PLAS, "14-B", "1011 AB", "Amsterdam"),
                 (PLAS, "14", "B", None, "1011 AB", "Amsterdam", "0363200000000142", "verified"), [],
                 id="letter-hyphen"),
    pytest.param((PLAS, "14", "1011 AB", "Amsterdam"),
                 (PLAS, "14", "B", None, "1011 AB", "Amsterdam", "0363200000000142", "completed"),
                 ["ADDRESS_ADDITION_COMPLETED"], id="only-variant-completed"),
    pytest.param((PLAS, "16C", "1011 AB", "Amsterdam"),
                 (PLAS, "16C", None, None, "1011 AB", "Amsterdam", None, "addition_not_found"),
                 ["ADDRESS_ADDITION_NOT_FOUND"], id="unknown-letter-not-found"),
    pytest.param((PLAS, "13", "1011 AB", "Amsterdam"),
                 (PLAS, "13", None, None, "1011 AB", "Amsterdam", None, "not_found"),
                 ["ADDRESS_NOT_FOUND"], id="neighbour-never-completed"),
    pytest.param(("Dam", "1", "1012 JS", "Amsterdam"),
                 ("Dam", "1", None, None, "1012 JS", "Amsterdam", None, "not_found"),
                 ["ADDRESS_NOT_FOUND"], id="postcode-not-in-register"),
    pytest.param(("Kerkstraat", "7", None, "Hoofddorp"),
                 ("Kerkstraat", "7", None, None, "2132 AA", "Hoofddorp", "0394200000000007", "completed"),
                 ["ADDRESS_POSTCODE_FOUND"], id="postcode-found"),
    pytest.param(("Kerkstr.", "7", None, "haarlemmermeer"),
                 ("Kerkstraat", "7", None, None, "2132 AA", "Hoofddorp", "0394200000000007", "corrected"),
                 ["ADDRESS_POSTCODE_FOUND", "ADDRESS_STREET_STANDARDISED", "ADDRESS_CITY_CORRECTED"],
                 id="postcode-found-by-municipality"),
    pytest.param(("Kerkstraat", "8", None, "Hoofddorp"),
                 ("Kerkstraat", "8", None, None, None, "Hoofddorp", None, "not_found"),
                 ["ADDRESS_NOT_FOUND"], id="postcode-search-fails"),
    pytest.param(("Pr. Hendrikln", "5", "2511 CV", "Den Haag"),
                 ("Prins Hendriklaan", "5", None, None, "2511 CV", "'s-Gravenhage", "0518200000000005", "verified"),
                 ["ADDRESS_STREET_STANDARDISED", "ADDRESS_CITY_STANDARDISED"], id="den-haag-alias"),
    pytest.param(("St. Jacobsstraat", "3", "8911 AA", "LEEUWARDEN"),
                 ("Sint Jacobsstraat", "3", None, None, "8911 AA", "Leeuwarden", "0080200000000003", "verified"),
                 ["ADDRESS_STREET_STANDARDISED", "ADDRESS_CITY_STANDARDISED"], id="sint"),
    pytest.param(("Molenweg", "1", "1011 AB", "Amsterdam"),
                 ("Molenweg", "1", None, None, "1011 AB", "Amsterdam", None, "ambiguous"),
                 ["ADDRESS_STREET_MISMATCH"], id="street-mismatch-kept"),
    pytest.param((PLAS, "1", "1011 AB", "Rotterdam"),
                 (PLAS, "1", None, None, "1011 AB", "Rotterdam", None, "ambiguous"),
                 ["POSTCODE_CITY_MISMATCH"], id="city-mismatch-kept"),
    pytest.param((PLAS, "1", "1011 SS", "Amsterdam"),
                 (PLAS, "1", None, None, "1011 SS", "Amsterdam", None, "invalid"),
                 ["ADDRESS_INVALID_POSTCODE"], id="forbidden-letters"),
    pytest.param((PLAS, "abc", "1011 AB", "Amsterdam"),
                 (PLAS, "abc", None, None, "1011 AB", "Amsterdam", None, "invalid"),
                 ["ADDRESS_INVALID_HOUSE_NUMBER"], id="bad-number"),
    pytest.param((PLAS, None, None, None),
                 (PLAS, None, None, None, None, None, None, "invalid"), ["ADDRESS_INCOMPLETE"], id="incomplete"),
]


@pytest.mark.parametrize("given, expected, reasons", CASES)
def test_complete_cases(store: AddressStore, given, expected, reasons):
    frame = pd.DataFrame([dict(zip(["street", "house_number", "postcode", "city"], given), record_id="r1")])
    out, findings = complete(frame, store)
    got = [None if (v is None or (isinstance(v, float) and np.isnan(v))) else v for v in out.loc[0, OUT]]
    assert tuple(got) == expected
    assert sorted(findings["reason_code"]) == sorted(reasons)
    assert list(findings.columns) == FINDINGS
    assert (findings["record_id"] == "r1").all()


def test_originals_kept_and_columns_added(store: AddressStore):
    frame = pd.DataFrame({"Klant": ["K1"], "street": ["Burg. v.d. Plasstr."], "house_number": ["12 II"],
                          "postcode": ["1011 ab"], "city": ["AMSTERDAM"]})
    out, _ = complete(frame, store)
    assert out.loc[0, "Klant"] == "K1"
    assert out.loc[0, ["orig:street", "orig:house_number", "orig:postcode", "orig:city"]].tolist() == [
        "Burg. v.d. Plasstr.", "12 II", "1011 ab", "AMSTERDAM"]
    assert out.loc[0, ["municipality", "province"]].tolist() == ["Amsterdam", "Noord-Holland"]


def test_no_store_gives_no_reference(store: AddressStore):
    out, findings = complete(pd.DataFrame({"postcode": ["1011 AB"], "house_number": ["1"]}), None)
    assert out["address_status"].tolist() == ["no_reference"] and findings.empty


def _pc4_store(tmp_path: Path, shared_data: Path) -> AddressStore:
    folder = shared_data / "nl_postcodes"
    load_pc4([folder / "pc_areas_cbs_certegis.csv", folder / "pc4_locality_countrystatecity.csv"],
             out=tmp_path / "pc4.sqlite")
    return AddressStore.open(tmp_path / "pc4.sqlite")


@pytest.mark.parametrize("postcode, city, mismatch, municipality", [
    ("1011 AB", "Amsterdam", False, "Amsterdam"),
    ("1011 AB", "AMSTERDAM", False, "Amsterdam"),
    ("1011 AB", "Rotterdam", True, "Amsterdam"),
    ("3011 AB", "Rotterdam", False, "Rotterdam"),
    ("2511 CV", "Den Haag", False, "'s-Gravenhage"),
    ("9711 AB", "Groningen", False, "Groningen"),
    ("9711 AB", "Maastricht", True, "Groningen"),
])
def test_pc4_plausibility_with_real_tables(tmp_path: Path, shared_data: Path, postcode, city, mismatch,
                                           municipality):
    with _pc4_store(tmp_path, shared_data) as store:
        out, findings = complete(pd.DataFrame({"postcode": [postcode], "house_number": ["1"], "city": [city]}),
                                 store)
    assert out.loc[0, "address_status"] == "no_reference"
    assert ("POSTCODE_CITY_MISMATCH" in set(findings["reason_code"])) is mismatch
    assert out.loc[0, "municipality"] == municipality


def test_cli_complete_keeps_input_columns(tmp_path: Path, store: AddressStore):
    src = tmp_path / "klanten.csv"
    src.write_text("Klantnummer;Naam;Adres;Postcode;Woonplaats\n"
                   "K1;J. Jansen;Burg. v.d. Plasstr. 12-2;1011 AB;amsterdam\n"
                   "K2;P. Smit;Kerkstraat 8;2132AA;Hoofddorp\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["address", "complete", str(src), "--out", str(out),
                                      "--reference", str(store.path)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "not_found" in result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table.columns[:5]) == ["Klantnummer", "Naam", "Adres", "Postcode", "Woonplaats"]
    assert table["address_status"].tolist() == ["verified", "not_found"]
    assert table.loc[0, "bag_address_id"] == "0363200000000122" and table.loc[0, "street"] == PLAS
    findings = pd.read_csv(tmp_path / "out.findings.csv", dtype=str)
    assert "ADDRESS_NOT_FOUND" in set(findings["reason_code"])


def test_cli_without_store_exits_2(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CDQ_BAG_STORE", str(tmp_path / "missing.sqlite"))
    src = tmp_path / "in.csv"
    src.write_text("Postcode;Huisnummer\n1011AB;1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["address", "complete", str(src), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "load-bag" in result.output


# ---- acceptance: a held-out set built from a seeded synthetic reference -------------------------------------

def _typo(rng: np.random.Generator, text: str) -> str:
    """One random edit (swap, drop, double or replace a letter) away from the middle of a word."""
    i = int(rng.integers(1, len(text) - 2))
    kind = rng.integers(0, 4)
    if kind == 0:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind == 1:
        return text[:i] + text[i + 1:]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    return text[:i] + ("e" if text[i] != "e" else "a") + text[i + 1:]


def _held_out(reference: pd.DataFrame, rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Existing addresses typed the way people type them, and numbers that do not exist."""
    sample = reference.iloc[rng.choice(len(reference), n, replace=False)].reset_index(drop=True)
    number = sample["huisnummer"] + sample["huisletter"].where(sample["huisletter"] == "", "-" + sample["huisletter"])
    number = number.where(rng.random(n) < 0.5, sample["huisnummer"] + sample["huisletter"].str.lower())
    addition = sample["huisnummertoevoeging"]
    number = number + addition.where(addition == "", " " + addition)
    street = sample["straat"].copy()
    typo = rng.random(n) < 0.4
    street[typo] = [_typo(rng, s) for s in street[typo]]
    city = sample["woonplaats"].where(rng.random(n) < 0.5, sample["woonplaats"].str.upper())
    existing = pd.DataFrame({"street": street, "house_number": number, "postcode": sample["postcode"], "city": city})
    used = set(zip(reference["postcode"], reference["huisnummer"]))
    ghosts = sample.iloc[: n // 4].copy()
    ghosts["huisnummer"] = [str(int(h) + 1) for h in ghosts["huisnummer"]]  # the other side of the street
    ghosts = ghosts[[(p, h) not in used for p, h in zip(ghosts["postcode"], ghosts["huisnummer"])]]
    missing = pd.DataFrame({"street": ghosts["straat"], "house_number": ghosts["huisnummer"],
                            "postcode": ghosts["postcode"], "city": ghosts["woonplaats"]})
    return pd.concat([existing.assign(truth="exists"), missing.assign(truth="missing")], ignore_index=True), sample


@pytest.mark.slow  # the acceptance run (60k-address reference, 3,000 held-out cases): .ci/run's second step
def test_acceptance_held_out(tmp_path: Path):
    reference = synthetic_bag(60_000, seed=20240601)
    path = tmp_path / "bag.csv"
    reference.to_csv(path, sep=";", index=False)
    load_bag(path, out=tmp_path / "s.sqlite")
    rng = np.random.default_rng(7)
    cases, sample = _held_out(reference, rng, 3000)
    with AddressStore.open(tmp_path / "s.sqlite") as store:
        out, _ = complete(cases.drop(columns="truth"), store)
    exists = (cases["truth"] == "exists").to_numpy()
    right = (out["street"].to_numpy()[exists] == sample["straat"].to_numpy()) & (
        out["city"].to_numpy()[exists] == sample["woonplaats"].to_numpy())
    flagged = out["address_status"].to_numpy()[~exists] == "not_found"
    assert exists.sum() == 3000 and (~exists).sum() > 300
    assert right.mean() >= 0.99, f"right street and city for {right.mean():.2%}"
    assert flagged.mean() >= 0.99, f"non-existent numbers flagged for {flagged.mean():.2%}"
    assert set(out["address_status"][exists]) <= {"verified", "corrected", "completed"}


@pytest.mark.parametrize("street, number, postcode, status, out_street", [
    ("14B", None, "1011 AB", "completed", PLAS),          # back-office "Adres" holding only the number
    ("12-2", None, "1011-AB", "completed", PLAS),        # and a hyphenated postcode
])
def test_number_in_street_field_and_hyphenated_postcode(store, street, number, postcode, status, out_street):
    out, _ = complete(pd.DataFrame({"street": [street], "house_number": [number], "postcode": [postcode],
                                    "city": ["Amsterdam"]}), store)
    assert out.loc[0, ["address_status", "street"]].tolist() == [status, out_street]
    assert out.loc[0, "orig:street"] == street


def test_cli_load_pc4_then_complete_flags_city(tmp_path: Path, shared_data: Path):
    runner = CliRunner()
    store = tmp_path / "pc4.sqlite"
    result = runner.invoke(app, ["reference", "load-pc4",
                                 str(shared_data / "nl_postcodes" / "pc_areas_cbs_certegis.csv"), "--out", str(store)])
    # 4,074 PC4 rows, 21 of them without a place name (skipped)
    assert result.exit_code == 0 and "loaded 4053 PC4" in result.output
    src = tmp_path / "in.csv"
    src.write_text("Postcode;Huisnummer;Plaats\n1011 AB;1;Rotterdam\n3011AB;2;Rotterdam\n", encoding="utf-8")
    result = runner.invoke(app, ["address", "complete", str(src), "--out", str(tmp_path / "o.csv"),
                                 "-r", str(store)])
    assert result.exit_code == 0, result.output
    findings = pd.read_csv(tmp_path / "o.findings.csv", dtype=str)
    assert findings["reason_code"].tolist() == ["POSTCODE_CITY_MISMATCH"]
    assert pd.read_csv(tmp_path / "o.csv", dtype=str)["address_status"].tolist() == ["no_reference"] * 2
