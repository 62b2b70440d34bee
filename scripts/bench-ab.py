"""Alternating A/B of durable ingest between two builds of Ferry (see docs/benchmarks.md).

Each round starts `ferry api` of build A and then of build B (the order flips every round, so a drift of the
machine's speed falls on both sides), each on a fresh database, creates a tenant with a service token, and measures
the trivial-route ceiling and then single-event ingest at each concurrency. Prints one JSON line per measurement
and a summary of medians: events/s, the ratio to the same run's ceiling, and CPU seconds of `ferry api` per 10,000
ingested events. Both builds are driven by B's `ferry-bench`.
"""
import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def measure(runner, bin_dir, backend, concurrencies, seconds):
    runner.bin = bin_dir
    database = runner.fresh_database(backend)
    api, base = runner.start_ferry("api", database)
    try:
        runner.bin = runner.load_bin
        application, token = runner.tenant(base, 1)
        _, cpu_before = bench.process_usage(api.pid)
        events, rows = 0, []
        for concurrency in concurrencies:
            ceiling = runner.load(base + "/instance", concurrency, seconds)
            ingest = runner.load(base + "/event", concurrency, seconds, method="POST", application=application,
                                 expect=201, token=token)
            events += ingest["succeeded"]
            rows.append((concurrency, ceiling["perSecond"], ingest["perSecond"]))
        _, cpu_after = bench.process_usage(api.pid)
        return rows, (cpu_after - cpu_before) / events * 10_000 if events else 0.0
    finally:
        runner.stop(api, f"{backend} api")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--a", required=True, help="bin directory of build A (before)")
    parser.add_argument("--b", required=True, help="bin directory of build B (after); its ferry-bench drives both")
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--pg-port", type=int, default=54329)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--concurrencies", default="16,64")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrencies.split(",")]
    runner = bench.Bench(argparse.Namespace(bin_dir=args.b, pg_port=args.pg_port))
    runner.load_bin = args.b
    results = {"a": [], "b": []}
    try:
        for round_number in range(args.rounds):
            order = ["a", "b"] if round_number % 2 == 0 else ["b", "a"]
            for side in order:
                rows, cpu = measure(runner, getattr(args, side), args.backend, concurrencies, args.seconds)
                results[side].append((rows, cpu))
                print(json.dumps({"round": round_number, "side": side, "rows": rows, "cpu_per_10k": cpu}),
                      flush=True)
    finally:
        runner.receiver.terminate()
    print(f"backend {args.backend}, {args.rounds} rounds of {args.seconds} s per measurement (medians)")
    print("| connections | events/s A → B | × ceiling A → B |")
    print("|---|---|---|")
    for index, concurrency in enumerate(concurrencies):
        def median(side, pick):
            return statistics.median(pick(rows[index]) for rows, _ in results[side])
        rate_a, rate_b = median("a", lambda r: r[2]), median("b", lambda r: r[2])
        ratio_a, ratio_b = median("a", lambda r: r[2] / r[1]), median("b", lambda r: r[2] / r[1])
        print(f"| {concurrency} | {rate_a:,.0f} → {rate_b:,.0f} | {ratio_a:.3f} → {ratio_b:.3f} "
              f"({(ratio_b / ratio_a - 1) * 100:+.0f} %) |")
    cpu_a = statistics.median(cpu for _, cpu in results["a"])
    cpu_b = statistics.median(cpu for _, cpu in results["b"])
    print(f"CPU s of ferry api per 10k ingested events: A {cpu_a:.2f} → B {cpu_b:.2f}")


if __name__ == "__main__":
    main()
