"""Online bidding under load: N bidders bidding at once against a real server process.

    python bench/bid_bench.py                                  # SQLite, 50 bidders, 10 s
    python bench/bid_bench.py --bidders 50 --seconds 10 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # SQLite and PostgreSQL

Each run: a fresh data folder (and, for PostgreSQL, a throwaway database), `flask db upgrade`, the
README's production command (`gunicorn -w 4`, sync workers, beside `flask outbox work`; `--workers 2
--threads 4` is the threaded shape the live tests use), an auction with N qualified buyers. The
baseline is one bidder alone on its own auction (no contention) in the same run; then N bidders
all bid the lowest acceptable price they last heard of, so bids collide at the same price and most
are refused with the new best price (409): once back to back (saturation: the server's
capacity, shared with the load generator on the same machine), once pausing a random 0–2×`--think`
seconds between bids (bidders who read the page before bidding again). In both, all N bidders' first
bids leave at the same instant (a barrier), and that burst counts in the headline `latency` like every
other bid; `latency_after_first_bids` (every bid but each bidder's first) is the steady state beside it.

What is measured: the time from a bidder's thread starting its request to its having read the whole
answer, as the load generator sees it. The load generator runs in this process on the server's own
machine (N threads, one keep-alive connection each, http.client rather than requests: about 0.3 ms of
CPU per bid instead of 1), so the measured latency includes the CPU it takes from the server and any
wait for this process to be scheduled. Prints one JSON object: per database, accepted bids per second,
attempts per second, latency percentiles of all bid requests, the status codes, whether the bid log
verified, and where the CPU went while they bid (`cpu_ms_per_request`: the web server, the outbox
worker, PostgreSQL, the load generator; from Linux's /proc, read as the bidders are released and when
they stop). That split is what the latency under load is made of: N bids sent at the same instant
wait for the ones before them, and the last waits for N × (server + database) CPU over the cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import descendants, log, machine, processes, summary_ms
from tests.live.bidding import arrange_auction, run_bidders
from tests.live_site import LiveSite, postgres_database


def cpu_split(site: LiveSite) -> dict[str, float]:
    """CPU seconds used so far by the web server (gunicorn and its workers), the outbox worker, every
    PostgreSQL process on the machine, and this process (the load generator)."""
    table = processes()

    def tree(root: int) -> float:
        return sum(table[pid][2] for pid in [root, *descendants(root, table)] if pid in table)

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "server": tree(site.procs["server"].pid),
        "outbox_worker": tree(site.procs["worker"].pid) if "worker" in site.procs else 0.0,
        "postgres": sum(cpu for _, name, cpu in table.values() if name.startswith("postgres")),
        "load_generator": usage.ru_utime + usage.ru_stime,
    }


def measure(site: LiveSite, bidders: int, seconds: float, tag: str, think: float = 0.0) -> dict:
    arranged = arrange_auction(site, bidders, tag=tag, minutes=60, extend=1)
    before: dict[str, float] = {}
    stats = run_bidders(
        site.base,
        arranged["auction_id"],
        arranged["emails"],
        seconds=seconds,
        think=think,
        on_start=lambda: before.update(cpu_split(site)),
    )
    after = cpu_split(site)
    body = requests.get(f"{site.base}/api/v1/auctions/{arranged['auction_id']}/log", timeout=60).json()
    prices = [e["price"] for e in body["entries"]]
    return {
        "bidders": bidders,
        "think_seconds": think,
        "seconds": round(stats.seconds, 2),
        "attempts": len(stats.latencies),
        "accepted": stats.accepted,
        "accepted_per_s": round(stats.accepted / stats.seconds, 1),
        "attempts_per_s": round(len(stats.latencies) / stats.seconds, 1),
        "latency": summary_ms(stats.latencies),
        # the first bids of all bidders leave together (a barrier): without them, the steady state
        "latency_after_first_bids": summary_ms(stats.later_latencies),
        "latency_first_bids": summary_ms(stats.first_latencies),
        # where the machine's CPU went while they bid (ms per bid request; server and database share the
        # machine's cores with the load generator, so a bid's latency under load is mostly this queue)
        "cpu_ms_per_request": {
            k: round((after[k] - before[k]) / max(1, len(stats.latencies)) * 1000, 2) for k in after
        },
        "codes": {str(k): v for k, v in sorted(stats.codes.items())},
        "server_errors": stats.server_errors,
        "duplicate_prices": len(prices) - len(set(prices)),
        "log_verified": body["verification"]["ok"],
        "log_entries": len(prices),
    }


def run(database: str, url: str | None, args) -> dict:
    with contextlib.ExitStack() as stack:
        db_url = stack.enter_context(postgres_database(url)) if database == "postgresql" else None
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bid-bench-{database}-")))
        site = LiveSite(
            data, database_url=db_url, server="gunicorn", workers=args.workers, threads=args.threads
        ).migrate()
        stack.enter_context(site.start())
        log(f"{database}: baseline (1 bidder)")
        baseline = measure(site, 1, args.seconds, "基线")
        log(f"{database}: {args.bidders} bidders for {args.seconds} s")
        loaded = measure(site, args.bidders, args.seconds, "并发")
        log(f"{database}: {args.bidders} bidders, {args.think} s think time")
        paced = measure(site, args.bidders, args.seconds, "节奏", think=args.think)
        return {
            "baseline_one_bidder": baseline,
            "concurrent_saturating": loaded,
            "concurrent_with_think_time": paced,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bidders", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between a bidder's bids (paced run)"
    )
    # the README's production command: `gunicorn -w 4` (sync workers behind a buffering proxy)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (1: the sync worker)"
    )
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    args = parser.parse_args()
    out = {
        "bench": "bid_bench",
        "server": f"gunicorn -w {args.workers} --threads {args.threads} + flask outbox work",
        "load_generator": f"{args.bidders} threads in the bench's process on the same machine, one "
        "keep-alive http.client connection each; latency: request start to answer read, as bidders see it",
        "target": "p95 ≤ 50 ms at 50 bidders",
        "machine": machine(),
        "sqlite": run("sqlite", None, args),
    }
    if args.database_url:
        out["postgresql"] = run("postgresql", args.database_url, args)
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
