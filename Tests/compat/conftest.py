"""Fixtures for the Hook0-SDK compatibility suite.

The suite runs the real Ferry binary (``$FERRY_BIN serve``) as a subprocess, sets it up through
its REST API with the master key, and then talks to it with the published Hook0 Python SDK
(``hook0-client``) and the ``standardwebhooks`` / ``svix`` verifiers.

Only the standard library is used for plumbing (urllib, http.server, socket, threading).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

import hook0

STARTUP_TIMEOUT = 30.0  # seconds Ferry gets to answer GET /api/v1/instance with 200
DELIVERY_TIMEOUT = 10.0  # seconds a webhook delivery may take to reach the receiver
HTTP_TIMEOUT = 10.0  # seconds for one REST call made by the fixtures
LOG_TAIL_LINES = 200


# --------------------------------------------------------------------------------------------
# FERRY_BIN is mandatory: fail the whole run loudly rather than skipping anything.
# --------------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    ferry_bin = os.environ.get("FERRY_BIN")
    if not ferry_bin:
        raise pytest.UsageError(
            "FERRY_BIN is not set: point it at the Ferry executable, e.g. "
            "FERRY_BIN=.build/debug/ferry python -m pytest Tests/compat"
        )
    resolved = shutil.which(ferry_bin) if os.sep not in ferry_bin else ferry_bin
    if not resolved or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        raise pytest.UsageError(f"FERRY_BIN={ferry_bin!r} is not an executable file")


# --------------------------------------------------------------------------------------------
# Small HTTP client for the REST set-up (stdlib urllib, never raises on HTTP statuses).
# --------------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    method: str
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise AssertionError(f"{self.method} {self.url} answered non-JSON {self.body[:500]!r}") from error

    def expect(self, *statuses: int) -> Any:
        """Assert the status and return the decoded JSON body (None when the body is empty)."""
        assert self.status in statuses, (
            f"{self.method} {self.url} answered {self.status}, expected {statuses}: {self.body[:2000]!r}"
        )
        return self.json() if self.body else None


class RestClient:
    """Raw REST access to Ferry with a bearer token (by default the master key)."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        token: str | None | type[Ellipsis] = ...,
        raw_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        retry_rate_limited: bool = True,
    ) -> Reply:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = raw_body
        if data is None and body is not None:
            data = json.dumps(body).encode()
        bearer = self.token if token is ... else token

        for _ in range(5):
            request = urllib.request.Request(url, data=data, method=method)
            request.add_header("Accept", "application/json")
            if data is not None:
                request.add_header("Content-Type", "application/json")
            if bearer is not None:
                request.add_header("Authorization", f"Bearer {bearer}")
            for name, value in (headers or {}).items():
                request.add_header(name, value)
            try:
                with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
                    reply = Reply(answer.status, _lower(answer.headers.items()), answer.read(), method, url)
            except urllib.error.HTTPError as refused:
                with refused:
                    reply = Reply(refused.code, _lower(refused.headers.items()), refused.read(), method, url)
            # A per-token rate limiter must not make the set-up flaky: honour RateLimited once or twice.
            if retry_rate_limited and reply.status == 429 and _problem_id(reply.body) == "RateLimited":
                time.sleep(min(float(reply.headers.get("retry-after", "1") or 1), 5.0))
                continue
            return reply
        return reply

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.call("DELETE", path, **kwargs)


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def _problem_id(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed.get("id") if isinstance(parsed, dict) else None


# --------------------------------------------------------------------------------------------
# The Ferry process.
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, start: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError as error:
        return f"<cannot read {path}: {error}>"
    kept = text.splitlines()[-lines:]
    return "\n".join(kept) if kept else "<empty>"


@dataclass
class FerryServer:
    process: subprocess.Popen
    base_url: str  # http://127.0.0.1:<port>  (origin, no path)
    api_url: str  # http://127.0.0.1:<port>/api/v1  (what the hand-written SDK client wants)
    port: int
    master_key: str
    workdir: Path
    stdout_path: Path
    stderr_path: Path

    def log_sizes(self) -> tuple[int, int]:
        return (_size(self.stdout_path), _size(self.stderr_path))

    def logs(self, since: tuple[int, int] = (0, 0)) -> str:
        return (
            f"--- ferry stdout ({self.stdout_path}) ---\n{_tail(self.stdout_path, since[0])}\n"
            f"--- ferry stderr ({self.stderr_path}) ---\n{_tail(self.stderr_path, since[1])}"
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


_RUNNING: FerryServer | None = None
_LOG_OFFSETS = pytest.StashKey[tuple[int, int]]()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def ferry(tmp_path_factory: pytest.TempPathFactory) -> Iterable[FerryServer]:
    global _RUNNING
    ferry_bin = os.path.abspath(os.environ["FERRY_BIN"])
    workdir = tmp_path_factory.mktemp("ferry")
    port = free_port()
    master_key = str(uuid.uuid4())

    env = {name: value for name, value in os.environ.items() if not name.startswith("FERRY_")}
    env.update(
        {
            "FERRY_LISTEN": f"127.0.0.1:{port}",
            # FERRY_COMPAT_DATABASE_URL runs the suite against another backend (scripts/test passes an empty
            # PostgreSQL database); by default a fresh SQLite file.
            "FERRY_DATABASE_URL": os.environ.get("FERRY_COMPAT_DATABASE_URL") or f"sqlite:{workdir}/ferry.sqlite",
            "FERRY_MASTER_API_KEY": master_key,
            # The first start hashes the administrator's password; a cheap cost keeps start-up quick.
            "FERRY_PASSWORD_HASH_COST": "10",
            "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8",
            "FERRY_RETRY_SCHEDULE": "1s",
            "FERRY_MAX_RETRIES": "2",
            "FERRY_RETRY_JITTER": "0",
        }
    )
    stdout_path = workdir / "ferry.stdout.log"
    stderr_path = workdir / "ferry.stderr.log"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            [ferry_bin, "serve"], cwd=workdir, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
    server = FerryServer(
        process=process,
        base_url=f"http://127.0.0.1:{port}",
        api_url=f"http://127.0.0.1:{port}/api/v1",
        port=port,
        master_key=master_key,
        workdir=workdir,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )

    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_problem = "no attempt made"
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"Ferry exited with code {process.returncode} before answering GET /api/v1/instance\n"
                f"{server.logs()}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(f"{server.api_url}/instance", timeout=2) as answer:
                if answer.status == 200:
                    break
                last_problem = f"status {answer.status}"
        except urllib.error.HTTPError as refused:
            last_problem = f"status {refused.code}: {refused.read()[:300]!r}"
        except OSError as error:
            last_problem = repr(error)
        if time.monotonic() > deadline:
            _stop(process)
            pytest.fail(
                f"Ferry did not answer GET /api/v1/instance with 200 within {STARTUP_TIMEOUT:.0f}s "
                f"(last: {last_problem})\n{server.logs()}",
                pytrace=False,
            )
        time.sleep(0.1)

    _RUNNING = server
    try:
        yield server
    finally:
        _RUNNING = None
        crashed = process.poll()
        _stop(process)
        if crashed is not None:
            print(f"\nFerry had exited (code {crashed}) before the end of the session\n{server.logs()}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _RUNNING is not None:
        item.stash[_LOG_OFFSETS] = _RUNNING.log_sizes()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.failed and _RUNNING is not None:
        since = item.stash.get(_LOG_OFFSETS, (0, 0))
        state = "running" if _RUNNING.process.poll() is None else f"EXITED with {_RUNNING.process.returncode}"
        report.sections.append((f"Ferry logs during this test (process {state})", _RUNNING.logs(since)))
    return report


# --------------------------------------------------------------------------------------------
# Tenancy set-up through the REST API.
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def master(ferry: FerryServer) -> RestClient:
    """REST client authenticated with the master API key."""
    return RestClient(ferry.base_url, ferry.master_key)


@pytest.fixture(scope="session")
def organization_id(master: RestClient) -> str:
    created = master.post("/api/v1/organizations", {"name": "compat org"}).expect(200)
    assert isinstance(created, dict) and "organization_id" in created, created
    return created["organization_id"]


@pytest.fixture(scope="session")
def service_token(master: RestClient, organization_id: str) -> str:
    """The bearer string (field `biscuit`) of an organization-wide service token."""
    created = master.post("/api/v1/service_token", {"organization_id": organization_id, "name": "compat"}).expect(
        201
    )
    assert isinstance(created.get("biscuit"), str) and created["biscuit"], created
    return created["biscuit"]


@pytest.fixture(scope="session")
def token_rest(ferry: FerryServer, service_token: str) -> RestClient:
    """REST client authenticated with the service token (what SDK users hold)."""
    return RestClient(ferry.base_url, service_token)


@pytest.fixture
def application_id(master: RestClient, organization_id: str) -> str:
    """A fresh application per test."""
    created = master.post(
        "/api/v1/applications", {"organization_id": organization_id, "name": "compat app"}
    ).expect(201)
    assert isinstance(created, dict) and "application_id" in created, created
    return created["application_id"]


@pytest.fixture
def create_event_types(master: RestClient) -> Callable[[str, Iterable[str]], list[dict]]:
    def create(application_id: str, names: Iterable[str]) -> list[dict]:
        out = []
        for name in names:
            service, resource_type, verb = name.split(".")
            out.append(
                master.post(
                    "/api/v1/event_types",
                    {
                        "application_id": application_id,
                        "service": service,
                        "resource_type": resource_type,
                        "verb": verb,
                    },
                ).expect(201)
            )
        return out

    return create


@pytest.fixture
def create_subscription(master: RestClient) -> Callable[..., dict]:
    """POST /api/v1/subscriptions with the suite's default body; keyword arguments override it."""

    def create(
        application_id: str,
        event_types: list[str],
        url: str,
        *,
        labels: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        method: str = "POST",
        description: str = "compat",
        **extra: object,
    ) -> dict:
        body = {
            "application_id": application_id,
            "is_enabled": True,
            "event_types": event_types,
            "labels": {"tenant": "t1"} if labels is None else labels,
            "description": description,
            "target": {
                "type": "http",
                "method": method,
                "url": url,
                "headers": {"x-custom": "abc"} if headers is None else headers,
            },
        }
        body.update(extra)
        created = master.post("/api/v1/subscriptions", body).expect(201)
        assert isinstance(created, dict), created
        return created

    return create


# --------------------------------------------------------------------------------------------
# SDK objects pointed at Ferry.
# --------------------------------------------------------------------------------------------


@pytest.fixture
def sdk_client(ferry: FerryServer, application_id: str, service_token: str) -> hook0.Hook0Client:
    """The hand-written Hook0Client for this test's application, using the service token."""
    return hook0.Hook0Client(ferry.api_url, application_id, service_token)


@pytest.fixture(scope="session")
def transport(ferry: FerryServer, service_token: str) -> hook0.HttpTransport:
    """The SDK's blocking transport, as the generated API groups use it (absolute /api/v1/... paths)."""
    return hook0.HttpTransport(ferry.base_url, service_token)


# --------------------------------------------------------------------------------------------
# Loopback webhook receiver.
# --------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    method: str
    path: str
    headers: list[tuple[str, str]]  # as received: original case and order
    body: bytes
    received_at: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_map(self) -> dict[str, str]:
        return {key.lower(): value for key, value in self.headers}

    def __repr__(self) -> str:
        return (
            f"Delivery({self.method} {self.path}, event_id={self.header('x-event-id')}, "
            f"event_type={self.header('x-event-type')}, body={self.body[:80]!r})"
        )


class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1:<random port> recording every request it gets.

    `status` (int) is answered to every request unless `statuses` (a list) still has entries, in
    which case they are consumed one per request first. `response_body` is answered as text/plain.
    """

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.status = 200
        self.statuses: list[int] = []
        self.response_body = b"ok from receiver"
        self._condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                body = self._read_body()
                delivery = Delivery(self.command, self.path, list(self.headers.items()), body)
                status = receiver._next_status()
                reply = b"" if self.command == "HEAD" else receiver.response_body
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                if reply:
                    self.wfile.write(reply)
                self.wfile.flush()
                # Record after answering so that the sender is not kept waiting on the test.
                receiver._record(delivery)

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _next_status(self) -> int:
        with self._condition:
            return self.statuses.pop(0) if self.statuses else self.status

    def _record(self, delivery: Delivery) -> None:
        with self._condition:
            self.deliveries.append(delivery)
            self._condition.notify_all()

    def snapshot(self) -> list[Delivery]:
        with self._condition:
            return list(self.deliveries)

    def wait_for(self, count: int, timeout: float = DELIVERY_TIMEOUT) -> list[Delivery]:
        """Wait until at least `count` requests arrived; fail with what did arrive otherwise."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self.deliveries) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} webhook request(s) within {timeout}s, got "
                        f"{len(self.deliveries)}: {self.deliveries!r}"
                    )
                self._condition.wait(remaining)
            return list(self.deliveries)

    def settle(self, seconds: float) -> list[Delivery]:
        """Give straggling (unwanted) deliveries `seconds` to show up, then return everything."""
        time.sleep(seconds)
        return self.snapshot()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterable[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------------------------
# A TCP proxy that can lose the answer to a request (to make the SDK retry for real).
# --------------------------------------------------------------------------------------------


def _read_request(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 request (head + Content-Length body) off a socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def _read_head(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            chunk = source.recv(65536)
            if not chunk:
                break
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (sink,):
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass


class LossyProxy:
    """Forwards connections from 127.0.0.1:<port> to the upstream.

    For the first `drop_first` connections it forwards the whole request, waits until the upstream
    has started answering (so the upstream did process the request), then resets the client
    connection (RST) without passing any of the answer on: the client sees "connection reset by
    peer", i.e. a request whose outcome it cannot know. Later connections are piped through.
    """

    def __init__(self, upstream_port: int, drop_first: int = 0, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.drop_first = drop_first
        self.connections = 0
        self.dropped_answers: list[bytes] = []  # status lines the client never saw
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="lossy-proxy", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    def _serve(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                drop = self.connections <= self.drop_first
            threading.Thread(target=self._handle, args=(client, drop), daemon=True).start()

    def _handle(self, client: socket.socket, drop: bool) -> None:
        upstream = socket.create_connection(self.upstream, timeout=HTTP_TIMEOUT)
        try:
            request = _read_request(client)
            with self._lock:
                self.requests.append(request)
            upstream.sendall(request)
            if drop:
                head = _read_head(upstream, HTTP_TIMEOUT)
                with self._lock:
                    self.dropped_answers.append(head.split(b"\r\n", 1)[0])
                # SO_LINGER {on, 0}: close() sends RST instead of FIN.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                upstream.close()
                return
            upstream.settimeout(None)
            back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            back.start()
            _pipe(client, upstream)
            back.join(HTTP_TIMEOUT)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._closed = True
        self._listener.close()


@pytest.fixture
def lossy_proxy(ferry: FerryServer) -> Iterable[Callable[[int], LossyProxy]]:
    made: list[LossyProxy] = []

    def make(drop_first: int = 0) -> LossyProxy:
        proxy = LossyProxy(ferry.port, drop_first)
        made.append(proxy)
        return proxy

    try:
        yield make
    finally:
        for proxy in made:
            proxy.close()
