"""The background worker: drains the outbox, runs scheduled jobs, reports a heartbeat.

One loop, in one process (`flask outbox work`, which `flask serve` starts and restarts beside the web
server): drain until nothing is due, run the jobs whose time has come, write the heartbeat every few
seconds, then wait for the doorbell (a committed change) or the poll interval. Features register what
it runs through `register_handler`, `register_loader` and `register_job`.

Faults: a database that is locked, read-only or gone is reported on the heartbeat and retried with a
growing pause; SIGTERM (or the parent `flask serve` dying) finishes the batch at hand and exits; a worker
killed outright leaves its batch to its next start (`relay.release`) or, failing that, to the lease.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlmodel import select

from market.db import utcnow
from market.outbox import relay
from market.outbox.doorbell import Listener, bell_path
from market.outbox.models import WorkerState

#: a worker whose last heartbeat is older than this is reported as not running
STALE_SECONDS = 20
HEARTBEAT_SECONDS = 5


@dataclass
class Job:
    """Work the worker runs every `every` seconds (and, with `on_wake`, whenever the bell rings).

    `run(app)` returns a line for the log, or None when there was nothing to do; it must be safe to
    run again after a crash (jobs look for what is due, they do not remember what they did)."""

    name: str
    every: float
    run: Callable[[Flask], str | None]
    on_wake: bool = False
    next_at: float = 0.0


def register_handler(app: Flask, handler: relay.Handler) -> None:
    """Add a consumer of listing changes (called in registration order)."""
    app.extensions.setdefault("outbox.handlers", []).append(handler)


def register_loader(app: Flask, loader: relay.Loader) -> None:
    """Set the function that reads the current state of changed listings."""
    app.extensions["outbox.loader"] = loader


def register_job(app: Flask, job: Job) -> None:
    app.extensions.setdefault("outbox.jobs", []).append(job)


def register_warmup(app: Flask, warm: Callable[[Flask], str | None]) -> None:
    """Work the worker does once when it starts, before taking changes (open indexes, load models,
    repair what must be whole before changes are relayed into it); a line it returns is logged."""
    app.extensions.setdefault("outbox.warmups", []).append(warm)


def tx(app: Flask) -> relay.Tx:
    return relay.Tx(app.extensions["db.sessionmaker"])


def drain_now(
    app: Flask, *, worker: str = "cli", limit: int = 200, max_batches: int = 1000
) -> relay.DrainStats:
    """Drain the outbox with the app's handlers until nothing is due (commands, tests)."""
    return relay.drain(
        tx(app),
        app.extensions.get("outbox.handlers", []),
        app.extensions["outbox.loader"],
        worker=worker,
        limit=limit,
        max_batches=max_batches,
    )


class Worker:
    """The loop of `flask outbox work`. `stop()` (or SIGTERM) ends it after the batch at hand."""

    def __init__(
        self,
        app: Flask,
        *,
        name: str = "main",
        batch: int = 200,
        poll: float | None = None,
        parent_pid: int | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.app = app
        self.name = name
        self.batch = batch
        self.poll = float(app.config.get("OUTBOX_POLL_SECONDS", 1.0) if poll is None else poll)
        self.parent_pid = parent_pid
        self.echo = echo
        self._stop = threading.Event()
        self.processed = 0
        self.failed = 0
        self.last_error: str | None = None
        self._beat_at = 0.0
        self.jobs: list[Job] = [
            Job(j.name, j.every, j.run, j.on_wake) for j in app.extensions.get("outbox.jobs", [])
        ]

    def stop(self, *_args: Any) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        if self.parent_pid and os.getppid() != self.parent_pid:
            return True  # the supervising `flask serve` is gone
        return self._stop.is_set()

    def run(self) -> None:
        with self.app.app_context():
            listener = Listener(
                bell_path(self.app.instance_path), str(self.app.config.get("DATABASE_URL", ""))
            )
            pause = 1.0
            started = False
            try:
                while not self.stopping:
                    try:
                        if not started:
                            self._start()
                            started = True
                        worked = self._drain()
                        woke = self._run_jobs(woke=worked)
                        self._heartbeat()
                        pause = 1.0
                    except sa.exc.OperationalError as exc:  # locked, read-only, unreachable: wait, retry
                        self.last_error = _short(exc)
                        self.echo(f"数据库暂不可用（{self.last_error}），{pause:.0f} 秒后重试")
                        self._stop.wait(pause)
                        pause = min(30.0, pause * 2)
                        continue
                    if not (worked or woke) and listener.wait(self.poll):
                        self._run_jobs(woke=True)
            finally:
                listener.close()
                self._heartbeat(state="stopped", force=True)

    # -- steps -----------------------------------------------------------------------------------

    def _start(self) -> None:
        with tx(self.app).write() as session:
            freed = relay.release(session, self.name)
        self._heartbeat(force=True, started=True, doing="warming")
        started = time.monotonic()
        for warm in self.app.extensions.get("outbox.warmups", []):
            try:
                line = warm(self.app)
            except Exception as exc:  # a warm-up is an optimisation: the first batch or job does it anyway
                self.echo(f"预热失败：{_short(exc)}")
                continue
            if line:
                self.echo(line)
        self._heartbeat(force=True)
        self.echo(f"后台 worker 已就绪（预热 {time.monotonic() - started:.1f} 秒）")
        self.echo(
            f"后台 worker {self.name} 已启动（pid {os.getpid()}）"
            + (f"，接手 {freed} 条未完成的变更" if freed else "")
        )

    def _drain(self) -> bool:
        handlers = self.app.extensions.get("outbox.handlers", [])
        loader = self.app.extensions.get("outbox.loader")
        if loader is None:
            return False
        worked = False
        for _ in range(50):  # then give jobs and the heartbeat a turn
            if self.stopping:
                break
            stats = relay.drain_once(tx(self.app), handlers, loader, worker=self.name, limit=self.batch)
            if not stats.batches:
                break
            worked = True
            self.processed += stats.processed
            self.failed += stats.failed
            if stats.errors:
                self.last_error = stats.errors[-1][:500]
                self.echo(f"同步失败，稍后重试：{stats.errors[-1]}")
            else:
                self.echo(
                    f"已同步 {stats.listings} 条（{stats.processed} 个变更，{stats.seconds * 1000:.0f} ms）"
                )
            self._heartbeat()
        return worked

    def _run_jobs(self, *, woke: bool) -> bool:
        now = time.monotonic()
        did = False
        for job in self.jobs:
            if self.stopping:
                break
            if now < job.next_at and not (woke and job.on_wake):
                continue
            job.next_at = now + job.every
            self._heartbeat(doing=job.name)
            try:
                line = job.run(self.app)
            except sa.exc.OperationalError:
                raise
            except Exception as exc:  # a job's failure is reported; the next run tries again
                self.last_error = f"{job.name}: {_short(exc)}"
                self.echo(f"任务 {job.name} 失败：{_short(exc)}")
                self.app.logger.exception("worker job %s failed", job.name)
                continue
            if line:
                did = True
                self.echo(f"{job.name}：{line}")
        return did

    def _heartbeat(
        self, *, state: str = "running", doing: str = "", force: bool = False, started: bool = False
    ) -> None:
        now = time.monotonic()
        if not force and now - self._beat_at < HEARTBEAT_SECONDS:
            return
        self._beat_at = now
        try:
            with tx(self.app).write() as session:
                row = session.get(WorkerState, self.name) or WorkerState(name=self.name)
                if started:
                    row.started_at = utcnow()
                    row.processed = row.failed = 0
                row.pid, row.host, row.state, row.doing = (
                    os.getpid(),
                    socket.gethostname()[:100],
                    state,
                    doing,
                )
                row.beat_at = utcnow()
                row.processed, row.failed, row.last_error = self.processed, self.failed, self.last_error
                session.add(row)
        except sa.exc.OperationalError:
            if state == "stopped":
                return  # exiting anyway
            raise


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def status(session) -> list[dict[str, Any]]:
    """Every worker's last report, with `alive` (a running worker whose beat is recent)."""
    now = utcnow()
    out = []
    for row in session.exec(select(WorkerState).order_by(WorkerState.name)).all():
        beat = row.beat_at if row.beat_at.tzinfo else row.beat_at.replace(tzinfo=now.tzinfo)
        age = (now - beat).total_seconds()
        out.append(
            {
                "name": row.name,
                "pid": row.pid,
                "host": row.host,
                "alive": row.state == "running" and age < STALE_SECONDS,
                "state": row.state,
                "beat_seconds_ago": round(age, 1),
                "started_at": row.started_at,
                "processed": row.processed,
                "failed": row.failed,
                "last_error": row.last_error,
                "doing": row.doing,
            }
        )
    return out


def health(app: Flask) -> dict[str, Any]:
    """The workers' heartbeats and the outbox backlog; ok while one worker is alive."""
    with tx(app).read() as session:
        workers = status(session)
        pending = relay.backlog(session)
    return {"ok": any(w["alive"] for w in workers), "workers": workers, "backlog": pending}


def install_signal_handlers(worker: Worker) -> None:
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
