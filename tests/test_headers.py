"""Header mapping: synonym table, explicit mapping files, and their error messages."""

from __future__ import annotations

import pytest

from cdq.errors import ConfigError
from cdq.headers import header_key, load_mapping, map_headers, synonym_table


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Klantnummer", "source_key"), ("Relatienummer", "source_key"), ("Debiteurnummer", "source_key"),
        ("Customer ID", "source_key"), ("Voornaam", "first_name"), ("Voorletters", "initials"),
        ("Tussenvoegsel", "infix"), ("Achternaam", "last_name"), ("Naam", "full_name"),
        ("Straat", "street"), ("Adres", "street_and_number"), ("Huisnummer", "house_number"),
        ("Toevoeging", "house_number_addition"), ("Postcode", "postcode"), ("Plaats", "city"),
        ("Woonplaats", "city"), ("Telefoon", "phone"), ("Mobiel", "mobile"), ("E-mail", "email"),
        ("Geboortedatum", "birth_date"), ("Geslacht", "gender"), ("Bedrijfsnaam", "company_name"),
        ("KvK-nummer", "kvk_number"), ("Adviseur", "adviser"), ("BTW nummer", "vat_number"),
        ("E-mail Address", "email"), ("First Name", "first_name"), ("Last Name", "last_name"),
        ("Mobile Phone", "mobile"), ("ZIP code", "postcode"), ("E-MAILADRES", "email"),
        (" woon plaats ", "city"), ("Geb. datum", "birth_date"),
    ],
)
def test_single_header_maps(header: str, target: str) -> None:
    assert map_headers([header]) == {header: target}


def test_each_target_taken_once_in_priority_order() -> None:
    mapped = map_headers(["Plaats", "Woonplaats", "Telefoon", "Tel"])
    assert mapped == {"Woonplaats": "city", "Telefoon": "phone"}


def test_unknown_headers_stay_unmapped() -> None:
    assert map_headers(["Opmerking", "Kleur"]) == {}


def test_header_key_ignores_case_accents_punctuation() -> None:
    assert header_key("Cliënt-Nummer") == header_key("clientnummer") == "clientnummer"


def test_every_synonym_is_unique_across_targets() -> None:
    seen: dict[str, str] = {}
    for target, keys in synonym_table().items():
        for key in keys:
            assert seen.setdefault(key, target) == target, f"{key!r} maps to {seen[key]} and {target}"


def test_mapping_file_overrides_and_blocks(tmp_path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("source: erp\ncolumns:\n  Nummer: source_key\n  Klantnummer: null\n", encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.source == "erp"
    assert map_headers(["Klantnummer", "Nummer"], mapping) == {"Nummer": "source_key"}


def test_mapping_file_errors_name_file_key_and_line(tmp_path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("columns:\n  Nummer: klant_id\nextra: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_mapping(path)
    message = str(error.value)
    assert f"{path}:2: columns.Nummer" in message and "klant_id" in message
    assert f"{path}:3: extra" in message


def test_mapping_file_invalid_yaml(tmp_path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("columns: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_mapping(path)
