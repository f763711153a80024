"""The steward console and the customer portal in a real browser: Chromium and chromedriver from the OS
packages, driven by Selenium, against ``cdq serve`` on a loopback port. Every page is screenshotted and
checked to be non-blank (the PNGs land in the test's folder; ``CDQ_SCREENSHOTS=DIR`` copies them there)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from helpers import need, running
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.golden import merge_batch
from cdq.store import GoldenStore
from cdq.survivorship import load_rules
from cdq.web import tokens
from cdq.web.users import add_user

pytestmark = pytest.mark.slow  # Chromium: run by .ci/run's second step
PASSWORD = "correct horse battery staple"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture()
def browser():
    need(bool(CHROMIUM and DRIVER), "Chromium and chromedriver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def shot(driver, folder: Path, name: str) -> Path:
    """A screenshot of the current page, checked to show more than one colour (not blank)."""
    from PIL import Image

    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 20, f"{name}: the page looks blank"
    target = os.environ.get("CDQ_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path


def _demo(tmp_path: Path) -> tuple[str, Path]:
    work = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--workdir", str(work)])
    assert result.exit_code == 0, result.output
    return f"sqlite:///{work / 'golden.sqlite'}", work


def _merge_two(store: GoldenStore) -> tuple[str, str]:
    """Merge the first two active golden records (as a nightly run would) so there is a merge to undo."""
    members = store.table("source_records").merge(store.table("xref"), left_on="id", right_on="source_record_id")
    first = members.sort_values("golden_id").drop_duplicates("golden_id").head(2)
    payloads = pd.DataFrame([json.loads(p) for p in first["payload"]])
    payloads["record_id"] = first["ref"].to_numpy()
    clusters = pd.DataFrame({"record_id": payloads["record_id"], "cluster_id": "c"})
    merge_batch(payloads, clusters, store, load_rules(), store.start_run("test-merge"))
    survivor, retired = sorted(first["golden_id"])
    return survivor, retired


def test_steward_console_in_a_real_browser(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    store_url, work = _demo(tmp_path)
    store = GoldenStore(store_url)
    add_user(store, "stew", "steward", PASSWORD)
    survivor, retired = _merge_two(store)
    with running(store=store_url, workdir=str(work)) as srv:
        browser.get(f"{srv.url}/steward/review")
        assert browser.current_url.endswith("/steward/login")
        shot(browser, tmp_path, "console-login")
        browser.find_element(By.ID, "name").send_keys("stew")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "login").click()
        WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/steward/review"))
        assert browser.find_element(By.ID, "pair").is_displayed()
        refs = [e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "input[name=ref_a], "
                                                                                          "input[name=ref_b]")][:2]
        shot(browser, tmp_path, "console-review")
        browser.find_element(By.TAG_NAME, "body").send_keys("m")  # the keyboard shortcut for "same customer"
        WebDriverWait(browser, 60).until(lambda d: "done=1" in d.current_url or d.find_elements(By.ID, "refused"))
        if "done=1" not in browser.current_url:  # a cannot-link rule refused it: the reason, and a way to force
            assert "cannot-link" in browser.find_element(By.ID, "refused").text
            shot(browser, tmp_path, "console-review-refused")
            browser.find_element(By.ID, "force-match").click()
            WebDriverWait(browser, 60).until(lambda d: "done=1" in d.current_url)
        assert browser.find_element(By.ID, "decided").is_displayed()
        decisions = store.table("review_decisions")
        assert sorted(refs) in [sorted(p) for p in zip(decisions["ref_a"], decisions["ref_b"])]
        assert decisions["decided_by"].eq("stew").any()

        browser.get(f"{srv.url}/steward/customers")
        golden = json.loads(store.table("golden_records").set_index("golden_id").at[survivor, "data"])
        browser.find_element(By.ID, "q").send_keys(f"{golden.get('postcode')} {golden.get('house_number')}")
        browser.find_element(By.ID, "search").click()
        WebDriverWait(browser, 30).until(lambda d: "q=" in d.current_url)
        assert survivor in browser.find_element(By.ID, "results").text
        shot(browser, tmp_path, "console-search")
        browser.find_element(By.LINK_TEXT, survivor).click()
        WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith(f"/customers/{survivor}"))
        assert retired in browser.find_element(By.ID, "retired").text
        shot(browser, tmp_path, "console-customer")
        browser.find_element(By.ID, f"unmerge-{retired}").click()
        WebDriverWait(browser, 30).until(lambda d: not d.find_elements(By.ID, f"unmerge-{retired}"))
        assert browser.find_element(By.ID, "golden-id").text.startswith(survivor)
        assert not browser.find_elements(By.ID, "retired")
        status = store.table("golden_records").set_index("golden_id")["status"]
        assert status[retired] == "active" and status[survivor] == "active"  # the old ids are back
        browser.get(f"{srv.url}/steward/runs")
        assert "test-merge" in browser.find_element(By.ID, "runs").text
        shot(browser, tmp_path, "console-runs")
        browser.find_element(By.ID, "report").click()
        assert "cdq run" in browser.title or browser.find_elements(By.TAG_NAME, "h1")
    audit = store.table("console_audit")
    assert {"login", "review_match", "unmerge"} <= set(audit["action"])


def test_customer_corrects_the_address_in_a_real_browser_and_the_nightly_run_loads_it(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    store_url, work = _demo(tmp_path)
    store = GoldenStore(store_url)
    rows = store.table("golden_records")
    person = next(g for g, d, s in zip(rows["golden_id"], rows["data"], rows["status"])
                  if s == "active" and json.loads(d).get("last_name") and json.loads(d).get("postcode"))
    reference = pd.read_csv(Path(__file__).resolve().parents[1] / "reference_data" / "demo_bag.csv", sep=";",
                            dtype=str)
    current = json.loads(rows.set_index("golden_id").at[person, "data"])
    target = reference[reference["postcode"].str.replace(" ", "") != str(current["postcode"]).replace(" ", "")]
    # one address at its postcode + number: typing those two settles street, city and letter/addition
    unique = target.groupby(["postcode", "huisnummer"])["straat"].transform("size") == 1
    target = target[unique].iloc[0]
    token = tokens.issue(store, person)
    with running(store=store_url) as srv:
        browser.get(f"{srv.url}/mijn-gegevens/?t={token}")
        shot(browser, tmp_path, "portal-open")
        for name, value in (("postcode", target["postcode"]), ("house_number", target["huisnummer"])):
            field = browser.find_element(By.ID, name)
            field.clear()
            field.send_keys(value)
        WebDriverWait(browser, 20).until(
            lambda d: d.find_element(By.ID, "street").get_attribute("value") == target["straat"])
        assert browser.find_element(By.ID, "city").get_attribute("value") == target["woonplaats"]
        shot(browser, tmp_path, "portal-filled")
        browser.find_element(By.ID, "confirm").click()
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "thanks"))
        assert browser.find_element(By.ID, "thanks").is_displayed()
        shot(browser, tmp_path, "portal-done")
        browser.get(f"{srv.url}/mijn-gegevens/?t={token}")
        assert browser.find_element(By.ID, "refused").is_displayed()  # the link is used up
    golden = json.loads(store.table("golden_records").set_index("golden_id").at[person, "data"])
    assert (golden["street"], golden["city"]) == (target["straat"], target["woonplaats"])
    result = CliRunner().invoke(app, ["demo", "--workdir", str(work)])  # the next nightly run
    assert result.exit_code == 0, result.output
    with sa.create_engine(f"sqlite:///{work / 'crm.sqlite'}").connect() as conn:
        loaded = pd.read_sql(sa.text("select * from contacts where cdq_golden_id = :g"), conn, params={"g": person})
    assert loaded["street"].tolist() == [target["straat"]] and loaded["city"].tolist() == [target["woonplaats"]]
    sources = store.table("source_records")
    assert sources["source"].eq("customer_self_service").sum() == 1
