"""Benchmarks of the matcher (not timed tests). Prints one JSON object; progress on stderr.

    python bench/match_bench.py --results 100000 --needs 20000            # approval, then topk
    python bench/match_bench.py --sections approval --approvals 60
    python bench/match_bench.py --sections approval --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Sections:

* ``approval`` — the site's core loop at scale. N results and M needs of the synthetic corpus are
  published in the database (the embedded SQLite file, or a throwaway PostgreSQL database), the search
  index and the match store are built, and the real background worker runs (`flask outbox work`). Each
  approval commits as the admin page's request does (the doorbell rings on commit); the clock runs until
  the listing's matches are readable in the database (its search document is written before them, in
  the same batch), and until the worker has also brought the other side's lists up to date. The
  baseline, measured in the same run on the same corpus: the previous design, one fitted `Matcher`
  pickled on disk — add the listing, rank it, save the whole model (steady state), plus loading it
  (what a process that did not write it last pays). Afterwards a recompute with the same vocabulary
  checks the incremental state. Then ``--import`` listings are imported at once (`flask import … --publish`)
  while gunicorn serves read traffic: listings/s into search and matching, and the readers' latency
  before and during the drain.
* ``topk`` — the text candidate step (top-k results per need by cosine over the candidate index)
  three ways on the same matrices: a naive full product and a sort of every row, the matcher's chunked
  top-k in one process, and over `--n-jobs` processes; each in a forked child, with its peak memory.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataclasses
import subprocess

import requests
import sqlalchemy as sa
from _common import (
    BIN,
    descendants,
    free_port,
    listing_rows,
    machine,
    pg_database,
    site_env,
    spawn,
    stop,
    summary_ms,
    synthetic,
    wait_until,
)
from joblib.externals.loky import get_reusable_executor
from scipy.sparse import _sparsetools

from market import create_app
from market.accounts import service as accounts
from market.accounts.models import User
from market.db import (
    WRITE,
    db,
    new_session,
)
from market.listings import service
from market.listings.models import ResearchResult, TechNeed
from market.matches import engine as matches
from market.matches.records import published_records
from market.outbox.models import OutboxEntry
from market.searching import sync
from matching.matcher import Matcher
from matching.store import MatchStore, describe
from matching.topk import naive_topk, topk_rows, topk_sets_agree

# -- measuring -----------------------------------------------------------------------------------------


def _status_kb(pid: int | str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Peak resident memory of this process plus its descendants, sampled in a thread.

    The process tree is re-read only every 0.25 s (walking /proc is not free); in between only the
    known processes' VmRSS lines are read, so the sampler barely competes with the work it measures.
    """

    def __init__(self, interval: float = 0.01) -> None:

        self.interval = interval
        self.peak_kb = 0
        self.start_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        pids: list[int] = []
        refreshed = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - refreshed > 0.25:
                pids, refreshed = descendants(me), now
            rss = _status_kb(me, "VmRSS") + sum(_status_kb(pid, "VmRSS") for pid in pids)
            self.peak_kb = max(self.peak_kb, rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        me = os.getpid()
        self.start_kb = _status_kb(me, "VmRSS") + sum(_status_kb(pid, "VmRSS") for pid in descendants(me))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _shutdown_workers() -> None:
    """Stop joblib's reusable worker pool: a forked child must not inherit a live executor."""

    get_reusable_executor().shutdown(wait=True)


def _in_child(task: Callable[[], Any]) -> dict:
    """Run `task` in a forked child; its time, peak memory growth and return value."""
    _shutdown_workers()
    ctx = get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)

    def target() -> None:
        gc.collect()
        try:  # reset this process's VmHWM (Linux >= 4.0) so it measures this run only
            with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
                handle.write("5")
        except OSError:
            pass
        rss_start = _status_kb("self", "VmRSS")
        with TreeMemory() as tree:
            start = time.perf_counter()
            value = task()
            seconds = time.perf_counter() - start
        own_peak = _status_kb("self", "VmHWM") - rss_start
        peak_kb = max(tree.peak_kb - tree.start_kb, own_peak)
        writer.send({"seconds": seconds, "peak_mb": peak_kb / 1024, "value": value})
        writer.close()
        _shutdown_workers()  # the workers this child started (the parent's were stopped before the fork)
        # Leave without atexit handlers: an inherited joblib / loky state can hang a forked child's exit.
        os._exit(0)

    process = ctx.Process(target=target)
    process.start()
    writer.close()
    try:
        out = reader.recv()
    except EOFError:
        out = {"error": f"child exited with code {process.exitcode} (out of memory?)"}
    process.join()
    return out


def _mem_available_mb() -> float:
    return _status_meminfo("MemAvailable") / 1024


def _status_meminfo(key: str) -> int:
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


# -- approval: the core loop at scale ---------------------------------------------------------------


def _site_app(env: dict[str, str]):

    keys = ("DATABASE_URL", "INSTANCE_PATH", "SEARCH_PATH", "MATCH_STORE_PATH", "UPLOAD_DIR")
    return create_app({**{k: env[k] for k in keys}, "MEILI_URL": "", "MARKET_ENV": "development"})


def _prepare(env: dict[str, str], results, needs) -> dict[str, Any]:
    """Migrate, create the organisations and an admin, insert the corpus, build index and store."""

    timings: dict[str, float] = {}
    subprocess.run(
        [str(BIN / "flask"), "--app", "market", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    app = _site_app(env)
    with app.app_context():
        session = db()
        uni, _ = accounts.get_or_create_org(session, name="基准测试大学", kind="高校", verified=True)
        ent, _ = accounts.get_or_create_org(session, name="基准测试企业", kind="企业", verified=True)
        admin = accounts.create_admin(
            session, email="bench-admin@example.cn", display_name="基准运营", password="bench-password-2026"
        )
        session.commit()
        ids = {"seller": uni.id, "enterprise": ent.id, "admin": admin.id}
        start = time.perf_counter()
        rows_r, rows_n = listing_rows(results, needs, seller=uni.id, enterprise=ent.id)
        engine = app.extensions["db.engine"].execution_options(**{WRITE: True})
        with engine.begin() as conn:
            for table, rows in ((ResearchResult.__table__, rows_r), (TechNeed.__table__, rows_n)):
                for i in range(0, len(rows), 5000):
                    conn.execute(table.insert(), rows[i : i + 5000])
            if engine.dialect.name == "postgresql":
                for table in ("research_results", "tech_needs"):
                    conn.execute(sa.text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
        timings["insert_seconds"] = round(time.perf_counter() - start, 1)
        _log("building the search index")
        start = time.perf_counter()
        sync.reindex(app)
        timings["search_index_seconds"] = round(time.perf_counter() - start, 1)
        _log("building the match store")
        start = time.perf_counter()
        store, _ = matches.build_store(app, progress=_log)
        timings["match_store_seconds"] = round(time.perf_counter() - start, 1)
        timings["match_store_mb"] = round(Path(env["MATCH_STORE_PATH"]).stat().st_size / 2**20, 1)
        store.close()
    app.extensions["db.engine"].dispose()
    return {"ids": ids, "timings": timings}


def _approve_all(env: dict[str, str], ids: dict[str, int], extras: list, warm: int) -> dict[str, Any]:
    """Approve the extra listings one at a time while the worker runs; time each."""

    app = _site_app(env)
    readable, settled, approved_ids = [], [], []
    with app.app_context():
        session = db()
        admin = session.get(User, ids["admin"])
        for i, record in enumerate(extras):
            kind = "result" if record.id.startswith("R") else "need"
            model = ResearchResult if kind == "result" else TechNeed
            rows = listing_rows(
                *(([record], []) if kind == "result" else ([], [record])),
                seller=ids["seller"],
                enterprise=ids["enterprise"],
            )
            row = {k: v for k, v in (rows[0] or rows[1])[0].items() if k != "id"}
            row.update(status="待审核", published_at=None)
            listing = model(**row)
            session.add(listing)
            session.commit()
            # What the admin's approval request does: one short write, the doorbell rings on commit.
            service.approve(session, actor=admin, listing=listing)
            session.commit()
            approved = time.perf_counter()
            column = "result_id" if kind == "result" else "need_id"
            with new_session(write=False) as reader:

                def has_matches(column=column, listing=listing) -> bool:
                    found = reader.execute(
                        sa.text(f"SELECT 1 FROM matches WHERE {column} = :i LIMIT 1"), {"i": listing.id}
                    ).first()
                    reader.rollback()
                    return found is not None

                def processed(listing=listing, kind=kind) -> bool:
                    left = reader.execute(
                        sa.select(sa.func.count())
                        .select_from(OutboxEntry)
                        .where(
                            OutboxEntry.listing_id == listing.id,
                            OutboxEntry.kind == kind,
                            OutboxEntry.processed_at.is_(None),
                        )
                    ).scalar()
                    reader.rollback()
                    return left == 0

                got = wait_until(has_matches, timeout=60)
                done = wait_until(processed, timeout=120)
            readable.append((kind, got, i < warm))
            settled.append((kind, (time.perf_counter() - approved) if done is not None else None, i < warm))
            shown = None if got is None else round(got * 1000)
            _log(f"approval {i + 1}/{len(extras)} ({kind}): readable {shown} ms")
            approved_ids.append((kind, str(listing.id)))
    app.extensions["db.engine"].dispose()

    def part(samples, *, kind=None, cold=None):
        return [
            s
            for k, s, c in samples
            if s is not None and (kind is None or k == kind) and (cold is None or c == cold)
        ]

    return {
        "readable": {
            "steady": summary_ms(part(readable, cold=False)),
            "steady_results": summary_ms(part(readable, kind="result", cold=False)),
            "steady_needs": summary_ms(part(readable, kind="need", cold=False)),
            "first_after_worker_start": summary_ms(part(readable, cold=True)),
            "never": sum(1 for _, s, _ in readable if s is None),
        },
        "worker_done_with_both_sides": summary_ms(part(settled, cold=False)),
        "approved": approved_ids,
    }


def _baseline(results, needs, extras, tmp: Path, repeats: int) -> dict[str, Any]:
    """The previous design on the same corpus: one pickled Matcher (add, rank, save; and load)."""
    path = tmp / "matcher.joblib"
    start = time.perf_counter()
    matcher = Matcher(n_jobs=2).fit(results, needs)
    fit = time.perf_counter() - start
    matcher.save(path)
    steady, cold = [], []
    for record in extras[:repeats]:
        start = time.perf_counter()
        loaded = Matcher.load(path)
        loaded_at = time.perf_counter()
        if record.id.startswith("R"):
            loaded.add_result(record)
            loaded.matches_for_result(record.id, 20)
        else:
            loaded.add_need(record)
            loaded.matches_for_need(record.id, 20)
        loaded.save(path)
        end = time.perf_counter()
        steady.append(end - loaded_at)
        cold.append(end - start)
        del loaded
        gc.collect()
    return {
        "fit_seconds": round(fit, 1),
        "model_mb": round(path.stat().st_size / 2**20, 1),
        "add_rank_save": summary_ms(steady),
        "load_add_rank_save": summary_ms(cold),
    }


def _identical_to_recompute(env: dict[str, str], approved, sample: int, seed: int) -> dict[str, Any]:
    """Recompute every list from the database with the live store's vocabulary; compare the approved
    listings' matches and those of a random sample of the others."""

    live = MatchStore(env["MATCH_STORE_PATH"])
    app = _site_app(env)
    with app.app_context(), new_session(write=False) as session:
        results, needs = published_records(session)
    app.extensions["db.engine"].dispose()
    start = time.perf_counter()
    path = Path(env["INSTANCE_PATH"]) / "recompute.sqlite3"
    full = MatchStore.build(path, results, needs, text=live.text, config=live.config, n_jobs=2)
    seconds = time.perf_counter() - start
    rng = random.Random(seed)
    checked = list(approved)
    checked += [("result", i) for i in rng.sample(live.ids("result"), min(sample, live.count("result")))]
    checked += [("need", i) for i in rng.sample(live.ids("need"), min(sample, live.count("need")))]
    differing = [key for key in checked if live.top_ids(*key) != full.top_ids(*key)]
    return {
        "listings_compared": len(checked),
        "differing": len(differing),
        "identical": not differing,
        "recompute_seconds": round(seconds, 1),
    }


def _corpus_ids(results, needs):
    """The synthetic records renumbered as the database will hold them (results and needs from 1)."""

    return (
        [dataclasses.replace(r, id=str(i + 1)) for i, r in enumerate(results)],
        [dataclasses.replace(n, id=str(i + 1)) for i, n in enumerate(needs)],
    )


def approval_section(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="match-bench-"))
    extra = args.approvals + args.import_rows
    all_results, all_needs = synthetic(args.results + extra, args.needs + extra, seed=args.seed)
    results, needs = all_results[: args.results], all_needs[: args.needs]
    with pg_database(args.database_url) if args.database_url else _sqlite(tmp) as url:
        env = site_env(tmp, url)
        _log(f"preparing {args.results} results and {args.needs} needs in {tmp}")
        prepared = _prepare(env, results, needs)
        db_results, db_needs = _corpus_ids(results, needs)
        half = args.approvals // 2
        # The listings to approve: alternately a result and a need, numbered after the corpus.

        extras = []
        for i in range(args.approvals):
            if i % 2 == 0:
                extras.append(dataclasses.replace(all_results[args.results + i // 2], id=f"R-new{i}"))
            else:
                extras.append(dataclasses.replace(all_needs[args.needs + i // 2], id=f"N-new{i}"))
        spawned = time.perf_counter()
        worker = spawn([str(BIN / "flask"), "--app", "market", "outbox", "work"], env, tmp / "worker.log")
        try:
            # A restart's cost: from spawning the worker until it has opened its indexes and is ready.
            ready = wait_until(
                lambda: "已就绪" in (tmp / "worker.log").read_text(errors="replace"), 600, 0.05
            )
            worker_ready = None if ready is None else round(time.perf_counter() - spawned, 2)
            _log(f"{args.approvals} approvals ({half} results, {args.approvals - half} needs)")
            approvals = _approve_all(env, prepared["ids"], extras, warm=args.warm)
            report = {
                "database": "postgresql" if args.database_url else "sqlite",
                "prepare": prepared["timings"],
                "worker_start_to_ready_seconds": worker_ready,
                **approvals,
            }
            if args.import_rows:
                first_r, first_n = args.results + args.approvals, args.needs + args.approvals
                imports = {
                    "result": all_results[first_r : first_r + args.import_rows],
                    "need": all_needs[first_n : first_n + args.import_rows],
                }
                words = [r.title[:2] for r in results[:200]]
                report["import"] = _import_section(env, tmp, imports, words, args.results, args.reader_rps)
        finally:
            stop(worker)
        _log("baseline: the pickled matcher")
        report["baseline"] = _baseline(db_results, db_needs, extras, tmp, args.baseline_repeats)
        steady = report["readable"]["steady"]["p95_ms"]
        base = report["baseline"]["add_rank_save"]["p50_ms"]
        if steady and base:
            report["speedup_p95_vs_baseline_p50"] = round(base / steady, 1)
        if args.check_identity:
            _log("recompute with the same vocabulary")
            report["incremental_vs_recompute"] = _identical_to_recompute(
                env, report.pop("approved"), args.identity_sample, args.seed
            )
        report["data_dir"] = str(tmp)
    return report


def _import_file(path: Path, kind: str, records) -> Path:
    if kind == "result":
        header = ["成果名称", "成果简介", "技术领域", "关键词", "成熟度", "转化方式", "价格"]
        rows = [
            [
                r.title,
                r.summary,
                r.field,
                "、".join(r.keywords),
                r.maturity or "",
                "、".join(r.transfer_modes),
                "" if r.price is None else f"{r.price:g}",
            ]
            for r in records
        ]
    else:
        header = ["需求名称", "需求描述", "技术领域", "关键词", "合作方式", "预算"]
        rows = [
            [
                n.title,
                n.description,
                n.field,
                "、".join(n.keywords),
                "、".join(n.cooperation_modes),
                f"{n.budget_min:g}-{n.budget_max:g}",
            ]
            for n in records
        ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


class _Readers:
    """Read traffic while the worker drains: threads fetching the search page and listing pages."""

    def __init__(self, base: str, words: list[str], ids: list[int], *, rps: float, threads: int = 3) -> None:

        self.base, self.words, self.ids = base, words, ids
        #: each reader pauses so that together they send about `rps` requests a second (users, not a
        #: stress test: the worker shares the machine's cores with the web server)
        self.pause = threads / rps if rps > 0 else 0.0
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(requests.Session(), i), daemon=True)
            for i in range(threads)
        ]

    def _run(self, http, seed: int) -> None:
        rng = random.Random(seed)
        while not self._stop.is_set():
            if rng.random() < 0.5:
                url = f"{self.base}/search?q={rng.choice(self.words)}"
            else:
                url = f"{self.base}/results/{rng.choice(self.ids)}"
            start = time.perf_counter()
            try:
                code = http.get(url, timeout=30).status_code
            except Exception:  # counted as a failure
                code = -1
            self.samples.append((start, time.perf_counter() - start, code))
            if self.pause:
                self._stop.wait(rng.expovariate(1 / self.pause))

    def start(self) -> _Readers:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def between(self, t0: float, t1: float) -> dict[str, Any]:
        picked = [(d, c) for s, d, c in self.samples if t0 <= s < t1]
        return {
            **summary_ms([d for d, _ in picked]),
            "errors": sum(1 for _, c in picked if c >= 500 or c < 0),
        }


def _backlog(env: dict[str, str]) -> int:

    engine = sa.create_engine(env["DATABASE_URL"], poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM outbox WHERE processed_at IS NULL")).scalar()
    engine.dispose()
    return int(n)


def _deferred(env: dict[str, str]) -> int:
    """Listings of a bulk import with their offers to the other side's lists still to be made."""
    found = describe(env["MATCH_STORE_PATH"])
    return int(found["deferred_offers"]) if found else 0


def _answers(base: str) -> bool:

    try:
        return requests.get(base + "/healthz", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


def _import_section(
    env: dict[str, str], tmp: Path, records: dict[str, list], words: list[str], n_results: int, rps: float
) -> dict[str, Any]:
    """Bulk imports while gunicorn serves readers: how fast the worker drains them into search and
    matching, and what the readers see meanwhile."""

    port = free_port()
    server = spawn(
        [
            str(BIN / "gunicorn"),
            "-w",
            "2",
            "--threads",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "market:create_app()",
        ],
        env,
        tmp / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _answers(base), timeout=60, every=0.2)
    readers = _Readers(base, words, list(range(1, n_results + 1)), rps=rps).start()
    out: dict[str, Any] = {}
    try:
        quiet_from = time.perf_counter()
        time.sleep(10)
        out["readers_before"] = readers.between(quiet_from, time.perf_counter())
        for kind, batch in records.items():
            path = _import_file(tmp / f"import-{kind}.csv", kind, batch)
            org = "导入测试单位" if kind == "result" else "导入测试企业"
            started = time.perf_counter()
            subprocess.run(
                [
                    str(BIN / "flask"),
                    "--app",
                    "market",
                    "import",
                    f"{kind}s",
                    str(path),
                    "--publish",
                    "--org",
                    org,
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            committed = time.perf_counter()
            drained = wait_until(lambda: _backlog(env) == 0, timeout=1800, every=0.2)
            finished = time.perf_counter()
            # Drained: every listing is in search and has its own matches. The other side's lists
            # take them in after (the worker's match-offers job): until then a result's matches
            # lack the needs of the import.
            offered = wait_until(lambda: _deferred(env) == 0, timeout=1800, every=0.2)
            caught_up = time.perf_counter()
            out[f"{kind}s"] = {
                "rows": len(batch),
                "import_seconds": round(committed - started, 1),
                "drain_seconds": None if drained is None else round(drained, 1),
                "listings_per_second": None if not drained else round(len(batch) / drained, 1),
                "other_side_caught_up_seconds": None if offered is None else round(caught_up - committed, 1),
                "listings_per_second_both_sides": None
                if offered is None
                else round(len(batch) / (caught_up - committed), 1),
                "readers_during_drain": readers.between(committed, finished),
                "readers_while_catching_up": readers.between(finished, caught_up),
            }
            _log(
                f"import of {len(batch)} {kind}s drained in {drained} s, "
                f"the other side caught up {offered} s later"
            )
    finally:
        readers.stop()
        stop(server)
    return out


class _sqlite:
    def __init__(self, tmp: Path) -> None:
        self.url = f"sqlite:///{tmp / 'market.sqlite3'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


def topk_section(args: argparse.Namespace) -> dict[str, Any]:
    """The candidate step three ways on the same matrices (see the module docstring)."""
    report: dict[str, Any] = {"k": args.k}
    if args.model and Path(args.model).exists():
        _log(f"loading {args.model} (fit time not measured)")
        matcher = Matcher.load(args.model)
        report["fit_seconds"] = None
    else:
        _log(f"generating {args.results} results and {args.needs} needs")
        start = time.perf_counter()
        results, needs = synthetic(args.results, args.needs, seed=args.seed)
        report["generate_seconds"] = round(time.perf_counter() - start, 2)
        _log("fitting")
        start = time.perf_counter()
        matcher = Matcher(n_jobs=args.n_jobs).fit(results, needs)
        report["fit_seconds"] = round(time.perf_counter() - start, 2)
        del results, needs
        if args.model:
            matcher.save(args.model)
    gc.collect()

    queries = matcher._needs.index_rows
    items = matcher._results.index_rows
    items_t = matcher._results.transposed
    report["index"] = {
        "vocabulary": matcher.text.width,
        "features_per_listing": round(items.nnz / max(1, items.shape[0]), 1),
        "full_features_per_listing": round(matcher._results.rows.nnz / max(1, items.shape[0]), 1),
    }
    # One symbolic pass tells how big the naive product will be, so it is not attempted blind.

    product_nnz = int(
        _sparsetools.csr_matmat_maxnnz(
            queries.shape[0],
            items_t.shape[1],
            queries.indptr,
            queries.indices,
            items_t.indptr,
            items_t.indices,
        )
    )
    report["similarity_entries"] = {
        "nonzero": product_nnz,
        "density": round(product_nnz / (queries.shape[0] * items.shape[0]), 4),
        "naive_product_mb": round(product_nnz * 8 / 2**20, 1),
    }
    k = args.k
    runs: dict[str, dict] = {}
    _log(f"top-{k}: chunked")
    runs["chunked"] = _in_child(lambda: topk_rows(queries, items, k, items_t=items_t))
    if args.n_jobs != 1:
        _log(f"top-{k}: chunked over {args.n_jobs} processes")
        runs["chunked_parallel"] = _in_child(
            lambda: topk_rows(queries, items, k, items_t=items_t, n_jobs=args.n_jobs)
        )
    if product_nnz * 8 * 3 < _mem_available_mb() * 2**20:
        _log(f"top-{k}: naive")
        runs["naive"] = _in_child(lambda: naive_topk(queries, items, k))
    else:
        runs["naive"] = {"error": "the full product would not fit in the available memory; not run"}

    out: dict[str, Any] = {}
    for name, run in runs.items():
        out[name] = {key: round(v, 3) for key, v in run.items() if key in ("seconds", "peak_mb")}
        if "error" in run:
            out[name]["error"] = run["error"]
    report["top_k"] = out
    naive = runs["naive"].get("value")
    if naive is not None:
        report["ratios"] = {}
        for name in ("chunked", "chunked_parallel"):
            run = runs.get(name)
            if not run or "value" not in run:
                continue
            agree, bad_rows = topk_sets_agree(run["value"], naive)
            report["ratios"][name] = {
                "speedup_vs_naive": round(runs["naive"]["seconds"] / run["seconds"], 2),
                "peak_memory_fraction_of_naive": round(
                    run["peak_mb"] / max(runs["naive"]["peak_mb"], 1e-9), 4
                ),
                "top_k_sets_identical": agree,
                "rows_differing": bad_rows,
            }

    # The whole matcher step for context: candidates (k × 5), exact cosine, hybrid re-scoring.
    _log("hybrid rank")
    start = time.perf_counter()
    matcher.rank(k, explain=False)
    report["matcher_rank_hybrid_seconds"] = round(time.perf_counter() - start, 2)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", default="approval,topk", help="comma separated: approval, topk")
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--needs", type=int, default=20_000)
    parser.add_argument("--k", type=int, default=10, help="topk: candidates per need")
    parser.add_argument("--n-jobs", type=int, default=2, help="topk: worker processes for the parallel run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--model", help="topk: reuse a matcher saved here (fitted and saved on the first run)"
    )
    parser.add_argument("--approvals", type=int, default=60, help="approval: listings approved one by one")
    parser.add_argument("--warm", type=int, default=10, help="approval: the first approvals, reported apart")
    parser.add_argument("--baseline-repeats", type=int, default=3)
    parser.add_argument("--import-rows", type=int, default=0, help="approval: also import this many at once")
    parser.add_argument(
        "--reader-rps", type=float, default=20.0, help="import: read requests a second meanwhile"
    )
    parser.add_argument(
        "--database-url", default="", help="approval: a PostgreSQL server (throwaway database)"
    )
    parser.add_argument("--no-identity", dest="check_identity", action="store_false")
    parser.add_argument("--identity-sample", type=int, default=1000)
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    report: dict[str, Any] = {"results": args.results, "needs": args.needs, "machine_at_start": machine()}
    if "approval" in sections:
        report["approval"] = approval_section(args)
    if "topk" in sections:
        report["topk"] = topk_section(args)
    report["machine_at_end"] = machine()
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
