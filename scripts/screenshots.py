"""Takes the README's dashboard screenshots (docs/images/*.png) from a fresh `ferry serve` with a little traffic:
an application with two subscriptions to a loopback receiver (one answering 200, one 500), a few dozen events, then
the application's overview, the live delivery log and an event's routing explanation, in headless Chromium.

    FERRY_BIN=.build/release/ferry .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "browser"))

from conftest import CHROMEDRIVER, CHROMIUM, start_ferry, stop_ferry  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = 500 if self.path.endswith("/broken") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *arguments):
        pass


def main() -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hooks = f"http://127.0.0.1:{receiver.server_address[1]}"
    process, ferry = start_ferry({"FERRY_RETRY_SCHEDULE": "30s,5m"})

    def api(method, path, body):
        request = urllib.request.Request(ferry.base_url + "/api/v1" + path, method=method,
                                         data=json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {ferry.service_token}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")

    application = ferry.application_id
    for verb in ("paid", "refunded"):
        api("POST", "/event_types", {"application_id": application, "service": "billing",
                                     "resource_type": "invoice", "verb": verb})
    for name, path in (("Accounting service", "/hook"), ("Legacy CRM", "/broken")):
        api("POST", "/subscriptions", {
            "application_id": application, "is_enabled": True, "description": name,
            "event_types": ["billing.invoice.paid"] if path == "/broken" else ["billing.invoice.paid",
                                                                                "billing.invoice.refunded"],
            "labels": {"env": "prod"}, "target": {"type": "http", "method": "POST", "url": hooks + path,
                                                  "headers": {}}})
    event_ids = []
    for number in range(24):
        event = api("POST", "/event", {
            "application_id": application, "event_type": "billing.invoice." + ("refunded" if number % 5 == 4 else "paid"),
            "payload": json.dumps({"invoice": 1000 + number, "amount_cents": 4200 + number}),
            "payload_content_type": "application/json", "labels": {"env": "prod" if number % 7 else "staging"},
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        event_ids.append(event["event_id"])
        time.sleep(0.05)
    time.sleep(2)

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1500", "--hide-scrollbars"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        browser.get(ferry.base_url + "/login")
        browser.find_element(By.ID, "email").send_keys(ferry.admin_email)
        browser.find_element(By.ID, "password").send_keys(ferry.admin_password)
        browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
        time.sleep(0.5)
        organization = browser.find_element(By.CSS_SELECTOR, "h2 a").get_attribute("href").rsplit("/", 1)[1]
        base = f"{ferry.base_url}/organizations/{organization}/applications/{application}"
        images = ROOT / "docs" / "images"
        images.mkdir(parents=True, exist_ok=True)
        for name, url in (("application-dashboard", base + "?days=7"), ("delivery-log", base + "/deliveries"),
                          ("event-routing", base + "/events/" + event_ids[4])):
            browser.get(url)
            time.sleep(1.0)
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(1280, min(max(height, 700), 2200))
            time.sleep(0.3)
            browser.save_screenshot(str(images / f"{name}.png"))
            print(images / f"{name}.png")
    finally:
        browser.quit()
        stop_ferry(process)
        receiver.shutdown()


if __name__ == "__main__":
    if not os.environ.get("FERRY_BIN"):
        sys.exit("set FERRY_BIN to a ferry binary")
    main()
