"""One record against candidates (the service path): blocking keys select candidates, match_one ranks them."""

from __future__ import annotations

import pandas as pd

from cdq.linkage import blocking_keys, dedupe, match_one
from cdq.synthetic import generate_records

STORED = pd.DataFrame({
    "record_id": ["s1", "s2", "s3", "s4"],
    "first_name": ["Jan", "Jan", "Piet", "Marie"],
    "last_name": ["de Vries", "de Vries", "Bakker", "de Vries"],
    "birth_date": ["1980-02-01", "1951-07-13", "1975-03-04", "1982-11-30"],
    "postcode": ["1234AB", "1234AB", "9999ZZ", "1234AB"],
    "house_number": ["12", "12", "1", "12"],
    "email": ["jan@devries.nl", None, "piet@bakker.nl", None],
})
NEW = {"first_name": "Johannes", "last_name": "Vries", "birth_date": "01-02-1980", "postcode": "1234 ab",
       "house_number": "12", "email": "Jan@DeVries.nl"}


def test_match_one_ranks_the_same_person_first_and_explains_it():
    ranked = match_one(NEW, STORED)
    assert ranked.loc[0, "record_id"] == "s1"
    assert ranked.loc[0, "decision"] == "match"
    assert ranked.loc[0, "birth_date_level"] == "exact" and ranked.loc[0, "birth_date_weight"] > 0
    # father (same name, same address, birth date decades apart) and the wife: never a match
    others = ranked.set_index("record_id")
    assert others.loc["s2", "decision"] == "non_match"
    assert others.loc["s4", "decision"] == "non_match"
    assert (ranked["match_probability"].between(0, 1)).all()


def test_match_one_top_and_empty_candidates():
    assert len(match_one(NEW, STORED, top=2)) == 2
    assert match_one(NEW, STORED.iloc[:0]).empty


def test_blocking_keys_select_the_candidates_of_a_record():
    """The candidates are the stored records that share any blocking key with the new record."""
    stored_keys = blocking_keys(STORED)
    new_keys = blocking_keys(NEW)
    shares = pd.Series(False, index=STORED.index)
    for column in stored_keys.columns:
        value = new_keys.loc[0, column]
        if value is not None:
            shares |= stored_keys[column] == value
    assert "s1" in set(STORED.loc[shares, "record_id"])
    assert "s3" not in set(STORED.loc[shares, "record_id"])


def test_match_one_agrees_with_dedupe_on_synthetic_duplicates():
    """Every second record of a duplicate pair in a synthetic file finds its first record as the best candidate."""
    frame = generate_records(400, seed=3).astype("object").reset_index(drop=True)
    frame["record_id"] = [f"r{i}" for i in range(len(frame))]
    clusters = dedupe(frame.drop(columns=["entity_id"])).clusters.set_index("record_id")["cluster_id"]
    keys = blocking_keys(frame)
    hits = total = 0
    for _, group in frame.groupby("entity_id"):
        if len(group) < 2 or clusters[group["record_id"]].nunique() > 1:
            continue  # only pairs dedupe itself links
        new, stored = group.iloc[0], frame.drop(index=group.index[0])
        share = pd.Series(False, index=stored.index)
        for column in keys.columns:
            if keys.loc[group.index[0], column] is not None:
                share |= keys.loc[stored.index, column] == keys.loc[group.index[0], column]
        ranked = match_one(new.drop(labels=["entity_id"]), stored[share].drop(columns=["entity_id"]),
                           population=len(frame))
        total += 1
        hits += bool(len(ranked)) and ranked.loc[0, "record_id"] in set(group["record_id"])
    assert total >= 20
    assert hits / total >= 0.9
