"""Comparisons as data: one record per comparison in rules/matching.yaml (columns, named levels, thresholds,
term-frequency column, cannot-link levels, priors), validated with errors naming the key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from cdq.errors import ConfigError
from cdq.linkage.compare import COMPARISONS, compare
from cdq.linkage.prepare import PREPARED_COLUMNS, prepare
from cdq.linkage.settings import load_settings
from cdq.resources import resource


def _variant(tmp_path, edit) -> str:
    data = yaml.safe_load(resource("rules", "matching.yaml").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "matching.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_every_comparison_is_one_record_with_its_levels_vetoes_and_priors():
    data = yaml.safe_load(resource("rules", "matching.yaml").read_text(encoding="utf-8"))
    assert "cannot_link" not in data and "u_prior" not in data["model"]  # one place: the comparison's record
    for name, record in data["comparisons"].items():
        assert tuple(record["levels"]) == COMPARISONS[name].levels, name
        assert record["columns"], name
        assert len(record["u_prior"]) == len(record["m_prior"]) == len(record["levels"]), name
    s = load_settings()
    assert dict(s.cannot_link)["kvk"] == ("different",)
    assert s.tf_column("first_name") == "first_name_nick"


def test_a_threshold_in_the_yaml_changes_the_comparison(tmp_path):
    pair = prepare(pd.DataFrame({"last_name": ["Jansen", "Janssens"]}))
    default = compare(pair, np.array([0]), np.array([1]), load_settings()).loc[0, "surname"]

    def strict(data):
        data["comparisons"]["surname"]["thresholds"] = {"similar": 0.99, "very_similar": 0.999}

    strict_level = compare(pair, np.array([0]), np.array([1]), load_settings(_variant(tmp_path, strict))).loc[0, "surname"]
    assert strict_level < default


@pytest.mark.parametrize("edit,words", [
    (lambda d: d["comparisons"]["surname"].update(thresholds={"simlar": 0.8}), ["comparisons.surname.thresholds", "simlar"]),
    (lambda d: d["comparisons"]["gender"].update(levels=["exact", "different"]), ["comparisons.gender.levels"]),
    (lambda d: d["comparisons"]["kvk"].update(cannot_link=["differnt"]), ["comparisons.kvk.cannot_link", "differnt"]),
    (lambda d: d["comparisons"]["email"].update(tf="e_mail"), ["comparisons.email.tf", "e_mail"]),
    (lambda d: d["comparisons"]["phone"].update(m_prior=[0.5, 0.5]), ["comparisons.phone.m_prior"]),
    (lambda d: d["comparisons"]["address"].update(columns=["zip"]), ["comparisons.address.columns", "zip"]),
])
def test_comparison_records_are_validated(tmp_path, edit, words):
    with pytest.raises(ConfigError) as err:
        load_settings(_variant(tmp_path, edit))
    for word in words:
        assert word in str(err.value)


def test_prepared_columns_are_what_prepare_derives():
    assert set(prepare(pd.DataFrame({"first_name": ["Jan"], "email": ["jan@x.nl"]})).columns) == PREPARED_COLUMNS


def test_a_comparison_is_defined_once_where_it_is_implemented(tmp_path):
    """Levels, threshold defaults and the tf column come from the registration in compare.py: a YAML record
    may leave them out, and an unknown comparison is refused naming the registered ones."""

    def bare(data):
        data["comparisons"]["city"] = {"tf": True}

    s = load_settings(_variant(tmp_path, bare))
    assert s.levels("city") == list(COMPARISONS["city"].levels) == ["different", "similar", "exact"]
    assert s.tf_column("city") == "city" and s.threshold("city", "similar") == COMPARISONS["city"].thresholds["similar"]

    def unknown(data):
        data["comparisons"]["shoe_size"] = {}

    with pytest.raises(ConfigError) as err:
        load_settings(_variant(tmp_path, unknown))
    assert "shoe_size" in str(err.value) and "birth_date" in str(err.value)
