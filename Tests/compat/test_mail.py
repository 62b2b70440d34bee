"""Account mails over a real SMTP server on loopback (aiosmtpd): Ferry sends the verification mail of a
registration through its outbox with AUTH PLAIN, the test reads the mail as received and follows its link; the
password-reset mail works once."""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from aiosmtpd.controller import Controller

from conftest import RestClient, free_port

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pysupport"))
from smtp_mailbox import Mailbox, only_our_credentials  # noqa: E402


@pytest.fixture
def mail_server():
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, authenticator=only_our_credentials, auth_require_tls=False)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def ferry_with_smtp(tmp_path, mail_server):
    _, smtp_port = mail_server
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("FERRY_")}
    env.update({
        "FERRY_LISTEN": f"127.0.0.1:{port}",
        "FERRY_DATABASE_URL": f"sqlite:{tmp_path}/ferry.sqlite",
        "FERRY_PASSWORD_HASH_COST": "10",
        "FERRY_SMTP_URL": f"smtp://ferry:{urllib.parse.quote('s3cret:pw', safe='')}@127.0.0.1:{smtp_port}",
        "FERRY_SMTP_FROM": "Ferry Tests <ferry@example.com>",
        "FERRY_PUBLIC_URL": f"http://127.0.0.1:{port}",
    })
    log = open(tmp_path / "ferry.log", "wb")
    process = subprocess.Popen(
        [os.path.abspath(os.environ["FERRY_BIN"]), "serve"], env=env, stdout=log, stderr=log,
        stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/instance", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail((tmp_path / "ferry.log").read_text())
            time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def link_value(message: email.message.EmailMessage, parameter: str) -> str:
    body = message.get_content()
    found = re.search(rf"\?{parameter}=(\S+)", body)
    assert found, body
    return urllib.parse.unquote(found.group(1))


def test_a_registration_mail_arrives_over_smtp_and_its_link_verifies(ferry_with_smtp, mail_server):
    mailbox, _ = mail_server
    anonymous = RestClient(ferry_with_smtp, None)
    address = f"mail-{uuid.uuid4().hex[:8]}@example.com"
    password = "porcelain-harbor-62"
    anonymous.post("/api/v1/register", {
        "first_name": "Mäil", "last_name": "Tester", "email": address, "password": password}).expect(201)
    message = mailbox.wait_for(address, "Verify")
    assert message["From"] == "Ferry Tests <ferry@example.com>"
    assert str(message["Subject"]) == "Verify your Ferry e-mail address"
    assert "Hello Mäil," in message.get_content()
    token = link_value(message, "token")
    verified = anonymous.post("/api/v1/auth/verify-email", {"token": token}).expect(201)
    assert verified["email"] == address
    mailbox.wait_for(address, "ready")

    anonymous.post("/api/v1/auth/begin-reset-password", {"email": address.upper()}).expect(204)
    reset = link_value(mailbox.wait_for(address, "Reset"), "token")
    anonymous.post("/api/v1/auth/reset-password", {"token": reset, "new_password": "velvet-lantern-17"}).expect(204)
    again = anonymous.post("/api/v1/auth/reset-password", {"token": reset, "new_password": "velvet-lantern-18"})
    assert again.status == 401
    anonymous.post("/api/v1/auth/login", {"email": address, "password": "velvet-lantern-17"}).expect(201)
