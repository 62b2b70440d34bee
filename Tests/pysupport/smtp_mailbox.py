"""A real SMTP server's mailbox for the Python suites (Tests/compat, Tests/browser): aiosmtpd keeps every message
it accepts here, and a test waits for the one it expects."""

from __future__ import annotations

import email
import email.message
import email.policy
import threading
import time

from aiosmtpd.smtp import AuthResult, LoginPassword

class Mailbox:
    """Keeps every message the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def wait_for(self, recipient: str, subject_part: str, timeout: float = 20.0) -> email.message.EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for _, recipients, message in self.messages:
                    if recipient in recipients and subject_part in str(message["Subject"]):
                        return message
            time.sleep(0.1)
        raise AssertionError(f"no mail to {recipient} about {subject_part!r}; got {len(self.messages)} mail(s)")


def only_our_credentials(server, session, envelope, mechanism, auth_data):
    valid = isinstance(auth_data, LoginPassword) and auth_data.login == b"ferry" and auth_data.password == b"s3cret:pw"
    return AuthResult(success=valid)
