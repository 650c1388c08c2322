"""The core loop under a burst: N approvals sent at once over HTTP to a real server process.

    python bench/burst_bench.py                          # 8 approvals, `make run`'s server, SQLite
    python bench/burst_bench.py --approvals 16 --cmd "gunicorn -w 2 -b 127.0.0.1:{port} market:create_app()"
    python bench/burst_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

In a fresh temp dir: `flask db upgrade`, `flask seed demo`, then N new results submitted for review
(copies of demo results with a marker in the title, so each has real matches to find). The server
command runs as it would for a user (default: what `make run` serves; `{port}` is filled in), with
`--worker CMD` started beside it when the server does not run background work itself. An admin signs
in, and N threads each approve one listing at the same moment. Then every 0.25 s, up to `--wait`
seconds: is the listing in /api/v1/search, and does /api/v1/results/<id>/matches list matches?

Prints one JSON object: the approvals' status codes and latencies, per listing the seconds until
searchable and until matched (null = never within the wait), how many were searchable / matched at the
end, the server log's "database is locked" lines and 5xx responses, and the same counts for a second
burst of logins sent meanwhile (logins write, so they contend with the relay).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from _common import create_pg_database  # the benches run as scripts: bench/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ADMIN = ("admin@demo.kjcg.cn", "kejichengguo-demo-2026")
MEMBER = ("tju@demo.kjcg.cn", "kejichengguo-demo-2026")


def log(message: str) -> None:
    print(f"[burst] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(tmp: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "FLASK_"))}
    env.update(
        DATABASE_URL=database_url,
        SEARCH_PATH=str(tmp / "search.sqlite3"),
        MATCH_MODEL_PATH=str(tmp / "matcher.joblib"),
        MATCH_STORE_PATH=str(tmp / "matching.sqlite3"),
        UPLOAD_DIR=str(tmp / "uploads"),
        INSTANCE_PATH=str(tmp),
        MARKET_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    return env


def run(cmd: list[str], env: dict[str, str], logfile: Path) -> None:
    with logfile.open("ab") as out:
        code = subprocess.call(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    if code:
        raise RuntimeError(f"{cmd} failed:\n{logfile.read_text(errors='replace')[-3000:]}")


def spawn(cmd: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    out = logfile.open("ab")
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def pending_listings(env: dict[str, str], n: int) -> list[tuple[int, str]]:
    """N results submitted for review, copied from demo results (so they have matches to find)."""
    code = f"""
import json, os
from sqlmodel import select
from market import create_app
from market.db import db
from market.accounts.models import User
from market.listings import service
from market.listings.models import ResearchResult
from market.listings.schemas import SCHEMAS
app = create_app()
with app.app_context():
    s = db()
    user = s.exec(select(User).where(User.email == {MEMBER[0]!r})).one()
    sources = s.exec(select(ResearchResult).where(ResearchResult.organization_id == user.organization_id)
                     .order_by(ResearchResult.id).limit({n})).all()
    out = []
    for i, src in enumerate(sources):
        data = {{k: getattr(src, k) for k in SCHEMAS['result'].model_fields if k != 'external_id'}}
        data['title'] = f"{{src.title}}（第{{i + 1}}批）"
        listing = service.create_listing(s, actor=user, kind='result', data=data)
        service.submit(s, actor=user, listing=listing)
        out.append((listing.id, data['title']))
    s.commit()
    print(json.dumps(out, ensure_ascii=False))
"""
    raw = subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, env=env)
    return [tuple(x) for x in json.loads(raw.decode().strip().splitlines()[-1])]


def signed_in(base: str, email: str, password: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/login", timeout=30).text
    token = CSRF.search(page).group(1)
    r = s.post(f"{base}/login", data={"csrf_token": token, "email": email, "password": password}, timeout=60)
    if r.status_code >= 400 or "/login" in r.url:
        raise RuntimeError(f"login failed: {r.status_code}")
    return s


def wait_up(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                return
        time.sleep(0.2)
    raise RuntimeError("server did not come up")


def burst(base: str, listings: list[tuple[int, str]], logins: int) -> dict[str, Any]:
    sessions = [signed_in(base, *ADMIN) for _ in listings]
    tokens = [CSRF.search(s.get(f"{base}/admin/review", timeout=30).text).group(1) for s in sessions]
    barrier = threading.Barrier(len(listings) + logins)
    approvals: list[dict[str, Any]] = [{} for _ in listings]
    login_codes: list[int] = []

    def approve(i: int) -> None:
        listing_id, _ = listings[i]
        barrier.wait()
        t0 = time.perf_counter()
        try:
            r = sessions[i].post(
                f"{base}/admin/review/results/{listing_id}",
                data={"csrf_token": tokens[i], "decision": "approve"},
                allow_redirects=False,
                timeout=120,
            )
            approvals[i] = {"status": r.status_code, "ms": round((time.perf_counter() - t0) * 1000, 1)}
        except requests.RequestException as exc:
            approvals[i] = {"status": type(exc).__name__, "ms": None}
        approvals[i]["approved_at"] = time.monotonic()

    def login_once() -> None:
        s = requests.Session()
        token = CSRF.search(s.get(f"{base}/login", timeout=30).text).group(1)
        barrier.wait()
        try:
            r = s.post(
                f"{base}/login",
                data={"csrf_token": token, "email": MEMBER[0], "password": MEMBER[1]},
                allow_redirects=False,
                timeout=120,
            )
            login_codes.append(r.status_code)
        except requests.RequestException:
            login_codes.append(-1)

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(len(listings))]
    threads += [threading.Thread(target=login_once) for _ in range(logins)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"approvals": approvals, "login_codes": login_codes, "viewer": sessions[0]}


def follow(base: str, viewer: requests.Session, listings, approvals, wait: float) -> list[dict[str, Any]]:
    state = [{"id": lid, "searchable_s": None, "matched_s": None, "matches": 0} for lid, _ in listings]
    start = min(a["approved_at"] for a in approvals)
    deadline = start + wait
    while time.monotonic() < deadline:
        pending = False
        for (lid, title), st in zip(listings, state, strict=True):
            now = time.monotonic() - start
            if st["searchable_s"] is None:
                pending = True
                with contextlib.suppress(requests.RequestException, ValueError):
                    hits = requests.get(
                        f"{base}/api/v1/search", params={"q": title, "kind": "result"}, timeout=10
                    ).json()["hits"]
                    if any(h["id"] == lid for h in hits):
                        st["searchable_s"] = round(now, 2)
            if st["matched_s"] is None:
                pending = True
                with contextlib.suppress(requests.RequestException, ValueError):
                    r = viewer.get(f"{base}/api/v1/results/{lid}/matches", timeout=10)
                    found = r.json().get("matches", []) if r.status_code == 200 else []
                    if found:
                        st["matched_s"], st["matches"] = round(now, 2), len(found)
        if not pending:
            break
        time.sleep(0.25)
    return state


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--approvals", type=int, default=8)
    p.add_argument("--logins", type=int, default=8, help="logins sent in the same instant")
    p.add_argument("--wait", type=float, default=60.0)
    p.add_argument("--cmd", default="", help="server command ({port}); default: what `make run` serves")
    p.add_argument("--worker", default="", help="a background worker command to start beside the server")
    p.add_argument("--database-url", default="", help="a PostgreSQL server URL (a throwaway database)")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="burst-"))
    drop = None
    if args.database_url:
        sys.path.insert(0, str(ROOT))

        url, drop = create_pg_database(args.database_url)
    else:
        url = f"sqlite:///{tmp / 'market.sqlite3'}"
    env = env_for(tmp, url)
    logfile = tmp / "server.log"
    flask = [str(BIN / "flask"), "--app", "market"]
    procs: list[subprocess.Popen] = []
    try:
        log(f"preparing {tmp}")
        run([*flask, "db", "upgrade"], env, tmp / "prepare.log")
        run([*flask, "seed", "demo"], env, tmp / "prepare.log")
        listings = pending_listings(env, args.approvals)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        if args.cmd:
            cmd = [str(BIN / c) if (BIN / c).exists() else c for c in shlex.split(args.cmd.format(port=port))]
        elif "$(FLASK) serve" in (ROOT / "Makefile").read_text():
            cmd = [*flask, "serve", "--host", "127.0.0.1", "--port", str(port)]
        else:
            cmd = [*flask, "run", "--host", "127.0.0.1", "--port", str(port), "--with-threads"]
        procs.append(spawn(cmd, env, logfile))
        if args.worker:
            procs.append(
                spawn(
                    [str(BIN / c) if (BIN / c).exists() else c for c in shlex.split(args.worker)],
                    env,
                    logfile,
                )
            )
        wait_up(base, procs[0])
        log(f"serving {' '.join(cmd)}; {len(listings)} approvals and {args.logins} logins at once")
        out = burst(base, listings, args.logins)
        state = follow(base, out["viewer"], listings, out["approvals"], args.wait)
        text = logfile.read_text(errors="replace")
        codes = [a["status"] for a in out["approvals"]]
        searchable = [s["searchable_s"] for s in state if s["searchable_s"] is not None]
        matched = [s["matched_s"] for s in state if s["matched_s"] is not None]
        report = {
            "server": " ".join(cmd[1:] if cmd[0].endswith("flask") else cmd).replace(str(BIN) + "/", ""),
            "worker": args.worker or None,
            "database": "postgresql" if args.database_url else "sqlite",
            "approvals": len(listings),
            "approval_status": codes,
            "approval_ms": [a["ms"] for a in out["approvals"]],
            "login_status": sorted(out["login_codes"]),
            "searchable": len(searchable),
            "matched": len(matched),
            "max_seconds_to_searchable": max(searchable) if searchable else None,
            "max_seconds_to_matched": max(matched) if matched else None,
            "wait_seconds": args.wait,
            "listings": state,
            "log_database_locked": text.count("database is locked"),
            "log_5xx": len(re.findall(r'" 5\d\d ', text)),
            "data_dir": str(tmp) if args.keep else None,
        }
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    finally:
        for proc in procs:
            stop(proc)
        if drop:
            drop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
