"""Run report: self-contained HTML with every chart, the failed gate shown, rendered in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import clean_staging, golden_of, planted_staging

from cdq.gates import accounting, run_gates
from cdq.linkage import dedupe
from cdq.reporting import render_run_report, write_run_report
from cdq.reporting.svg import bars, histogram

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECTIONS = ["Rows per source", "Reason codes by field", "Completeness before and after cleaning",
            "Address status", "Name plausibility", "Match weights and thresholds", "Cluster sizes"]


def _raw(frame: pd.DataFrame) -> pd.DataFrame:
    """A 'before cleaning' frame: fewer filled columns than after cleaning."""
    raw = frame.copy()
    raw.loc[raw.index[::4], "postcode"] = None
    return raw.drop(columns=["address_status", "name_plausibility"])


def _findings(frame: pd.DataFrame) -> pd.DataFrame:
    codes = [("phone", "PHONE_REFORMATTED"), ("postcode", "POSTCODE_REFORMATTED"), ("email", "EMAIL_TYPO_FIXED")]
    rows = [{"stage": "normalize", "column": c, "record_id": r, "reason_code": code, "severity": "info"}
            for i, r in enumerate(frame["record_id"]) for c, code in codes[: i % 3 + 1]]
    return pd.DataFrame(rows)


def with_duplicates(frame: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """``frame`` plus ``n`` near-copies from another source (one typo in the name, same contact data)."""
    copies = frame.head(n).copy()
    copies["record_id"] = "crm:" + copies["record_id"]
    copies["source"] = "crm"
    copies["first_name"] = copies["first_name"].str[:-1] + "x"
    copies.loc[copies.index[::2], "email"] = None
    return pd.concat([frame, copies], ignore_index=True)


@pytest.fixture(scope="module")
def run_frames(tmp_path_factory) -> dict:
    staging = planted_staging()
    linkage = dedupe(with_duplicates(staging))
    gates = run_gates(staging, golden_of(staging), accounting(103, 100, 3),
                      docs_dir=tmp_path_factory.mktemp("docs"))
    quarantine = pd.DataFrame({"source": ["outlook", "outlook", "backoffice"], "reason_code": "NO_USABLE_FIELDS"})
    return {"title": "nightly (planted problem)", "staging": _raw(staging), "quarantine": quarantine,
            "checked": staging, "findings": _findings(staging), "pairs": linkage.pairs,
            "clusters": linkage.clusters, "golden": golden_of(staging), "gates": gates,
            "thresholds": {"review": 0.6, "auto_match": 0.95}, "timings": {"import": 0.4, "normalize": 1.2}}


@pytest.fixture(scope="module")
def report_path(run_frames, tmp_path_factory) -> Path:
    return write_run_report(tmp_path_factory.mktemp("report") / "run_report.html", **run_frames)


def test_report_is_self_contained_and_has_every_chart(report_path):
    html = report_path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", html), "no external resources"
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in html
    assert html.count("<svg") >= len(SECTIONS)


def test_report_shows_why_the_gate_failed(report_path, run_frames):
    html = report_path.read_text(encoding="utf-8")
    assert "Quality gate FAILED: the run stopped; nothing was written to the golden store" in html
    assert "expect_column_values_to_not_match_regex on <code>city</code> failed on 30 of 100 rows" in html
    assert "<h2>Failed expectations</h2>" in html
    assert str(run_frames["gates"].docs_index) in html


def test_report_draws_thresholds_and_headline(report_path, run_frames):
    html = report_path.read_text(encoding="utf-8")
    assert "review (p=0.6)" in html and "auto match (p=0.95)" in html
    pairs = run_frames["pairs"]
    assert f"<b>{len(pairs):,}</b>pairs scored" in html
    assert f"<b>{run_frames['clusters']['cluster_id'].nunique():,}</b>clusters" in html


def test_default_thresholds_come_from_the_matching_rules():
    from cdq.linkage import load_settings

    s = load_settings()
    html = render_run_report(pairs=pd.DataFrame({"match_weight": [1.0, 5.0], "decision": ["review", "match"]}))
    assert f"review (p={s.review:g})" in html and f"auto match (p={s.auto_match:g})" in html


def test_report_has_no_personal_values(report_path, run_frames):
    html = report_path.read_text(encoding="utf-8")
    checked = run_frames["checked"]
    for column in ("email", "phone", "last_name", "postcode"):
        assert not any(str(v) in html for v in checked[column].dropna().head(20)), column


def test_report_without_data_still_renders(tmp_path):
    html = render_run_report(title="empty")
    assert html.count("no data in this run") == len(SECTIONS)
    assert "Quality gates: not run" in html


def test_passed_gate_banner(tmp_path):
    staging = clean_staging()
    gates = run_gates(staging)
    html = render_run_report(checked=staging, gates=gates, loaded="loaded: 3 created, 0 updated, 0 merged, 0 unchanged")
    assert "Quality gates passed" in html and "loaded: 3 created" in html


@pytest.mark.parametrize(("values", "bins", "expected_bins"), [
    ([0.1, 0.5, 0.9], [0, 0.5, 1.0], 2),
    (list(np.random.default_rng(1).normal(0, 5, 500)), 40, 40),
    ([1.0, 1.0, 1.0], 5, 5),
])
def test_histogram_bins(values, bins, expected_bins):
    assert histogram(values, "h", bins=bins).count('class="bin"') == expected_bins


def test_bar_labels_are_escaped():
    svg = bars(["<script>x</script>"], {"rows": [1]}, "t")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def _chromium_screenshot(html: Path, png: Path) -> None:
    profile = tempfile.mkdtemp(prefix="cdq-chromium-")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1280,2000",
               html.resolve().as_uri()]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": profile})
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.slow  # Chromium: run by .ci/run's second step
def test_report_renders_in_headless_chromium(report_path, tmp_path):
    if CHROMIUM is None:
        from helpers import need

        need(False, "chromium (apt-get install chromium)")
    png = tmp_path / "report.png"
    _chromium_screenshot(report_path, png)
    assert png.exists() and png.stat().st_size > 10_000
    from PIL import Image

    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert image.shape[:2] == (2000, 1280)
    # Not blank: many distinct colours, and the failed-gate banner's red tint is on screen.
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50
    reddish = (image[..., 0] > 230) & (image[..., 1] < 235) & (image[..., 2] < 230) & (image[..., 1] > 200)
    assert reddish.sum() > 5_000
    shutil.copy(png, Path(tempfile.gettempdir()) / "cdq_report_screenshot.png")
