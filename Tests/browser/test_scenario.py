"""One person's whole first session in a real browser, against a Ferry that sends real mail (aiosmtpd on loopback):
register, verify through the mail's link, set up an application on its pages, send an event with the Hook0 Python
SDK and watch it arrive live, replay it, send it again to one subscription, invite a viewer who sees no edit action
and is refused when forcing one, and sign out."""

from __future__ import annotations

import re
import time
import urllib.parse

import hook0
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as condition

from conftest import click_in_first_row, settle

WAIT = 10


def link_in(message, path: str) -> str:
    found = re.search(rf"(http://\S+/{path}\?\S+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def h1_is(browser, text):
    settle(browser).until(condition.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))


def says(browser, text):
    settle(browser).until(condition.text_to_be_present_in_element((By.ID, "main"), text))


def press(browser, text):
    """Presses a form's button and waits until the page it posts to has replaced this one (a click returns
    before the next page loads, so reading right after it could find the old page, or nothing)."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.XPATH, f"//button[normalize-space()='{text}']").click()
    settle(browser).until(condition.staleness_of(page))


def fill(browser, **fields):
    for field, value in fields.items():
        element = browser.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)


def received_count(receiver, count):
    deadline = time.monotonic() + WAIT
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(receiver.received)


def test_a_new_person_registers_sets_up_delivers_and_shares_read_only(browser, ferry_with_mail, mailbox, receiver):
    messages, _ = mailbox
    base = ferry_with_mail.base_url
    address = "ada@example.com"

    # Register, then verify through the link of the mail the SMTP server received.
    browser.get(base + "/login")
    browser.find_element(By.LINK_TEXT, "Create an account").click()
    h1_is(browser, "Create an account")
    fill(browser, first_name="Ada", last_name="Lovelace", email=address, password="analytical-engine-1843")
    press(browser, "Create the account")
    h1_is(browser, "Check your e-mail")
    assert address in browser.find_element(By.ID, "main").text
    resend = browser.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Send the link again')]")
    assert not resend.is_enabled() and "(in " in resend.text, "the resend button waits out its minute"
    browser.get(link_in(messages.wait_for(address, "Verify"), "verify-email"))
    press(browser, "Verify my address")
    h1_is(browser, "Organizations")
    says(browser, "Your address is verified")

    # An application on its own pages: the personal organization, an application, an event type, a subscription.
    browser.find_element(By.LINK_TEXT, "Ada Lovelace's personal organization").click()
    h1_is(browser, "Ada Lovelace's personal organization")
    fill(browser, **{"application-name": "Shop"})
    press(browser, "Create application")
    h1_is(browser, "Shop")
    assert "Getting started" in browser.find_element(By.ID, "main").text
    application_id = browser.current_url.split("/applications/")[1].split("?")[0]
    browser.find_element(By.LINK_TEXT, "Declare an event type").click()
    fill(browser, service="billing", resource_type="invoice", verb="paid")
    press(browser, "Create event type")
    says(browser, "was created")
    browser.find_element(By.LINK_TEXT, "Subscriptions").click()
    browser.find_element(By.LINK_TEXT, "New subscription").click()
    fill(browser, description="loopback receiver", url=receiver.url, labels="env=demo")
    browser.find_element(By.XPATH, "//label[code='billing.invoice.paid']").click()
    press(browser, "Create subscription")
    says(browser, "was created")
    subscription_path = urllib.parse.urlparse(browser.current_url).path

    # A service token for the SDK, shown once.
    browser.find_element(By.CSS_SELECTOR, "nav.crumbs a:nth-of-type(2)").click()
    browser.find_element(By.LINK_TEXT, "Service tokens").click()
    fill(browser, **{"token-name": "sdk"})
    press(browser, "Create token")
    token = browser.find_element(By.ID, "created-token").get_attribute("value")
    assert len(token) > 100

    # The delivery log is open and live; the SDK sends an event; its successful attempt appears without a reload.
    browser.get(f"{base}{subscription_path.split('/subscriptions/')[0]}/deliveries")
    settle(browser).until(
        condition.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-live-state]"), "Live"))
    client = hook0.Hook0Client(base + "/api/v1", application_id, token)
    event_id = client.send_event(hook0.Event(
        event_type="billing.invoice.paid", payload='{"invoice": 1843}', payload_content_type="application/json",
        labels={"env": "demo"}))
    settle(browser).until(condition.text_to_be_present_in_element(
        (By.CSS_SELECTOR, "table.attempts tbody tr"), "Successful"))
    assert received_count(receiver, 1) == 1 and b'"invoice": 1843' in receiver.received[0]

    # Replay (every subscription), then send again to this subscription only.
    click_in_first_row(browser, "billing.invoice.paid")
    h1_is(browser, "Event")
    assert str(event_id) in browser.find_element(By.ID, "main").text
    press(browser, "Replay to every subscription")
    says(browser, "being sent again to every subscription")
    assert received_count(receiver, 2) == 2
    press(browser, "Send again to this subscription")
    says(browser, "being sent again to that subscription")
    assert received_count(receiver, 3) == 3

    # A viewer, invited by mail, registers from the link and sees no edit action.
    browser.find_element(By.CSS_SELECTOR, "nav.crumbs a:nth-of-type(2)").click()
    browser.find_element(By.LINK_TEXT, "Members").click()
    fill(browser, **{"invite-email": "viewer@example.com"})
    press(browser, "Invite")
    says(browser, "The invitation was sent")
    invitation = link_in(messages.wait_for("viewer@example.com", "invited"), "register")
    press(browser, "Sign out")
    h1_is(browser, "Sign in")
    browser.get(invitation)
    h1_is(browser, "Create an account")
    assert "as viewer" in browser.find_element(By.ID, "main").text
    fill(browser, first_name="Vi", last_name="Ewer", email="viewer@example.com", password="read-only-harbour-5")
    press(browser, "Create the account")
    h1_is(browser, "Organizations")
    browser.get(base + subscription_path)
    h1_is(browser, "loopback receiver")
    main = browser.find_element(By.ID, "main").text
    assert "Save changes" not in main and "Delete" not in main and "Send a test event" not in main
    forced = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const body = new URLSearchParams({csrf: document.querySelector("input[name=csrf]").value});
        fetch(arguments[0], {method: "POST", body, redirect: "manual"}).then((answer) => done(answer.status));
    """, subscription_path + "/delete")
    assert forced == 403
    browser.refresh()
    h1_is(browser, "loopback receiver")

    press(browser, "Sign out")
    h1_is(browser, "Sign in")
    browser.get(base + subscription_path)
    settle(browser).until(condition.url_to_be(base + "/login"))
    problems = [entry["message"] for entry in browser.get_log("browser")
                if entry["level"] == "SEVERE" and "403" not in entry["message"]]
    assert not problems, problems
