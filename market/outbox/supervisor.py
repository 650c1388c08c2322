"""`flask serve`: the web server and, beside it, the background worker, started and stopped together.

The worker runs as a child process (`flask outbox work --parent <pid>`), so a crash in it never takes
the site down; the supervisor restarts it with a growing pause (reset once it has run a minute). The
child also watches its parent and exits when `flask serve` is gone, however that happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import run_simple

from market.outbox.worker import status, tx


class WorkerSupervisor:
    """Keeps one `flask outbox work` child running until `stop()`."""

    def __init__(self, app: Flask, *, echo: Callable[[str], None] = print, max_pause: float = 30.0) -> None:
        self.app = app
        self.echo = echo
        self.max_pause = max_pause
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="worker-supervisor", daemon=True)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "market",
            "outbox",
            "work",
            "--parent",
            str(os.getpid()),
        ]

    def start(self) -> None:
        self._thread.start()

    def _spawn(self) -> subprocess.Popen:
        env = dict(os.environ, INSTANCE_PATH=self.app.instance_path, PYTHONUNBUFFERED="1")
        return subprocess.Popen(self.command(), env=env)

    def _loop(self) -> None:
        pause = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            self.proc = self._spawn()
            code = self.proc.wait()
            if self._stopping.is_set():
                break
            if time.monotonic() - started > 60:
                pause = 1.0
            self.restarts += 1
            self.echo(f"后台 worker 已退出（代码 {code}），{pause:.0f} 秒后重启")
            self._stopping.wait(pause)
            pause = min(self.max_pause, pause * 2)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the worker has warmed up (its heartbeat says so), at most `timeout` seconds, so that
        the first approvals are relayed at once rather than after the worker's start-up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stopping.is_set():
            proc = self.proc
            if proc is not None:
                try:
                    with tx(self.app).read() as session:
                        workers = status(session)
                except sa.exc.DBAPIError:  # a database that refuses is the worker's to report
                    workers = []
                if any(w["pid"] == proc.pid and w["alive"] and w["doing"] != "warming" for w in workers):
                    return True
            time.sleep(0.2)
        return False

    def stop(self, grace: float = 15.0) -> None:
        """Ask the worker to finish its batch and exit; kill it after `grace` seconds."""
        self._stopping.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._thread.join(grace)


def serve(app: Flask, *, host: str, port: int, worker: bool = True, threads: bool = True) -> None:
    """Serve `app` with Werkzeug's threaded server and supervise the worker until interrupted."""
    supervisor = WorkerSupervisor(app) if worker else None

    def _terminate(*_args) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    if supervisor is not None:
        supervisor.start()
        wait = float(app.config.get("WORKER_START_WAIT", 15))
        if not supervisor.wait_ready(wait):
            print(f"后台 worker {wait:.0f} 秒内未就绪，网站先行启动（就绪后自动处理积压的变更）", flush=True)
    try:
        run_simple(host, port, app, threaded=threads, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        if supervisor is not None:
            supervisor.stop()
