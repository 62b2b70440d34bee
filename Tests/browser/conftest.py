"""Fixtures for the dashboard's browser tests.

Each test gets its own Ferry (``$FERRY_BIN serve`` on a fresh SQLite file and a free loopback port) and its own
headless Chromium, driven by Selenium through Debian's ``chromium-driver`` (installed by ``scripts/browser``; Selenium
is pointed at it, so it never tries to download a driver). A failing test leaves a screenshot of the page it was on in
``$FERRY_TEST_OUTPUT/browser`` (default ``.build/test-output/browser``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pysupport"))
from smtp_mailbox import Mailbox, only_our_credentials  # noqa: E402

STARTUP_TIMEOUT = 30.0
CHROMIUM = os.environ.get("FERRY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FERRY_CHROMEDRIVER", "/usr/bin/chromedriver")


def pytest_configure(config: pytest.Config) -> None:
    for name, path in (("FERRY_BIN", os.environ.get("FERRY_BIN", "")), ("chromium", CHROMIUM),
                       ("chromedriver", CHROMEDRIVER)):
        if not path or not os.access(path, os.X_OK):
            raise pytest.UsageError(f"{name} is not an executable file ({path!r}); run scripts/browser first")


@dataclass
class Ferry:
    """A running Ferry and what its first start printed."""

    base_url: str
    admin_email: str
    admin_password: str
    service_token: str
    application_id: str
    output: list[str]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_ferry(extra_environment: dict[str, str] | None = None):
    """Starts `$FERRY_BIN serve` on a fresh SQLite file and a free port; answers the process, what it printed, and
    its URL once it is ready."""
    directory = tempfile.mkdtemp(prefix="ferry-browser-")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = dict(os.environ, FERRY_LISTEN=f"127.0.0.1:{port}",
                       FERRY_DATABASE_URL=f"sqlite:{directory}/ferry.sqlite", FERRY_LOG_LEVEL="warning",
                       FERRY_PASSWORD_HASH_COST="10", FERRY_ALLOWED_TARGET_NETWORKS="127.0.0.0/8",
                       FERRY_RETRY_SCHEDULE="1s", FERRY_PUBLIC_URL=base_url)
    environment.update(extra_environment or {})
    process = subprocess.Popen([os.environ["FERRY_BIN"], "serve"], env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(base_url + "/health/ready", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError("Ferry did not start:\n" + "".join(output[-50:]))
            time.sleep(0.1)
    banner = ""
    while "service token:" not in banner and time.monotonic() < deadline:
        banner = "".join(output)
        time.sleep(0.05)
    found = {name: re.search(pattern, banner) for name, pattern in (
        ("email", r"administrator:\s+(\S+)"), ("password", r"password:\s+(\S+)"),
        ("token", r"service token:\s+(\S+)"), ("application", r"application_id:\s+(\S+)"))}
    assert all(found.values()), "the first start printed no administrator and token:\n" + banner
    ferry = Ferry(base_url, found["email"].group(1), found["password"].group(1), found["token"].group(1),
                  found["application"].group(1), output)
    return process, ferry


def stop_ferry(process) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def ferry():
    process, ferry = start_ferry()
    yield ferry
    stop_ferry(process)


@pytest.fixture
def mailbox():
    """A real SMTP server on loopback (aiosmtpd) with the credentials Ferry is given, and what it received."""
    received = Mailbox()
    controller = Controller(received, hostname="127.0.0.1", port=free_port(), authenticator=only_our_credentials,
                            auth_require_tls=False)
    controller.start()
    yield received, controller.port
    controller.stop()


@pytest.fixture
def ferry_with_mail(mailbox):
    """A Ferry that sends its account mails to the `mailbox` SMTP server."""
    _, port = mailbox
    password = urllib.parse.quote("s3cret:pw", safe="")
    process, ferry = start_ferry({"FERRY_SMTP_URL": f"smtp://ferry:{password}@127.0.0.1:{port}",
                                  "FERRY_SMTP_FROM": "Ferry Tests <ferry@example.com>"})
    yield ferry
    stop_ferry(process)


class Receiver:
    """A webhook receiver on loopback that answers 200 and counts what it got."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                received.append(self.rfile.read(length))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *arguments):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def click_in_first_row(browser, link_text: str, timeout: float = 10.0) -> None:
    """Clicks a link of the delivery log's first row. The live stream may replace the row while it is being clicked
    (it sends rows again when they change or on reconnect): then the new row is clicked."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            browser.find_element(By.CSS_SELECTOR, "table.attempts tbody tr").find_element(By.LINK_TEXT, link_text).click()
            return
        except (StaleElementReferenceException, WebDriverException):
            if time.monotonic() > deadline:
                raise


SETTLE_TIMEOUT = 10


def settle(browser, timeout: float = SETTLE_TIMEOUT):
    """A wait that rides out a page being replaced: while a form's answer or a live refresh swaps the document,
    chromedriver may report the old page's nodes as stale or as belonging to no document; both mean "not yet"."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException, WebDriverException))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def browser(request):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = Path(os.environ.get("FERRY_TEST_OUTPUT", ".build/test-output")) / "browser"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{request.node.name}.png"
        driver.save_screenshot(str(path))
        print(f"screenshot of the failing page: {path}")
    driver.quit()
