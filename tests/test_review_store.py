"""Steward decisions act on the golden store at `cdq review apply` time (issue 15, defect 2)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from cdq.golden import merge_batch
from cdq.review import apply_review, export_review, load_decisions
from cdq.review.steward import export_open, open_pairs, save_open_pairs
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

COLUMNS = ["source", "source_key", "first_name", "last_name", "gender", "birth_date", "postcode", "house_number",
           "email"]


def people(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=COLUMNS)
    frame.insert(0, "record_id", [f"r{i}" for i in range(len(frame))])
    return frame


@pytest.fixture()
def store(tmp_path) -> GoldenStore:
    return GoldenStore(f"sqlite:///{tmp_path / 'golden.sqlite'}")


def load(store: GoldenStore, frame: pd.DataFrame, clusters: list[str]) -> None:
    run = store.start_run("test")
    merge_batch(frame, pd.DataFrame({"record_id": frame["record_id"], "cluster_id": clusters}), store,
                load_rules(), run)
    store.finish_run(run)


def golden_of(store: GoldenStore) -> dict[str, str]:
    table = store.table("source_records").merge(store.table("xref"), left_on="id", right_on="source_record_id")
    return {ref: store.resolve(g) for ref, g in zip(table["ref"], table["golden_id"])}


def workbook(tmp_path: Path, frame: pd.DataFrame, pairs: list[tuple[str, str]], decisions: dict[int, str],
             notes: dict[int, str] | None = None) -> Path:
    band = pd.DataFrame({"record_id_l": [a for a, _ in pairs], "record_id_r": [b for _, b in pairs],
                         "match_weight": 1.0, "match_probability": 0.7, "decision": "review"})
    path = export_review(band, frame, tmp_path / "review.xlsx")
    book = load_workbook(path)
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        pair = row[header.index("pair")].value
        if pair in decisions:
            row[header.index("decision")].value = decisions[pair]
        if notes and pair in notes:
            row[header.index("note")].value = notes[pair]
    book.save(path)
    return path


JAN = ("erp", "K1", "Jan", "Bos", "M", "1960-01-01", "1234 AB", "1", "jan.bos@x.nl")
JOHANNES = ("xls", "A7", "Johannes", "Bos", "M", "1960-01-01", "1234 AB", "1", None)
MIA = ("xls", "A8", "Mia", "Bos", "F", "1975-06-30", "1234 AB", "1", None)


def test_a_match_joins_the_golden_records_at_apply_time(store, tmp_path):
    frame = people(JAN, JOHANNES)
    load(store, frame, ["a", "b"])
    before = golden_of(store)
    assert before["erp|K1"] != before["xls|A7"]
    path = workbook(tmp_path, frame, [("r0", "r1")], {1: "match"}, notes={1: "same man, called Jan"})
    result = apply_review(path, store.url, decided_by="anna")
    after = golden_of(store)
    assert after["erp|K1"] == after["xls|A7"] == min(before.values())  # the older golden id survives
    outcome = result.outcomes.iloc[0]
    assert outcome["action"] == "joined" and {outcome["golden_a"], outcome["golden_b"]} == set(before.values())
    assert "merged into" in result.outcomes.iloc[0]["reason"]
    stored = load_decisions(store.url)
    assert stored[["decision", "decided_by", "note"]].values.tolist() == [["match", "anna", "same man, called Jan"]]


def test_a_match_a_cannot_link_rule_separates_is_refused_unless_forced(store, tmp_path):
    frame = people(JAN, MIA)
    load(store, frame, ["a", "b"])
    before = golden_of(store)
    path = workbook(tmp_path, frame, [("r0", "r1")], {1: "match"})
    result = apply_review(path, store.url)
    outcome = result.outcomes.iloc[0]
    assert outcome["action"] == "refused" and "birth_date" in outcome["reason"] and "gender" in outcome["reason"]
    assert "force match" in outcome["reason"]
    assert golden_of(store) == before and load_decisions(store.url).empty  # nothing joined, nothing stored
    path = workbook(tmp_path, frame, [("r0", "r1")], {1: "force match"})
    forced = apply_review(path, store.url)
    assert forced.outcomes.iloc[0]["action"] == "joined" and "forced over" in forced.outcomes.iloc[0]["reason"]
    assert len(set(golden_of(store).values())) == 1


def test_a_no_match_splits_two_records_a_third_one_links(store, tmp_path):
    third = ("crm", "C3", None, "Bos", None, None, "1234 AB", "1", "jan.bos@x.nl")
    frame = people(JAN, JOHANNES, third)
    load(store, frame, ["a", "a", "a"])
    gid = golden_of(store)["erp|K1"]
    path = workbook(tmp_path, frame, [("r0", "r1")], {1: "no match"})
    result = apply_review(path, store.url)
    after = golden_of(store)
    assert result.outcomes.iloc[0]["action"] == "split"
    assert after["erp|K1"] == after["crm|C3"] == gid  # the golden id stays; the newer record went out
    assert after["xls|A7"] != gid
    # the next run clusters all three together again: the split record stays apart (pinned)
    load(store, frame.assign(email="new@x.nl"), ["a", "a", "a"])
    again = golden_of(store)
    assert again["xls|A7"] != again["erp|K1"] == again["crm|C3"]


def test_open_pairs_are_exported_every_run_until_decided(store, tmp_path):
    frame = people(JAN, JOHANNES, MIA)
    load(store, frame, ["a", "b", "c"])
    band = pd.DataFrame({"record_id_l": ["r0", "r0"], "record_id_r": ["r1", "r2"], "match_weight": [2.0, 1.0],
                         "match_probability": [0.75, 0.65], "decision": ["review", "review"],
                         "first_name_level": ["similar", "different"], "first_name_weight": [1.0, -2.0]})
    assert save_open_pairs(store, band, frame) == 2
    path, count = export_open(store, tmp_path / "night1.xlsx")
    assert count == 2
    sheet = load_workbook(path)["review"]
    header = [c.value for c in sheet[1]]
    assert {"golden A", "golden B"} <= set(header)
    golden = golden_of(store)
    first = {h: c.value for h, c in zip(header, sheet[2])}
    assert (first["golden A"], first["golden B"]) == (golden["erp|K1"], golden["xls|A7"])
    assert first["explanation"] == "first_name: similar (+1.0)"
    # a night without new pairs still asks the open ones; a decided pair is not asked again
    assert export_open(store, tmp_path / "night2.xlsx")[1] == 2
    book = load_workbook(path)
    book["review"].cell(row=2, column=header.index("decision") + 1).value = "match"
    book.save(path)
    apply_review(path, store.url)
    assert export_open(store, tmp_path / "night3.xlsx")[1] == 1
    assert open_pairs(store)[["ref_a", "ref_b"]].values.tolist() == [["erp|K1", "xls|A8"]]
