"""The per-account login limit across gunicorn workers: a real `gunicorn -w 2` on loopback.

Each worker process has its own memory, so with the default `memory://` storage every worker counts
failed logins separately and an attacker gets the limit once per worker. With
RATELIMIT_STORAGE_URI=redis://… the count is shared. The test makes sure the attempts really land on
both workers: it occupies one worker with an unfinished request (a sync worker serves one connection at
a time), sends some failed logins, then swaps which worker is occupied and sends the rest; the access
log's process ids show who served what.

The Redis leg uses database 7 of the local Redis and flushes only that database; it is skipped when
Redis is unreachable. The memory leg shows what the README warns about.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlmodel import Session

from market import migrate
from market.accounts.service import register_user
from market.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("RATELIMIT_TEST_REDIS", "redis://127.0.0.1:6379/7")
EMAIL = "limit@ratelimit-live.cn"
PASSWORD = "限流测试用户的正确口令2026"
LIMIT = 3


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__}); live limit test skipped")
    return client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_database(url: str) -> None:
    """Schema by migrations, one member account through the registration service."""

    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        register_user(
            session,
            email=EMAIL,
            display_name="限流测试",
            password=PASSWORD,
            role="university",
            org_name="限流测试大学",
        )
        session.commit()
    engine.dispose()


class Server:
    """gunicorn -w 2 serving the app on a free loopback port, with an access log carrying worker pids."""

    def __init__(self, tmp: Path, storage: str) -> None:
        url = f"sqlite:///{tmp / 'market.sqlite3'}"
        _prepare_database(url)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.access = tmp / "access.log"
        env = dict(
            os.environ,
            MARKET_ENV="development",
            SECRET_KEY="ratelimit-live-test-secret-key-0123456789",
            DATABASE_URL=url,
            SEARCH_PATH=str(tmp / "search.sqlite3"),
            MATCH_STORE_PATH=str(tmp / "matching.sqlite3"),
            INSTANCE_PATH=str(tmp),
            UPLOAD_DIR=str(tmp / "uploads"),
            MEILI_URL="",
            RATELIMIT_STORAGE_URI=storage,
            RATELIMIT_LOGIN_ACCOUNT=f"{LIMIT} per minute",
            RATELIMIT_LOGIN_IP="1000 per minute",
        )
        for name in ("TEST_DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = (tmp / "server.log").open("w")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--no-control-socket",  # the default path is one per user: other servers may hold it
                "--access-logfile",
                str(self.access),
                "--access-logformat",
                '%(p)s %(s)s "%(r)s"',
                "market:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_up(tmp)

    def _wait_up(self, tmp: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("gunicorn exited:\n" + (tmp / "server.log").read_text()[-3000:])
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code in (200, 503):
                    self.workers = self._booted_workers(tmp)
                    if len(self.workers) == 2:
                        return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + (tmp / "server.log").read_text()[-3000:])

    @staticmethod
    def _booted_workers(tmp: Path) -> set[str]:
        return set(re.findall(r"Booting worker with pid: (\d+)", (tmp / "server.log").read_text()))

    def hold(self) -> socket.socket:
        """Occupy one idle worker with a request whose headers never end (until `release`)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)  # let a worker accept it; the other one then gets every new connection
        return sock

    @staticmethod
    def release(sock: socket.socket) -> None:
        sock.sendall(b"Connection: close\r\n\r\n")
        sock.recv(65536)
        sock.close()

    def failed_login(self, password: str = "这不是正确的口令啊") -> int:
        """One login attempt on fresh connections (the form's CSRF token first): the status code."""
        with requests.Session() as http:
            http.headers["Connection"] = "close"
            page = http.get(f"{self.base}/login", timeout=10)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
            token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
            assert token, page.text[:500]
            resp = http.post(
                f"{self.base}/login",
                data={"csrf_token": token.group(1), "email": EMAIL, "password": password},
                allow_redirects=False,
                timeout=10,
            )
            return resp.status_code

    def login_pids(self) -> list[tuple[str, str]]:
        """(worker pid, status) of every POST /login, in the order they were answered."""
        time.sleep(0.2)
        lines = self.access.read_text().splitlines()
        return [(m[1], m[2]) for line in lines if (m := re.match(r'<(\d+)> (\d+) "POST /login ', line))]

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def _attempts_split_across_workers(server: Server) -> list[int]:
    """LIMIT - 1 failed logins on one worker, then four more on the other one."""
    first = server.hold()
    codes = [server.failed_login() for _ in range(LIMIT - 1)]
    second = server.hold()  # taken by the worker that served the attempts so far (the other is busy)
    server.release(first)
    codes += [server.failed_login() for _ in range(3)]
    codes.append(server.failed_login(password=PASSWORD))  # even the right password waits now
    server.release(second)
    pids = server.login_pids()
    early = {pid for pid, _ in pids[: LIMIT - 1]}
    late = {pid for pid, _ in pids[LIMIT - 1 :]}
    assert len(early) == 1 and len(late) == 1 and early != late, f"attempts did not split: {pids}"
    assert early | late <= server.workers
    return codes


@pytest.fixture
def redis_db():
    client = _redis_or_skip()
    client.flushdb()  # only database 7 (REDIS_URL), never the others
    yield client
    client.flushdb()
    client.close()


def test_login_limit_holds_across_two_gunicorn_workers_with_redis(tmp_path, redis_db):
    server = Server(tmp_path, REDIS_URL)
    try:
        codes = _attempts_split_across_workers(server)
    finally:
        server.stop()
    # The second worker had seen one failure itself; the shared count had LIMIT after it.
    assert codes == [400] * LIMIT + [429] * 3, codes
    assert redis_db.dbsize() > 0  # the counters really live in Redis


def test_without_shared_storage_each_worker_counts_alone(tmp_path):
    """What the README warns about: memory:// gives every worker its own count."""
    server = Server(tmp_path, "memory://")
    try:
        codes = _attempts_split_across_workers(server)
    finally:
        server.stop()
    assert codes[: LIMIT + 1] == [400] * (LIMIT + 1), codes  # one failure more than the limit went through
