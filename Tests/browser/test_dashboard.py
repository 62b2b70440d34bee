"""The dashboard in a real browser: Debian's Chromium, headless, driven by Selenium."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from datetime import datetime, timezone

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as condition

from conftest import click_in_first_row, settle

WAIT = 10  # seconds a page may take to appear


def sign_in(browser, ferry, password=None):
    browser.get(ferry.base_url + "/login")
    browser.find_element(By.ID, "email").send_keys(ferry.admin_email)
    browser.find_element(By.ID, "password").send_keys(password or ferry.admin_password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()


def heading(browser):
    return settle(browser).until(condition.presence_of_element_located((By.TAG_NAME, "h1"))).text


def test_a_person_signs_in_sees_their_organization_and_signs_out(browser, ferry):
    browser.get(ferry.base_url + "/")
    settle(browser).until(condition.url_to_be(ferry.base_url + "/login"))
    sign_in(browser, ferry)
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Organizations"))
    main = browser.find_element(By.ID, "main").text
    assert "My organization" in main and "editor" in main
    assert "My application" in main
    assert ferry.admin_email in browser.find_element(By.CSS_SELECTOR, "header").text

    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    settle(browser).until(condition.url_to_be(ferry.base_url + "/login"))
    assert heading(browser) == "Sign in"
    browser.get(ferry.base_url + "/")
    settle(browser).until(condition.url_to_be(ferry.base_url + "/login"))


def test_a_wrong_password_is_said_on_the_form_and_opens_nothing(browser, ferry):
    sign_in(browser, ferry, password="certainly-not-the-password")
    alert = settle(browser).until(condition.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    assert alert.text == "Wrong e-mail address or password."
    assert browser.find_element(By.ID, "email").get_attribute("value") == ferry.admin_email
    browser.get(ferry.base_url + "/")
    settle(browser).until(condition.url_to_be(ferry.base_url + "/login"))


def test_the_policy_lets_the_pages_own_stylesheet_in_and_nothing_is_blocked(browser, ferry):
    sign_in(browser, ferry)
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Organizations"))
    # The stylesheet applied: the header bar has its dark background (`--ink`, #1d2330).
    bar = browser.find_element(By.CSS_SELECTOR, "header.bar")
    assert bar.value_of_css_property("background-color") == "rgba(29, 35, 48, 1)"
    problems = [entry["message"] for entry in browser.get_log("browser")
                if entry["level"] in ("SEVERE", "WARNING")]
    assert not problems, problems


def test_the_sign_in_form_is_labelled_and_works_from_the_keyboard_alone(browser, ferry):
    browser.get(ferry.base_url + "/login")
    fields = [field for field in browser.find_elements(By.TAG_NAME, "input")
              if field.get_attribute("type") != "hidden"]
    labelled = {label.get_attribute("for") for label in browser.find_elements(By.TAG_NAME, "label")}
    assert fields and all(field.get_attribute("id") in labelled for field in fields)
    email = browser.find_element(By.ID, "email")
    assert browser.switch_to.active_element == email, "the address field has the focus"
    email.send_keys(ferry.admin_email + "\t" + ferry.admin_password + "\n")
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Organizations"))


def api(ferry, method, path, body):
    request = urllib.request.Request(ferry.base_url + "/api/v1" + path, method=method, data=json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {ferry.service_token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def test_a_delivery_made_through_the_api_shows_in_the_log_and_on_its_events_page(browser, ferry, receiver):
    application = ferry.application_id
    api(ferry, "POST", "/event_types",
        {"application_id": application, "service": "billing", "resource_type": "invoice", "verb": "paid"})
    api(ferry, "POST", "/subscriptions",
        {"application_id": application, "is_enabled": True, "event_types": ["billing.invoice.paid"],
         "labels": {"env": "demo"}, "description": "loopback receiver",
         "target": {"type": "http", "method": "POST", "url": receiver.url, "headers": {}}})
    event_id = str(uuid.uuid4())
    api(ferry, "POST", "/event",
        {"application_id": application, "event_id": event_id, "event_type": "billing.invoice.paid",
         "payload": json.dumps({"invoice": 42}), "payload_content_type": "application/json",
         "labels": {"env": "demo"}, "occurred_at": datetime.now(timezone.utc).isoformat()})
    deadline = time.monotonic() + 10
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.received, "the receiver got the delivery"

    sign_in(browser, ferry)
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Organizations"))
    browser.find_element(By.LINK_TEXT, "My application").click()
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "My application"))
    browser.find_element(By.LINK_TEXT, "Events").click()
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Events"))
    assert event_id in browser.find_element(By.ID, "main").text
    browser.find_element(By.LINK_TEXT, "Deliveries").click()
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Deliveries"))
    # The attempt is recorded just after the receiver answers: reload until it shows as successful.
    deadline = time.monotonic() + 10
    while "Successful" not in browser.find_element(By.ID, "main").text and time.monotonic() < deadline:
        time.sleep(0.2)
        browser.refresh()
    row = browser.find_element(By.CSS_SELECTOR, "table.attempts tbody tr")
    assert "Successful" in row.text and "200" in row.text and "loopback receiver" in row.text

    row.find_element(By.LINK_TEXT, "billing.invoice.paid").click()
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Event"))
    main = browser.find_element(By.ID, "main").text
    assert event_id in main and '"invoice": 42' in main
    route = browser.find_element(By.CSS_SELECTOR, "section.route")
    assert "loopback receiver" in route.text and "Sent" in route.text


def click_button(browser, text):
    browser.find_element(By.XPATH, f"//button[normalize-space()='{text}']").click()


def test_an_application_is_set_up_on_its_pages_and_a_delivery_appears_live(browser, ferry, receiver):
    sign_in(browser, ferry)
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Organizations"))
    browser.find_element(By.LINK_TEXT, "My application").click()
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "My application"))
    browser.find_element(By.LINK_TEXT, "Event types").click()
    for field, value in (("service", "billing"), ("resource_type", "invoice"), ("verb", "paid")):
        browser.find_element(By.ID, field).send_keys(value)
    click_button(browser, "Create event type")
    settle(browser).until(condition.text_to_be_present_in_element((By.ID, "main"), "was created"))

    browser.find_element(By.LINK_TEXT, "Subscriptions").click()
    browser.find_element(By.LINK_TEXT, "New subscription").click()
    browser.find_element(By.ID, "description").send_keys("loopback receiver")
    browser.find_element(By.ID, "url").send_keys(receiver.url)
    browser.find_element(By.XPATH, "//label[code='billing.invoice.paid']").click()
    browser.find_element(By.ID, "labels").send_keys("env=demo")
    click_button(browser, "Create subscription")
    settle(browser).until(condition.text_to_be_present_in_element((By.ID, "main"), "was created"))
    assert heading(browser) == "loopback receiver"

    # The test send goes to the receiver, signed, and the page shows the request and the answer.
    click_button(browser, "Send a test event")
    result = settle(browser).until(condition.presence_of_element_located((By.ID, "test-send")))
    assert "Delivered: the receiver answered 200" in result.text and "x-hook0-signature" in result.text
    assert len(receiver.received) == 1 and b'"test":true' in receiver.received[0]

    # The delivery log follows the stream: an event sent now shows up, successful, without a reload.
    browser.find_element(By.LINK_TEXT, "Deliveries").click()
    settle(browser).until(condition.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-live-state]"), "Live"))
    event_id = str(uuid.uuid4())
    api(ferry, "POST", "/event",
        {"application_id": ferry.application_id, "event_id": event_id, "event_type": "billing.invoice.paid",
         "payload": json.dumps({"invoice": 7}), "payload_content_type": "application/json",
         "labels": {"env": "demo"}, "occurred_at": datetime.now(timezone.utc).isoformat()})
    settle(browser).until(condition.text_to_be_present_in_element(
        (By.CSS_SELECTOR, "table.attempts tbody tr"), "Successful"))
    assert "loopback receiver" in browser.find_element(By.CSS_SELECTOR, "table.attempts tbody tr").text
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-live-empty]")

    # The attempt's page shows the request the worker sent, signatures included, and the answer.
    browser.find_element(By.CSS_SELECTOR, "table.attempts tbody tr a.status").click()
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Delivery attempt"))
    main = browser.find_element(By.ID, "main").text
    assert "POST " + receiver.url in main and "x-hook0-signature: " in main and "webhook-signature: v1," in main
    assert '"invoice": 7' in main and "HTTP 200 in" in main
    browser.back()

    # Sending again to that subscription alone makes a second attempt, which appears live too.
    click_in_first_row(browser, "billing.invoice.paid")
    click_button(browser, "Send again to this subscription")
    settle(browser).until(condition.text_to_be_present_in_element(
        (By.ID, "main"), "being sent again to that subscription"))
    deadline = time.monotonic() + WAIT
    while len(receiver.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.received) == 3
    problems = [entry["message"] for entry in browser.get_log("browser")
                if entry["level"] in ("SEVERE", "WARNING")]
    assert not problems, problems
