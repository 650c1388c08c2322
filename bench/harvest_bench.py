"""互联互通 harvest: platform B harvests N published listings from platform A over loopback.

    .venv/bin/python bench/harvest_bench.py              # 20,000 listings (half results, half needs)
    .venv/bin/python bench/harvest_bench.py --n 2000     # smoke run

Two instances, each with its own data folder and SQLite database: A serves its feed (`flask serve
--no-worker`: nothing else competes for the CPU), B runs `flask serve` with its worker, whose harvest
job pulls A's pages. A's listings are bulk-inserted (the synthetic corpus of bench/_common.py) and put
in the feed by `flask federation backfill`.

Measured: the baseline, reading every page of A's feed in this process without writing anything
(records/s of A's feed plus the JSON decode: the ceiling a harvester can reach); then B's harvest from
enabling the partner until its registry counts all N (records/s), and until B's search answers N
linked records (the time until all are searchable). One JSON object on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench._common import listing_rows, log, machine, synthetic, wait_until
from market.accounts.models import Organization
from market.db import make_engine
from market.federation import feed
from market.federation.models import Partner
from market.listings.models import ResearchResult, TechNeed
from tests.live.seeding import live_app
from tests.live_site import LiveSite


def insert_listings(url: str, n: int) -> None:
    results, needs = synthetic(n - n // 2, n // 2)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            org_ids = []
            for name, kind in (("基准大学", "高校"), ("基准企业", "企业")):
                org_ids.append(
                    conn.execute(
                        sa.insert(Organization.__table__)
                        .values(name=name, kind=kind, region="天津", verified=True)
                        .returning(Organization.__table__.c.id)
                    ).scalar_one()
                )
            rows_r, rows_n = listing_rows(results, needs, seller=org_ids[0], enterprise=org_ids[1])
            for table, rows in ((ResearchResult.__table__, rows_r), (TechNeed.__table__, rows_n)):
                for start in range(0, len(rows), 2000):
                    conn.execute(table.insert(), rows[start : start + 2000])
    finally:
        engine.dispose()


def read_feed(base: str, token: str, page_size: int) -> tuple[int, float]:
    since, total, started = "0", 0, time.perf_counter()
    while True:
        query = urllib.parse.urlencode({"since": since, "limit": page_size})
        request = urllib.request.Request(
            f"{base}/api/v1/feed?{query}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            page = json.loads(response.read())
        total += len(page["records"])
        if not page["more"]:
            return total, time.perf_counter() - started
        since = page["next"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20_000, help="published listings on A")
    p.add_argument("--page-size", type=int, default=200)
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--keep", action="store_true", help="keep the data folders (path in the JSON)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="harvest-bench-"))
    fast = {"FEDERATION_HARVEST_SECONDS": "0.5", "OUTBOX_POLL_SECONDS": "0.5"}
    a = LiveSite(tmp / "a", server="serve", worker=False, env={**fast, "FEDERATION_PREFIX": "AA"})
    b = LiveSite(tmp / "b", server="serve", env={**fast, "FEDERATION_PREFIX": "BB"})
    a.env["SITE_URL"], b.env["SITE_URL"] = a.base, b.base
    out: dict = {"n": args.n, "page_size": args.page_size, "machine": machine()}
    try:
        log(f"A: migrating and inserting {args.n} listings")
        a.migrate()
        insert_listings(a.database_url, args.n)
        a.flask("federation", "backfill")
        with live_app(a) as (_app, session):
            partner = Partner(name="平台乙", prefix="BB")
            session.add(partner)
            session.flush()
            token = feed.issue_token(session, partner)
            session.commit()
        b.migrate()
        with live_app(b) as (_app, session):
            session.add(
                Partner(name="平台甲", base_url=a.base, prefix="AA", harvest_token=token, enabled=False)
            )
            session.commit()
        a.start()
        log("baseline: reading A's whole feed without writing")
        read, seconds = read_feed(a.base, token, args.page_size)
        out["baseline_read"] = {
            "records": read,
            "seconds": round(seconds, 2),
            "records_per_s": round(read / seconds),
        }
        b.start()
        log("B: enabling the partner and waiting for the harvest")
        with live_app(b) as (_app, session):
            row = session.exec(sa.select(Partner)).scalar_one()
            row.enabled = True
            session.add(row)
            session.commit()
        started = time.perf_counter()
        engine = make_engine(b.database_url)

        def harvested() -> bool:
            with engine.connect() as conn:
                return conn.execute(sa.text("SELECT records_live FROM partners")).scalar_one() >= args.n

        def searchable() -> bool:
            with urllib.request.urlopen(f"{b.base}/api/v1/search?per_page=1&facets=", timeout=30) as r:
                return json.loads(r.read())["total"] >= args.n

        t_harvest = wait_until(harvested, args.timeout, every=0.2)
        t_search = wait_until(searchable, args.timeout, every=0.2)
        engine.dispose()
        if t_harvest is None or t_search is None:
            raise RuntimeError(f"B did not finish in {args.timeout} s:\n{b.log()}")
        t_search = time.perf_counter() - started
        out["harvest"] = {
            "seconds_until_harvested": round(t_harvest, 2),
            "records_per_s": round(args.n / t_harvest),
            "seconds_until_all_searchable": round(t_search, 2),
        }
        out["harvest_vs_baseline_read"] = round(
            (args.n / t_harvest) / out["baseline_read"]["records_per_s"], 3
        )
    finally:
        a.stop()
        b.stop()
        if args.keep:
            out["data"] = str(tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
