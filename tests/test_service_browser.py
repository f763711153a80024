"""The form widget in a real browser (Chromium + chromedriver from the OS packages, driven by Selenium), and
leads reaching BottleCRM's lead object. The service runs on uvicorn on a loopback port."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import customer, demo_addresses, need, running

pytestmark = pytest.mark.slow  # Chromium: run by .ci/run's second step
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture()
def browser():
    need(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists() or bool(shutil.which("chromedriver")),
         "chromium and chromedriver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1000,1200"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver")),
                              options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()




def _wait(driver, condition, timeout: float = 30.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def _type(driver, name: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.NAME, name)
    field.clear()
    field.send_keys(text)


def _value(driver, name: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.NAME, name).get_attribute("value") or ""


def test_lead_form_fills_the_address_warns_and_submits_a_lead(store_copy, tmp_path, browser):
    from selenium.webdriver.common.by import By

    (postcode, number), rows = next((k, v) for k, v in demo_addresses().items() if len(v) >= 2)
    crm = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    with running(store=store_copy, crm=crm) as srv:
        browser.get(f"{srv.url}/examples/lead-form.html#key={srv.key}")
        _type(browser, "first_name", "Asdfgh")
        _type(browser, "last_name", "Qwerty")
        _wait(browser, lambda d: "naam" in d.find_element(By.CSS_SELECTOR, "[data-cdq=name-warning]").text.lower())
        _type(browser, "first_name", "Femke")
        _type(browser, "last_name", "Oudshoorn")
        _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-cdq=name-warning]").text == "")
        _type(browser, "postcode", postcode[:4] + " " + postcode[4:].lower())
        _type(browser, "house_number", number)
        _wait(browser, lambda d: _value(d, "street") == rows[0]["straat"])
        assert _value(browser, "city") == rows[0]["woonplaats"]
        offered = browser.find_element(By.ID, "lead-form").get_attribute("data-cdq-additions").split(",")
        assert len(offered) == len(rows)
        _type(browser, "email", "femke.oudshoorn@example.nl")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _wait(browser, lambda d: "Bedankt" in d.find_element(By.CSS_SELECTOR, "[data-cdq=result]").text)
        form = browser.find_element(By.ID, "lead-form")
        lead_id, outcome = form.get_attribute("data-cdq-lead"), form.get_attribute("data-cdq-outcome")
        assert outcome == "created"
        leads = srv.store.table("leads").set_index("lead_id")
        record = json.loads(leads.at[lead_id, "record"])
        assert record["street"] == rows[0]["straat"] and record["last_name"] == "Oudshoorn"
        assert leads.at[lead_id, "source_code"] == "website" and leads.at[lead_id, "qualification"] == "warm"
        with sa.create_engine(crm).connect() as conn:
            pushed = conn.execute(sa.text("select golden_id, campaign from cdq_leads where lead_id = :l"),
                                  {"l": lead_id}).one()
        assert pushed == (leads.at[lead_id, "golden_id"], "voorjaar-adviesgesprek")

        known = customer(store_copy)  # an existing customer typing the form: warned, and attached
        browser.get(f"{srv.url}/examples/lead-form.html#key={srv.key}")
        browser.refresh()
        for name in ("first_name", "last_name", "email", "postcode", "house_number"):
            _type(browser, name, known[name])
        browser.find_element(By.NAME, "phone").click()  # leave the e-mail field: its change event fires
        _wait(browser, lambda d: "bekend" in d.find_element(By.CSS_SELECTOR, "[data-cdq=existing]").text)
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _wait(browser, lambda d: d.find_element(By.ID, "lead-form").get_attribute("data-cdq-outcome") == "matched")
        lead_id = browser.find_element(By.ID, "lead-form").get_attribute("data-cdq-lead")
        assert srv.store.table("leads").set_index("lead_id").at[lead_id, "golden_id"] == known["golden_id"]


@pytest.mark.bottlecrm
def test_leads_reach_bottlecrm_as_leads(store_copy, bottlecrm_org):
    import urllib.request

    base, token = bottlecrm_org
    known = customer(store_copy)
    with running(store=store_copy, crm=f"bottlecrm+{base}") as srv:
        lead = {"first_name": known["first_name"], "last_name": known["last_name"], "email": known["email"],
                "postcode": known["postcode"], "house_number": known["house_number"], "source_code": "website",
                "qualification": "warm", "campaign": "voorjaar"}
        status, first, _ = srv.client.call("POST", "/v1/leads", lead, headers={"Idempotency-Key": "b1"})
        assert status == 201 and first["golden_id"] == known["golden_id"]
        status, second, _ = srv.client.call("POST", "/v1/leads", {**lead, "source_code": "phone"})
        assert status == 201
        leads = srv.store.table("leads").set_index("lead_id")
        assert leads.at[first["lead_id"], "crm_status"] == "created"
        assert leads.at[second["lead_id"], "crm_status"] == "exists"  # one BottleCRM lead per e-mail
        assert leads.at[second["lead_id"], "crm_id"] == leads.at[first["lead_id"], "crm_id"]
    request = urllib.request.Request(f"{base}/api/leads/?limit=100", headers={"Authorization": f"Bearer {token}"})
    for _ in range(10):
        body = json.loads(urllib.request.urlopen(request, timeout=30).read())
        found = body["open_leads"]["open_leads"] + body["close_leads"]["close_leads"]
        if found:
            break
        time.sleep(1)
    assert len(found) == 1
    crm_lead = found[0]
    assert crm_lead["source_ref"] == known["golden_id"] and crm_lead["rating"] == "WARM"
    assert crm_lead["source"] == "web form" and crm_lead["email"] == known["email"].lower()
