"""Learning from stewards (``cdq model train --from-decisions``), the model file round trip and ``--model``."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import ConfigError
from cdq.golden import merge_batch
from cdq.linkage import dedupe
from cdq.linkage.model import FSModel, load_model
from cdq.linkage.settings import load_settings
from cdq.linkage.training import check_model, train_from_decisions
from cdq.review.decisions import save_decisions
from cdq.store import GoldenStore
from cdq.survivorship import load_rules
from cdq.synthetic import generate_records

runner = CliRunner()


def _records(n: int = 600) -> pd.DataFrame:
    frame = generate_records(n, seed=11).astype("object").reset_index(drop=True)
    frame["source"] = "crm"
    frame["source_key"] = [f"K{i}" for i in range(len(frame))]
    frame["record_id"] = [f"crm-K{i}" for i in range(len(frame))]
    return frame


def _decisions(frame: pd.DataFrame, n_pairs: int = 40) -> pd.DataFrame:
    """Steward labels: true pairs that share an entity, and neighbours that do not (same surname)."""
    refs = "crm|" + frame["source_key"]
    rows = []
    for _, group in frame.groupby("entity_id"):
        if len(group) >= 2:
            rows.append({"ref_a": refs[group.index[0]], "ref_b": refs[group.index[1]], "decision": "match"})
    for _, group in frame.groupby("last_name"):
        ents = group.drop_duplicates("entity_id")
        if len(ents) >= 2:
            rows.append({"ref_a": refs[ents.index[0]], "ref_b": refs[ents.index[1]], "decision": "non_match"})
    out = pd.DataFrame(rows)
    return pd.concat([out[out.decision == "match"].head(n_pairs), out[out.decision == "non_match"].head(n_pairs)])


def test_model_file_round_trip_is_exact(tmp_path):
    model = dedupe(_records(300).drop(columns=["entity_id"])).model
    model.meta["settings"] = {"note": "any JSON"}
    assert load_model(model.save(tmp_path / "m.json")) == model
    assert FSModel.from_json(model.to_json()) == model


def test_a_model_for_other_comparisons_is_a_clear_error():
    model = dedupe(_records(300).drop(columns=["entity_id"])).model
    del model.m["surname"], model.levels["surname"]
    with pytest.raises(ConfigError) as err:
        check_model(model, load_settings())
    assert "surname" in str(err.value)


def test_train_from_decisions_moves_m_toward_the_labels_and_reports_before_after():
    frame = _records()
    decisions = _decisions(frame)
    result = train_from_decisions(frame.drop(columns=["entity_id"]), decisions)
    assert result.labelled == len(decisions)
    assert list(result.report["model"]) == ["before", "after"]
    assert {"precision", "recall", "f1", "labelled_pairs"} <= set(result.report.columns)
    assert result.model.meta["trained"] == "steward decisions"
    assert result.model.meta["settings"]["comparisons"] == list(load_settings().all_comparisons)
    # m of a comparison is a probability distribution and moved (the labels differ from EM's estimate)
    for name, m in result.model.m.items():
        assert abs(sum(m) - 1) < 1e-9, name


def test_cli_model_train_writes_a_model_that_dedupe_loads(tmp_path):
    frame = _records()
    url = f"sqlite:///{tmp_path / 'golden.sqlite'}"
    store = GoldenStore(url)
    staging = frame.drop(columns=["entity_id"])
    merge_batch(staging, pd.DataFrame({"record_id": staging["record_id"], "cluster_id": staging["record_id"]}),
                store, load_rules(), store.start_run("test"))
    store.engine.dispose()
    save_decisions(url, _decisions(frame).assign(decided_by="anna", decided_at="2026-12-03", workbook="r.xlsx"))
    out = tmp_path / "model.json"
    result = runner.invoke(app, ["model", "train", "--from-decisions", "--store", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "before" in result.output and "after" in result.output
    data = json.loads(out.read_text())
    assert data["meta"]["trained"] == "steward decisions" and data["meta"]["labelled_pairs"] == 80
    assert out.stat().st_mode & 0o077 == 0
    # the trained model is used only when asked for
    source = tmp_path / "in.csv"
    staging[["record_id", "first_name", "last_name", "birth_date", "postcode", "house_number", "email"]].to_csv(
        source, index=False)
    clusters = tmp_path / "c.csv"
    result = runner.invoke(app, ["dedupe", str(source), "--out", str(clusters), "--model", str(out),
                                 "--id-column", "record_id"])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(clusters)) == len(staging)


def test_cli_model_train_without_decisions_is_usage_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'golden.sqlite'}"
    GoldenStore(url).engine.dispose()
    result = runner.invoke(app, ["model", "train", "--from-decisions", "--store", url, "--out", str(tmp_path / "m")])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "m").exists()


def test_supervised_m_uses_the_labels_where_they_exist():
    """A comparison the labelled matches always agree on exactly gets its exact level's m pulled up."""
    frame = _records()
    decisions = _decisions(frame)
    result = train_from_decisions(frame.drop(columns=["entity_id"]), decisions)
    assert np.argmax(result.model.m["surname"]) == len(result.model.m["surname"]) - 1


def test_resolved_settings_round_trip_through_json(tmp_path):
    """load(dump) of the resolved settings is exact: thresholds, passes, extras, priors and all."""
    from cdq.linkage.settings import settings_from_dict, settings_to_dict

    s = load_settings().with_extras([{"column": "src:soc_sec_id", "kind": "exact", "block": True, "identifier": True}])
    again = settings_from_dict(json.loads(json.dumps(settings_to_dict(s))))
    assert again == s and again.extras == s.extras and again.passes == s.passes
    assert again.threshold("surname", "similar") == s.threshold("surname", "similar")
    with pytest.raises(ConfigError, match="shoe_size"):
        settings_from_dict({**settings_to_dict(s), "comparisons": ["shoe_size"]})


def test_a_saved_model_carries_its_settings_and_a_run_uses_them(tmp_path):
    """--save-model writes the model with the resolved settings; --model reruns under those settings (here a
    review threshold far below rules/matching.yaml's), with the same clusters."""
    from cdq.linkage.model import model_settings

    staging = _records(300).drop(columns=["entity_id"])
    source = tmp_path / "in.csv"
    staging[["record_id", "first_name", "last_name", "birth_date", "postcode", "house_number", "email"]].to_csv(
        source, index=False)
    first, again, saved = tmp_path / "c1.csv", tmp_path / "c2.csv", tmp_path / "m.json"
    result = runner.invoke(app, ["dedupe", str(source), "--out", str(first), "--id-column", "record_id",
                                 "--save-model", str(saved)])
    assert result.exit_code == 0, result.output
    model = load_model(saved)
    assert model_settings(model) == load_settings()
    # a model trained under other settings brings them along
    model.save(saved, replace(load_settings(), review=1e-6))
    assert model_settings(load_model(saved)).review == 1e-6
    result = runner.invoke(app, ["dedupe", str(source), "--out", str(again), "--id-column", "record_id",
                                 "--model", str(saved), "--pairs", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(first).equals(pd.read_csv(again))
    pairs = pd.read_csv(tmp_path / "p.csv")
    review = pairs[pairs["decision"] == "review"]["match_probability"]
    assert len(review) and review.min() >= 1e-6 and (review < 0.6).any()  # 0.6: the rules' review
