"""The demo against its own truth (issue 15 acceptance): precision, recall, no household merged, full names.

Scored by ``tests/helpers.py`` (``score_demo``) from the golden store of one ``cdq demo`` run: every stored source record is
mapped to its true entity (file, sheet, row; mail correspondents by address) and pairs of records are
compared with pairs sharing a golden id.
"""

from __future__ import annotations

import pytest
from helpers import DemoScore, score_demo


@pytest.fixture(scope="module")
def scored(demo_run) -> DemoScore:
    """The golden store as the session's first ``cdq demo`` run left it (conftest.py), against the truth."""
    return score_demo(demo_run.first_store)


def test_every_stored_record_is_in_the_truth(scored):
    assert scored.unmapped == [] and scored.true_pairs > 200


def test_precision_and_no_household_merged(scored):
    assert scored.households_merged == [], scored.false_pairs
    assert scored.precision >= 0.995, scored.false_pairs


def test_every_golden_name_is_as_complete_as_its_best_source_record(scored):
    assert scored.less_complete_names == []


def test_recall(scored):
    assert scored.recall >= 0.95, scored.missed_pairs
