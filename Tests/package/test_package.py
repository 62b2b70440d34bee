"""The release tarball (scripts/package) stands alone: its `ferry`, copied by itself into an empty folder, needs no
Swift runtime libraries and no resource folder, serves the API, the OpenAPI document and the dashboard, and runs
the README's tour to a delivery its own `ferry receiver` finds correctly signed; its systemd unit passes
`systemd-analyze verify`.

FERRY_PACKAGE names the tarball (scripts/test builds it with scripts/package)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = os.environ.get("FERRY_PACKAGE")
pytestmark = pytest.mark.skipif(not PACKAGE, reason="FERRY_PACKAGE is not set (scripts/test sets it)")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(method, url, token=None, body=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read().decode()
        return answer.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(PACKAGE) as archive:
        archive.extractall(folder, filter="data")
    (top,) = list(folder.iterdir())
    return top


def test_the_tarball_holds_the_binary_its_documents_a_unit_and_an_example_environment(unpacked):
    assert sorted(path.name for path in unpacked.iterdir()) == [
        "LICENSE", "README.md", "ferry", "ferry.env.example", "ferry.service"]
    assert os.access(unpacked / "ferry", os.X_OK)
    example = (unpacked / "ferry.env.example").read_text()
    assert "#FERRY_LISTEN=127.0.0.1:8080" in example and "#FERRY_DATABASE_URL=sqlite:ferry.sqlite" in example


def test_the_binary_links_no_swift_runtime(unpacked):
    libraries = subprocess.run(["ldd", str(unpacked / "ferry")], capture_output=True, text=True, check=True).stdout
    assert "libswift" not in libraries and "libFoundation" not in libraries, libraries


def test_the_systemd_unit_verifies(unpacked, tmp_path):
    unit = tmp_path / "ferry.service"
    unit.write_text((unpacked / "ferry.service").read_text().replace("/usr/local/bin/ferry", str(unpacked / "ferry")))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", result


def test_the_binary_copied_alone_runs_the_readme_tour(unpacked, tmp_path):
    alone = tmp_path / "empty"
    alone.mkdir()
    shutil.copy2(unpacked / "ferry", alone / "ferry")
    assert sorted(os.listdir(alone)) == ["ferry"]
    version = subprocess.run([str(alone / "ferry"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("ferry ")

    port, receiver_port = free_port(), free_port()
    environment = {"PATH": os.environ["PATH"], "FERRY_LISTEN": f"127.0.0.1:{port}",
                   "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8", "FERRY_PASSWORD_HASH_COST": "10",
                   "FERRY_LOG_LEVEL": "warning"}
    log = (tmp_path / "serve.out").open("w")
    serve = subprocess.Popen([str(alone / "ferry"), "serve"], cwd=alone, env=environment, stdout=log, stderr=log)
    receiver = None
    try:
        base = f"http://127.0.0.1:{port}"

        def answers():
            try:
                return call("GET", base + "/api/v1/instance")[0] == 200
            except OSError:
                return False

        wait_for(answers, 30, "ferry serve")
        printed = (tmp_path / "serve.out").read_text()
        token = re.search(r"service token:\s+(\S+)", printed).group(1)
        application = re.search(r"application_id:\s+(\S+)", printed).group(1)
        assert (alone / "ferry.sqlite").exists()

        _, document = call("GET", base + "/api/v1/openapi.json")
        assert document == json.loads((ROOT / "Sources/FerryAPI/Resources/openapi.json").read_text())
        status, login = call("GET", base + "/login")
        assert status == 200 and "<h1>Sign in</h1>" in login
        stylesheet = re.search(r'href="(/assets/[^"]+\.css)"', login).group(1)
        assert call("GET", base + stylesheet)[0] == 200

        api = base + "/api/v1"
        assert call("POST", api + "/event_types", token, {
            "application_id": application, "service": "billing", "resource_type": "invoice", "verb": "paid"})[0] == 201
        _, subscription = call("POST", api + "/subscriptions", token, {
            "application_id": application, "is_enabled": True, "event_types": ["billing.invoice.paid"],
            "labels": {"env": "demo"}, "target": {"type": "http", "method": "POST",
                                                  "url": f"http://127.0.0.1:{receiver_port}/hook", "headers": {}}})
        receiver_log = tmp_path / "receiver.out"
        receiver = subprocess.Popen(
            [str(alone / "ferry"), "receiver", "--port", str(receiver_port), "--secret", subscription["secret"]],
            cwd=alone, stdout=receiver_log.open("w"), stderr=subprocess.STDOUT)
        wait_for(lambda: "listening on" in receiver_log.read_text(), 20, "ferry receiver")
        assert call("POST", api + "/event", token, {
            "application_id": application, "event_type": "billing.invoice.paid", "payload": '{"amount":42}',
            "payload_content_type": "application/json", "labels": {"env": "demo"},
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})[0] == 201
        wait_for(lambda: "webhook-signature:" in receiver_log.read_text(), 20, "the delivery")
        received = receiver_log.read_text()
        assert "X-Hook0-Signature:  valid (v1)" in received and "webhook-signature:  valid (v1)" in received, received

        def delivered():
            _, attempts = call("GET", f"{api}/request_attempts?application_id={application}", token)
            return any(attempt["status"]["type"] == "successful" for attempt in attempts)

        wait_for(delivered, 20, "a successful attempt")
    finally:
        for process in (receiver, serve):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    assert serve.returncode == 0
