"""Ferry's benchmark: drives release-built `ferry` and `ferry-bench` binaries on SQLite and PostgreSQL.

Run through `scripts/bench` (which builds the binaries, starts PostgreSQL and provides matplotlib).
Every measure is reported with the machine it ran on; throughput is also given as a ratio to the ceiling
(the same HTTP stack answering a trivial route at the same concurrency), because absolute numbers drift on a
shared machine. Load comes from `ferry-bench load` (AsyncHTTPClient, fixed concurrency), not from Python.
"""

import argparse
import datetime
import http.cookiejar as http_cookiejar
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

MASTER_KEY = "0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4f"
PSQL = "/usr/lib/postgresql/15/bin/psql"


# The JSON Schema the ingest measure with a payload schema sets on the benchmark's event type: it accepts the load
# generator's payload, `{"sent_ns": <integer>}`.
BENCH_PAYLOAD_SCHEMA = {"type": "object", "required": ["sent_ns"], "additionalProperties": False,
                        "properties": {"sent_ns": {"type": "integer", "minimum": 0}}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=MASTER_KEY):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def wait_until(predicate, timeout, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def process_usage(pid):
    """(peak RSS in MiB, CPU seconds) of a running process, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return peak, (int(fields[11]) + int(fields[12])) / ticks


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin_dir
        self.work = tempfile.mkdtemp(prefix="ferry-bench-")
        self.receiver_port = free_port()
        self.receiver = subprocess.Popen(
            [f"{self.bin}/ferry-bench", "receiver", "--port", str(self.receiver_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: self._receiver_up(), 30):
            raise SystemExit("the benchmark receiver did not start")
        self.database_counter = 0
        self.usage = {}

    def _receiver_up(self):
        try:
            self.receiver_stats()
            return True
        except OSError:
            return False

    def receiver_stats(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.receiver_port}/stats", timeout=10) as response:
            return json.loads(response.read())

    def receiver_reset(self):
        urllib.request.urlopen(f"http://127.0.0.1:{self.receiver_port}/reset", timeout=10).read()

    def fresh_database(self, backend):
        self.database_counter += 1
        if backend == "sqlite":
            return f"sqlite:{self.work}/bench{self.database_counter}.sqlite"
        name = f"ferry_bench_{os.getpid()}_{self.database_counter}"
        subprocess.run(
            [PSQL, "-h", "127.0.0.1", "-p", str(self.args.pg_port), "-U", "postgres", "-qc",
             f"CREATE DATABASE {name}", "postgres"], check=True)
        return f"postgres://postgres@127.0.0.1:{self.args.pg_port}/{name}?sslmode=disable"

    def start_ferry(self, role, database_url):
        port = free_port()
        environment = dict(os.environ)
        environment.update({
            "FERRY_LISTEN": f"127.0.0.1:{port}", "FERRY_DATABASE_URL": database_url,
            "FERRY_MASTER_API_KEY": MASTER_KEY, "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8",
            "FERRY_LOG_LEVEL": "error",
            # The load generator opens up to 256 connections from one address; the per-address cap is not measured.
            "FERRY_MAX_CONNECTIONS_PER_CLIENT": "0",
        })
        process = subprocess.Popen(
            [f"{self.bin}/ferry", role], env=environment, stdout=subprocess.DEVNULL,
            stderr=open(f"{self.work}/{role}-{port}.log", "w"))
        base = f"http://127.0.0.1:{port}/api/v1"
        if role != "worker" and not wait_until(lambda: self._answers(base), 60):
            raise SystemExit(f"ferry {role} did not start (see {self.work})")
        return process, base

    @staticmethod
    def _answers(base):
        try:
            urllib.request.urlopen(base + "/instance", timeout=2).read()
            return True
        except OSError:
            return False

    def stop(self, process, label):
        self.usage[label] = process_usage(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def tenant(self, base, subscriptions):
        """An organization with one application, its event type and `subscriptions` subscriptions; returns the
        application id and a service token of the organization (a Biscuit, as SDK users send)."""
        organization = http("POST", base + "/organizations", {"name": "bench"})["organization_id"]
        token = http("POST", base + "/service_token", {"organization_id": organization, "name": "bench"})["biscuit"]
        application = http("POST", base + "/applications",
                           {"organization_id": organization, "name": "bench"})["application_id"]
        http("POST", base + "/event_types",
             {"application_id": application, "service": "billing", "resource_type": "invoice", "verb": "paid"})
        for index in range(subscriptions):
            http("POST", base + "/subscriptions", {
                "application_id": application, "is_enabled": True, "event_types": ["billing.invoice.paid"],
                "labels": {"env": "bench"}, "target": {
                    "type": "http", "method": "POST", "headers": {},
                    "url": f"http://127.0.0.1:{self.receiver_port}/hook/{index}"}})
        return application, token

    def load(self, url, concurrency, seconds, method="GET", application=None, rate=None, expect=200,
             token=MASTER_KEY, batch=None):
        command = [f"{self.bin}/ferry-bench", "load", "--url", url, "--method", method, "--concurrency",
                   str(concurrency), "--seconds", str(seconds), "--expect", str(expect), "--token", token]
        if application:
            command += ["--application", application]
        if rate:
            command += ["--rate", str(rate)]
        if batch:
            command += ["--batch", str(batch)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return json.loads(output.strip().splitlines()[-1])

    def tool_json(self, arguments):
        """The JSON that the last line of `ferry-bench ARGUMENTS…` prints."""
        output = subprocess.run([f"{self.bin}/ferry-bench", *arguments], check=True, capture_output=True,
                                text=True).stdout
        return json.loads(output.strip().splitlines()[-1])

    def authorizer_cost(self, smoke):
        """Microseconds per run of the per-request Datalog authorizer, measured apart from HTTP and storage."""
        return self.tool_json(["authorizer"] + (["--rounds", "1", "--authorizations", "50"] if smoke else []))

    def schema_cost(self, smoke):
        """Microseconds per check of an event's payload against its type's JSON Schema, apart from HTTP."""
        return self.tool_json(["schema"] + (["--rounds", "1", "--checks", "50"] if smoke else []))

    def ingest_phase(self, backend):
        database = self.fresh_database(backend)
        api, base = self.start_ferry("api", database)
        # Ingest is authorized with a service token, so every event pays the Biscuit path (token cache, revocation
        # lookup, Datalog authorizer) as an SDK user's would.
        application, token = self.tenant(base, 1)
        rows = []
        _, cpu_before = process_usage(api.pid)
        events = 0
        for concurrency in self.args.concurrencies:
            ceiling = self.load(base + "/instance", concurrency, self.args.seconds)
            ingest = self.load(base + "/event", concurrency, self.args.seconds, method="POST",
                               application=application, expect=201, token=token)
            events += ingest["succeeded"]
            rows.append({"concurrency": concurrency, "ceiling": ceiling, "ingest": ingest})
        _, cpu_after = process_usage(api.pid)
        # Ferry's batch route: the same events, `batch_size` per request.
        batch_rows = []
        batch_events = 0
        for concurrency in self.args.batch_concurrencies:
            ingest = self.load(base + "/event/batch", concurrency, self.args.seconds, method="POST",
                               application=application, expect=200, token=token, batch=self.args.batch_size)
            batch_events += ingest["items"]
            batch_rows.append({"concurrency": concurrency, "batch": self.args.batch_size, "ingest": ingest})
        _, cpu_after_batches = process_usage(api.pid)
        # The single route again once the event type has a payload schema (Ferry's extension): every event parsed
        # and checked against it before it is stored.
        http("PUT", f"{base}/event_types/billing.invoice.paid?application_id={application}",
             {"payload_schema": BENCH_PAYLOAD_SCHEMA})
        concurrency = self.args.concurrencies[min(1, len(self.args.concurrencies) - 1)]
        schema_ingest = self.load(base + "/event", concurrency, self.args.seconds, method="POST",
                                  application=application, expect=201, token=token)
        _, cpu_after_schema = process_usage(api.pid)
        self.stop(api, f"{backend} api (ingest)")
        schema = {"concurrency": concurrency, "ingest": schema_ingest, "events": schema_ingest["succeeded"],
                  "cpu_seconds": cpu_after_schema - cpu_after_batches}
        return rows, {"events": events, "cpu_seconds": cpu_after - cpu_before}, batch_rows, {
            "events": batch_events, "cpu_seconds": cpu_after_batches - cpu_after}, schema

    def delivery_phase(self, backend, events, subscriptions, measure):
        """Seeds `events` events (× `subscriptions` deliveries each), then times the first `measure`
        deliveries of one `ferry worker` from that backlog."""
        database = self.fresh_database(backend)
        api, base = self.start_ferry("api", database)
        application, _ = self.tenant(base, subscriptions)
        self.stop(api, f"{backend} api (setup)")
        seeded = subprocess.run(
            [f"{self.bin}/ferry-bench", "seed", "--database-url", database, "--application", application,
             "--count", str(events)], check=True, capture_output=True, text=True).stdout
        self.receiver_reset()
        worker, _ = self.start_ferry("worker", database)
        _, cpu_before = process_usage(worker.pid)
        reached = wait_until(lambda: self.receiver_stats()["count"] >= measure, self.args.delivery_timeout, 0.2)
        _, cpu_after = process_usage(worker.pid)
        label = f"{backend} worker ({events} events × {subscriptions})"
        self.stop(worker, label)
        stats = self.receiver_stats()
        return {"events": events, "subscriptions": subscriptions, "pending": events * subscriptions,
                "measured": stats["count"], "complete": reached, "per_second": stats["perSecond"],
                "seed": json.loads(seeded.strip().splitlines()[-1]), "cpu_seconds": cpu_after - cpu_before,
                "timeline": stats["timeline"]}

    def latency_phase(self, backend):
        database = self.fresh_database(backend)
        serve, base = self.start_ferry("serve", database)
        application, token = self.tenant(base, 1)
        self.receiver_reset()
        load = self.load(base + "/event", 32, self.args.latency_seconds, method="POST", application=application,
                         rate=self.args.rate, expect=201, token=token)
        wait_until(lambda: self.receiver_stats()["count"] >= load["succeeded"], 30, 0.1)
        stats = self.receiver_stats()
        self.stop(serve, f"{backend} serve (end-to-end)")
        return {"rate": self.args.rate, "load": load, "received": stats["count"], "latency": stats["latency"],
                "timeline": stats["timeline"]}

    def dashboard_phase(self, backend, events, rounds):
        """Seeds an application with `events` events (one subscription, so as many attempts), then times each
        dashboard page `rounds` times for a signed-in editor, on loopback: the whole request, so the render time
        is at most this."""
        database = self.fresh_database(backend)
        api, base = self.start_ferry("api", database)
        application, _ = self.tenant(base, 1)
        organization = http("GET", f"{base}/applications/{application}")["organization_id"]
        self.stop(api, f"{backend} api (setup)")
        subprocess.run(
            [f"{self.bin}/ferry-bench", "seed", "--database-url", database, "--application", application,
             "--count", str(events)], check=True, capture_output=True, text=True)
        if backend == "postgres":
            # Autovacuum gathers the new rows' statistics within a minute of a bulk load; the pages are measured
            # after that, not in the minute when the planner still thinks the tables empty.
            database_name = urllib.parse.urlparse(database).path.lstrip("/")
            subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(self.args.pg_port), "-U", "postgres", "-qc", "ANALYZE",
                            database_name], check=True)
        email, password = "bench-editor@example.com", "dashboard-bench-password-1"
        subprocess.run([f"{self.bin}/ferry", "users", "create", email, "--password", password, "--database-url",
                        database, "--password-hash-cost", "10"], check=True, capture_output=True, text=True)
        api, base = self.start_ferry("api", database)
        http("POST", f"{base}/organizations/{organization}/invite", {"email": email, "role": "editor"})
        site = base.removesuffix("/api/v1")
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http_cookiejar.CookieJar()),
                                              NoRedirect())
        login = browser.open(site + "/login", timeout=30).read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
        form = urllib.parse.urlencode({"email": email, "password": password, "csrf": csrf}).encode()
        try:
            browser.open(urllib.request.Request(site + "/login", data=form), timeout=30)
        except urllib.error.HTTPError as redirect:
            if redirect.code != 303:
                raise
        app_path = f"{site}/organizations/{organization}/applications/{application}"
        events_page = browser.open(app_path + "/events", timeout=30).read().decode()
        event = re.search(r'/events/([0-9a-f-]{36})"', events_page).group(1)
        pages = [("organization overview (30 days)", f"{site}/organizations/{organization}"),
                 ("application overview (30 days)", app_path), ("application overview (90 days)", app_path + "?days=90"),
                 ("events, first page", app_path + "/events"), ("delivery log, first page", app_path + "/deliveries"),
                 ("delivery log, not finished", app_path + "/deliveries?status=unfinished"),
                 ("delivery log, given up", app_path + "/deliveries?status=given_up"),
                 ("an event's page", f"{app_path}/events/{event}"), ("subscriptions", app_path + "/subscriptions")]
        rows = []
        for label, url in pages:
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                with browser.open(url, timeout=60) as answer:
                    answer.read()
                    assert answer.status == 200, (label, answer.status)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            rows.append({"page": label, "median_ms": times[len(times) // 2],
                         "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))], "max_ms": times[-1]})
        self.stop(api, f"{backend} api (dashboard, {events:,} events)")
        return {"events": events, "rounds": rounds, "pages": rows}

    def close(self):
        self.receiver.terminate()
        self.receiver.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        memory = int(info.readline().split()[1]) / 1024 / 1024
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "model": model, "memory_gib": round(memory, 1),
            "kernel": platform.release(), "commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


POSTGRES_SETTINGS = ["shared_buffers", "effective_cache_size", "synchronous_commit", "wal_compression",
                     "max_wal_size", "checkpoint_timeout", "random_page_cost", "work_mem", "jit"]


def postgres_settings(port):
    """The server settings the run's PostgreSQL used (as `SHOW` prints them; Ferry's own sessions set jit = off)."""
    shown = {}
    for name in POSTGRES_SETTINGS:
        answer = subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-Atc", f"SHOW {name}"],
                                capture_output=True, text=True)
        shown[name] = answer.stdout.strip() if answer.returncode == 0 else "?"
    return shown


def markdown(results):
    m = results["machine"]
    lines = [f"Run {m['date']} on {m['cpus']} × {m['model']}, {m['memory_gib']} GiB, Linux {m['kernel']}, "
             f"commit `{m['commit']}`{' (smoke mode: tiny counts, not a measurement)' if results['smoke'] else ''}.",
             ""]
    if results.get("postgres_settings"):
        lines += ["PostgreSQL 15 server settings: " + ", ".join(
            f"`{name} = {value}`" for name, value in results["postgres_settings"].items()) + ".", ""]
    lines += ["### Durable ingest (`POST /api/v1/event`, 201 after commit; `ferry api` alone)", "",
              "| backend | concurrency | ceiling req/s (`GET /instance`) | events/s | × ceiling | p50 ms | p99 ms |",
              "|---|---|---|---|---|---|---|"]
    for backend, data in results["backends"].items():
        for row in data["ingest"]:
            ceiling, ingest = row["ceiling"]["perSecond"], row["ingest"]["perSecond"]
            lines.append(f"| {backend} | {row['concurrency']} | {ceiling:,.0f} | {ingest:,.0f} | "
                         f"{ingest / ceiling if ceiling else 0:.2f} | {row['ingest']['latency']['p50']:.1f} | "
                         f"{row['ingest']['latency']['p99']:.1f} |")
    lines += ["", "### Durable ingest, batch route (`POST /api/v1/event/batch`, Ferry's extension; `ferry api` alone)",
              "", "| backend | concurrency | events per request | requests/s | events/s | p50 ms per request | "
              "p99 ms | CPU s per 10 k events |", "|---|---|---|---|---|---|---|---|"]
    for backend, data in results["backends"].items():
        cpu = data["batch_cpu"]
        per_event = cpu["cpu_seconds"] / cpu["events"] * 10_000 if cpu["events"] else 0
        for row in data["batch_ingest"]:
            ingest = row["ingest"]
            lines.append(f"| {backend} | {row['concurrency']} | {row['batch']} | {ingest['perSecond']:,.0f} | "
                         f"{ingest['itemsPerSecond']:,.0f} | {ingest['latency']['p50']:.1f} | "
                         f"{ingest['latency']['p99']:.1f} | {per_event:.2f} |")
    lines += ["", "### Durable ingest with a payload schema (the single route once the event type has a JSON Schema)",
              "", "| backend | concurrency | events/s without → with | CPU s per 10 k events without → with |",
              "|---|---|---|---|"]
    for backend, data in results["backends"].items():
        schema = data.get("schema_ingest")
        if not schema:
            continue
        without = next((row for row in data["ingest"] if row["concurrency"] == schema["concurrency"]), None)
        plain_cpu = data["ingest_cpu"]["cpu_seconds"] / max(1, data["ingest_cpu"]["events"]) * 10_000
        with_cpu = schema["cpu_seconds"] / max(1, schema["events"]) * 10_000
        rate = without["ingest"]["perSecond"] if without else 0
        lines.append(f"| {backend} | {schema['concurrency']} | {rate:,.0f} → {schema['ingest']['perSecond']:,.0f} | "
                     f"{plain_cpu:.2f} → {with_cpu:.2f} |")
    if "schema" in results:
        cost = results["schema"]
        lines += ["", "### Payload schema check alone (`ferry-bench schema`: parse the payload, validate it)", "",
                  "| schema | µs per check |", "|---|---|",
                  f"| invoice schema ({cost['payloadBytes']}-byte payload: types, pattern, enum, bounds, items, "
                  f"`additionalProperties`) | {cost['plainMicroseconds']:.2f} |",
                  f"| the same with `$ref`, `allOf` and `unevaluatedProperties` (annotations collected) | "
                  f"{cost['annotatingMicroseconds']:.2f} |",
                  f"| compiling the invoice schema (once per type and process, at most every 5 s) | "
                  f"{cost['compileMicroseconds']:.1f} |"]
    if "authorizer" in results:
        cost = results["authorizer"]
        lines += ["", "### Authorizer (Hook0's per-request Datalog policy alone, `ferry-bench authorizer`)", "",
                  "| request | µs per authorization |", "|---|---|",
                  f"| event ingest, root service token | {cost['serviceIngestMicroseconds']:.1f} |",
                  f"| event ingest, token attenuated to one application with an expiry | "
                  f"{cost['attenuatedIngestMicroseconds']:.1f} |",
                  f"| event list, a person's access token with live memberships | "
                  f"{cost['personListMicroseconds']:.1f} |",
                  f"| event ingest, root service token, decision remembered within the second (the server's "
                  f"authorizer) | {cost['rememberedServiceIngestMicroseconds']:.1f} |"]
    lines += ["", "### Delivery from a backlog (one `ferry worker`, receiver answers 200 at once)", "",
              "| backend | pending deliveries | subscriptions per event | measured deliveries | deliveries/s |",
              "|---|---|---|---|---|"]
    for backend, data in results["backends"].items():
        for run in data["delivery"]:
            lines.append(f"| {backend} | {run['pending']:,} | {run['subscriptions']} | {run['measured']:,}"
                         f"{'' if run['complete'] else ' (timed out)'} | {run['per_second']:,.0f} |")
    lines += ["", "### Backlog scaling", "", "| backend | rate with 1 k pending | rate with large backlog | ratio |",
              "|---|---|---|---|"]
    for backend, data in results["backends"].items():
        small, large = data["backlog"]
        ratio = large["per_second"] / small["per_second"] if small["per_second"] else 0
        lines.append(f"| {backend} | {small['per_second']:,.0f} ({small['pending']:,} pending) | "
                     f"{large['per_second']:,.0f} ({large['pending']:,} pending) | {ratio:.2f} |")
    lines += ["", "### End-to-end latency (`ferry serve`, ingest start → receiver arrival)", "",
              "| backend | offered events/s | accepted | delivered | p50 ms | p90 ms | p99 ms | max ms |",
              "|---|---|---|---|---|---|---|---|"]
    for backend, data in results["backends"].items():
        run = data["latency"]
        latency = run["latency"]
        lines.append(f"| {backend} | {run['rate']:,} | {run['load']['succeeded']:,} | {run['received']:,} | "
                     f"{latency['p50']:.1f} | {latency['p90']:.1f} | {latency['p99']:.1f} | {latency['max']:.1f} |")
    dashboards = {backend: data["dashboard"] for backend, data in results["backends"].items() if "dashboard" in data}
    if dashboards:
        lines += ["", dashboard_markdown(dashboards).rstrip()]
    lines += ["", "### Resources", "", "| process | peak RSS MiB |", "|---|---|"]
    for label, (rss, _) in sorted(results["usage"].items()):
        lines.append(f"| {label} | {rss:.0f} |")
    lines += ["", "| backend | CPU s per 10 k ingested events (API) | CPU s per 10 k deliveries (worker) |",
              "|---|---|---|"]
    for backend, data in results["backends"].items():
        ingest = data["ingest_cpu"]
        delivery = data["delivery"][0]
        per_ingest = ingest["cpu_seconds"] / ingest["events"] * 10_000 if ingest["events"] else 0
        per_delivery = delivery["cpu_seconds"] / delivery["measured"] * 10_000 if delivery["measured"] else 0
        lines.append(f"| {backend} | {per_ingest:.2f} | {per_delivery:.2f} |")
    return "\n".join(lines) + "\n"


def dashboard_markdown(dashboards):
    """The dashboard's page times, one row per page and backend."""
    lines = ["### Dashboard pages (`ferry api`, a signed-in editor, one request at a time on loopback)", "",
             "| backend | events in the application | page | median ms | p95 ms | max ms |", "|---|---|---|---|---|---|"]
    for backend, run in dashboards.items():
        for row in run["pages"]:
            lines.append(f"| {backend} | {run['events']:,} | {row['page']} | {row['median_ms']:.1f} | "
                         f"{row['p95_ms']:.1f} | {row['max_ms']:.1f} |")
    return "\n".join(lines) + "\n"


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (throughput, timeline) = plt.subplots(1, 2, figsize=(12, 4.5))
    for backend, data in results["backends"].items():
        concurrencies = [row["concurrency"] for row in data["ingest"]]
        throughput.plot(concurrencies, [row["ingest"]["perSecond"] for row in data["ingest"]], marker="o",
                        label=f"{backend} ingest")
        throughput.plot(concurrencies, [row["ceiling"]["perSecond"] for row in data["ingest"]], linestyle="--",
                        label=f"{backend} ceiling")
        series = data["delivery"][0]["timeline"]
        timeline.plot([index / 10 for index in range(len(series))], [count * 10 for count in series],
                      label=f"{backend} deliveries/s")
    throughput.set_xscale("log", base=2)
    throughput.set_xlabel("client concurrency")
    throughput.set_ylabel("requests or events per second")
    throughput.set_title("Durable ingest vs the HTTP ceiling")
    throughput.legend()
    timeline.set_xlabel("seconds since the first delivery")
    timeline.set_ylabel("deliveries per second (100 ms buckets)")
    timeline.set_title("Delivery from a backlog, over time")
    timeline.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def publish(table, page):
    """Replaces the latest-run section of the benchmarks page with this run's tables and chart."""
    begin, end = "<!-- latest run: written by scripts/bench -->", "<!-- end of latest run -->"
    with open(page) as source:
        text = source.read()
    before, rest = text.split(begin, 1)
    after = rest.split(end, 1)[1]
    section = f"{begin}\n{table}\n![ingest and delivery](benchmarks/chart.png)\n{end}"
    with open(page, "w") as target:
        target.write(before + section + after)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keeps a sign-in's 303 (and its cookie) as the answer."""

    def redirect_request(self, *arguments, **keywords):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--pg-port", type=int, default=54329)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--only-dashboard", action="store_true",
                        help="measure only the dashboard's pages (and publish nothing)")
    parser.add_argument("--only-ingest", action="store_true",
                        help="measure only durable ingest (single and batch routes), with the API's CPU "
                             "(and publish nothing)")
    parser.add_argument("--only-delivery", action="store_true",
                        help="measure only delivery from a backlog, with the worker's CPU (and publish nothing)")
    args = parser.parse_args()
    if args.smoke:
        args.concurrencies, args.seconds, args.latency_seconds, args.rate = [4, 16], 1.0, 2.0, 100
        args.batch_concurrencies, args.batch_size = [2], 10
        delivery_runs = [(200, 1, 200), (20, 10, 200)]
        backlog_runs = [(100, 1, 100), (1_000, 1, 200)]
        args.delivery_timeout = 60
        dashboard_run = (1_000, 3)
    else:
        args.concurrencies, args.seconds, args.latency_seconds, args.rate = [16, 64, 256], 8.0, 10.0, 1000
        args.batch_concurrencies, args.batch_size = [2, 4, 16], 100
        delivery_runs = [(20_000, 1, 20_000), (2_000, 10, 20_000)]
        backlog_runs = [(1_000, 1, 1_000), (1_000_000, 1, 20_000)]
        args.delivery_timeout = 300
        dashboard_run = (100_000, 20)
    bench = Bench(args)
    if args.only_dashboard:
        try:
            measured = {backend: bench.dashboard_phase(backend, *dashboard_run) for backend in args.backends.split(",")}
        finally:
            bench.close()
        print(dashboard_markdown(measured))
        return 0
    if args.only_ingest:
        try:
            for backend in args.backends.split(","):
                rows, cpu, batch_rows, batch_cpu, schema = bench.ingest_phase(backend)
                for row in rows:
                    print(f"{backend} single, {row['concurrency']} connections: {row['ingest']['perSecond']:,.0f} "
                          f"events/s, ceiling {row['ceiling']['perSecond']:,.0f} req/s, p50 "
                          f"{row['ingest']['latency']['p50']:.1f} ms", flush=True)
                for row in batch_rows:
                    print(f"{backend} batch of {row['batch']}, {row['concurrency']} connections: "
                          f"{row['ingest']['itemsPerSecond']:,.0f} events/s, p50 "
                          f"{row['ingest']['latency']['p50']:.1f} ms per request", flush=True)
                print(f"{backend} API CPU s per 10 k events: single "
                      f"{cpu['cpu_seconds'] * 10_000 / max(1, cpu['events']):.2f}, batch "
                      f"{batch_cpu['cpu_seconds'] * 10_000 / max(1, batch_cpu['events']):.2f}", flush=True)
                print(f"{backend} single with a payload schema, {schema['concurrency']} connections: "
                      f"{schema['ingest']['perSecond']:,.0f} events/s, "
                      f"{schema['cpu_seconds'] * 10_000 / max(1, schema['events']):.2f} CPU s per 10 k", flush=True)
        finally:
            bench.close()
        return 0
    if args.only_delivery:
        try:
            for backend in args.backends.split(","):
                for run in delivery_runs:
                    measured = bench.delivery_phase(backend, *run)
                    print(f"{backend} {run[0]:,} events × {run[1]}: {measured['per_second']:,.0f} deliveries/s, "
                          f"worker CPU {measured['cpu_seconds'] * 10_000 / max(1, measured['measured']):.2f} s "
                          f"per 10 k deliveries", flush=True)
        finally:
            bench.close()
        return 0
    results = {"machine": machine(), "smoke": args.smoke, "backends": {}}
    if "postgres" in args.backends.split(","):
        results["postgres_settings"] = postgres_settings(args.pg_port)
    try:
        print("== authorizer", flush=True)
        results["authorizer"] = bench.authorizer_cost(smoke=args.smoke)
        print("== payload schema", flush=True)
        results["schema"] = bench.schema_cost(smoke=args.smoke)
        for backend in args.backends.split(","):
            print(f"== {backend}: ceiling and ingest", flush=True)
            ingest, ingest_cpu, batch_ingest, batch_cpu, schema_ingest = bench.ingest_phase(backend)
            print(f"== {backend}: delivery", flush=True)
            delivery = [bench.delivery_phase(backend, *run) for run in delivery_runs]
            print(f"== {backend}: backlog scaling", flush=True)
            backlog = [bench.delivery_phase(backend, *run) for run in backlog_runs]
            print(f"== {backend}: end-to-end latency", flush=True)
            latency = bench.latency_phase(backend)
            print(f"== {backend}: dashboard pages", flush=True)
            dashboard = bench.dashboard_phase(backend, *dashboard_run)
            results["backends"][backend] = {"ingest": ingest, "ingest_cpu": ingest_cpu, "batch_ingest": batch_ingest,
                                            "batch_cpu": batch_cpu, "schema_ingest": schema_ingest,
                                            "delivery": delivery,
                                            "backlog": backlog, "latency": latency, "dashboard": dashboard}
    finally:
        results["usage"] = bench.usage
        bench.close()
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "results.json"), "w") as out:
        json.dump(results, out, indent=1)
    table = markdown(results)
    with open(os.path.join(args.out_dir, "results.md"), "w") as out:
        out.write(table)
    chart(results, os.path.join(args.out_dir, "chart.png"))
    if not args.smoke:
        publish(table, "docs/benchmarks.md")
    print(table)
    failures = [backend for backend, data in results["backends"].items()
                if not all(run["complete"] for run in data["delivery"] + data["backlog"])
                or data["latency"]["received"] < data["latency"]["load"]["succeeded"]]
    if failures:
        print(f"incomplete runs on: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
