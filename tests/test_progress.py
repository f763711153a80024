"""Long work reports progress: each stage's library call takes a ``(done, total)`` callback and logs ``k/N``."""

from __future__ import annotations

import logging
import re

import pandas as pd
import pytest
from helpers import REPO, people

from cdq.address import complete
from cdq.crm import SqlCrmTarget, load_from_store
from cdq.golden import merge_batch
from cdq.linkage import dedupe
from cdq.log import VERBOSE
from cdq.normalize import normalize
from cdq.staging import import_inputs
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

EXPORT = REPO / "fixtures" / "backoffice_export.csv"


def _import(tmp_path, progress):
    import_inputs([EXPORT, EXPORT], progress=progress)


def _normalize(tmp_path, progress):
    normalize(people(20), progress=progress)


def _complete(tmp_path, progress):
    complete(people(20).assign(postcode="1234AB", house_number="1"), None, progress=progress)


def _linkage(tmp_path, progress):
    dedupe(people(20), progress=progress)


def _golden(tmp_path, progress):
    store, batch = GoldenStore(f"sqlite:///{tmp_path / 'g.db'}"), people(20)
    clusters = pd.DataFrame({"record_id": batch["record_id"], "cluster_id": batch["record_id"]})
    merge_batch(batch, clusters, store, load_rules(), store.start_run("test"), progress=progress)


def _load(tmp_path, progress):
    store, batch = GoldenStore(f"sqlite:///{tmp_path / 'g.db'}"), people(20)
    clusters = pd.DataFrame({"record_id": batch["record_id"], "cluster_id": batch["record_id"]})
    merge_batch(batch, clusters, store, load_rules(), store.start_run("test"))
    result, _ = load_from_store(store, SqlCrmTarget(f"sqlite:///{tmp_path / 'crm.db'}"), progress=progress)
    assert result.created == 21


STAGES = {"import": (_import, "import"), "normalize": (_normalize, "normalize"),
          "complete": (_complete, "address completion"), "linkage": (_linkage, "linkage"),
          "golden": (_golden, "golden merge"), "load": (_load, "CRM load")}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_stage_reports_k_of_n_to_its_callback_and_its_log(stage, tmp_path, caplog) -> None:
    run, what = STAGES[stage]
    seen: list[tuple[int, int]] = []
    caplog.set_level(VERBOSE, logger="cdq")
    run(tmp_path, lambda done, total: seen.append((done, total)))
    assert seen, f"{stage}: the progress callback was never called"
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1][0] == seen[-1][1] > 0, seen
    logged = [r.getMessage() for r in caplog.records if r.levelno == VERBOSE and r.getMessage().startswith(what)]
    total = seen[-1][1]
    assert any(re.search(rf" {total}/{total} \(100%\)", m) for m in logged), logged


def test_without_a_callback_the_log_still_counts(tmp_path, caplog) -> None:
    caplog.set_level(VERBOSE, logger="cdq")
    _golden(tmp_path, None)
    assert any(re.search(r"^golden merge of 21 records: step 5/5 \(100%\)", r.getMessage()) for r in caplog.records
               if r.levelno == VERBOSE)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
