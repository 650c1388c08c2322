"""The site as users meet it: real server processes on loopback, with the background worker.

`LiveSite` makes a fresh data folder (and, for PostgreSQL, a throwaway database on the server of
TEST_DATABASE_URL), migrates it, and runs either what `make run` runs (`flask serve`: a threaded server
that supervises its worker) or the production shape (`gunicorn -w 2` beside `flask outbox work`).
Every process gets its own process group and is stopped with it; logs are kept for failure messages.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_database(server_url: str, prefix: str = "live") -> Iterator[str]:
    """A throwaway database on the server of `server_url`, dropped afterwards (tests and benches)."""
    url = sa.make_url(server_url)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


class LiveSite:
    """One instance of the platform: its data folder, database, server and worker processes."""

    def __init__(
        self,
        data: Path,
        *,
        database_url: str | None = None,
        server: str = "gunicorn",
        worker: bool = True,
        env: dict[str, str] | None = None,
        logs: Path | None = None,
        workers: int = 2,
        threads: int = 4,
    ) -> None:
        self.data = Path(data)
        self.data.mkdir(parents=True, exist_ok=True)
        self.logs = Path(logs or data)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{self.data / 'market.sqlite3'}"
        self.server_kind = server
        self.workers, self.threads = workers, threads  # gunicorn's shape
        self.with_worker = worker
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "FLASK_"))}
        self.env.pop("TEST_DATABASE_URL", None)
        self.env.update(
            DATABASE_URL=self.database_url,
            INSTANCE_PATH=str(self.data),
            SEARCH_PATH=str(self.data / "search.sqlite3"),
            MATCH_STORE_PATH=str(self.data / "matching.sqlite3"),
            UPLOAD_DIR=str(self.data / "uploads"),
            MARKET_ENV="development",
            PYTHONUNBUFFERED="1",
            RATELIMIT_REGISTER_IP="500 per hour",
            RATELIMIT_LOGIN_IP="1000 per minute",
            RATELIMIT_LOGIN_ACCOUNT="100 per minute",
        )
        self.env.update(env or {})
        self.procs: dict[str, subprocess.Popen] = {}

    # -- processes -------------------------------------------------------------------------------

    def flask(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run `flask --app market …` on this instance's data."""
        result = subprocess.run(
            [str(BIN / "flask"), "--app", "market", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def migrate(self) -> LiveSite:
        self.flask("db", "upgrade")
        return self

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start(self, timeout: float = 60) -> LiveSite:
        if self.server_kind == "serve":
            cmd = [
                str(BIN / "flask"),
                "--app",
                "market",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
            if not self.with_worker:
                cmd.append("--no-worker")
            self._spawn("server", cmd)
        else:
            self._spawn(
                "server",
                [
                    str(BIN / "gunicorn"),
                    "-w",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                    "--timeout",
                    "120",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "market:create_app()",
                ],
            )
            if self.with_worker:
                self.start_worker()
        self.wait_up(timeout)
        return self

    def start_worker(self) -> subprocess.Popen:
        return self._spawn("worker", [str(BIN / "flask"), "--app", "market", "outbox", "work"])

    def wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # answering (503 while, say, the worker has not started yet)
            except OSError:
                pass
            if self.procs["server"].poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()}")
            time.sleep(0.2)
        raise RuntimeError(f"server did not start in {timeout} s:\n{self.log()}")

    def stop(self, name: str | None = None, *, sig: int = signal.SIGTERM, grace: float = 15) -> None:
        for key in [name] if name else list(self.procs):
            proc = self.procs.pop(key, None)
            if proc is None:
                continue
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
            # children that outlived their parent keep its process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def log(self, name: str | None = None, *, tail: int | None = 6000) -> str:
        """The processes' logs (the last `tail` characters of each; None: all of it)."""
        names = [name] if name else sorted(p.stem for p in self.logs.glob("*.log"))
        parts = []
        for n in names:
            path = self.logs / f"{n}.log"
            if path.exists():
                text = path.read_text(errors="replace")
                parts.append(f"--- {n}.log ---\n" + (text[-tail:] if tail else text))
        return "\n".join(parts)

    def __enter__(self) -> LiveSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
