"""Acceptance: on held-out real names (rare and foreign included) and authored junk, >= 99.5% of the real
names are accepted and >= 97% of the junk is flagged (issue 15).

The real names are sampled from ``../shared/data/nl_names`` and removed from both the knowledge and the
model's training data, so each one is scored as a name never seen before.
"""

from __future__ import annotations

import pytest

from cdq.names import evaluation, ngram, resolve, score_parts, train_model
from cdq.names.knowledge import builtin
from cdq.names.score import builtin_model_path

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def labelled(shared_data):
    return evaluation.build(shared_data, n_real=600, seed=7)


def _rates(labelled, resolved):
    result = score_parts(labelled.records, resolved)
    table = evaluation.table(labelled.records, result).set_index("kind")
    return table, table.loc["ALL REAL", "rate"], table.loc["ALL JUNK", "rate"]


@pytest.mark.slow  # an acceptance run over the labelled sets: run by .ci/run's second step
def test_acceptance_with_user_lists_and_retrained_model(labelled):
    model = train_model(labelled.train_knowledge)
    table, real, junk = _rates(labelled, resolve(knowledge=labelled.train_knowledge, model=model))
    assert real >= 0.995, table.to_string()
    assert junk >= 0.97, table.to_string()


def test_acceptance_out_of_the_box_builtin_knowledge_and_shipped_model(labelled):
    table, real, junk = _rates(labelled, resolve(knowledge=builtin(), model=ngram.load(builtin_model_path())))
    assert real >= 0.995, table.to_string()
    assert junk >= 0.97, table.to_string()


def test_every_junk_kind_is_represented(labelled):
    kinds = labelled.records["kind"].value_counts()
    for kind in ("digits", "repeated", "placeholder", "fictional", "company", "email", "phone", "street",
                 "title_only", "swapped", "initials_mismatch", "gender_mismatch", "keyboard", "gibberish",
                 "punctuation", "repeated_tokens"):
        assert kinds[kind] >= 4
    assert (~labelled.records["kind"].str.startswith("real")).sum() >= 96
