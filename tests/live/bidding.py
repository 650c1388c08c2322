"""Bidders against a live site: an auction with N qualified buyers, and N threads bidding at once.

Shared by tests/live/test_bidding_live.py (the concurrency test) and bench/bid_bench.py (the numbers).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import select as sockets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import requests
from sqlmodel import select

from market.accounts.models import Organization, User
from market.accounts.passwords import hash_password
from market.db import utcnow
from market.listings.models import ResearchResult
from market.trade import service as svc
from market.trade.models import ListingSaleStatus
from tests.live.seeding import live_app
from tests.live_site import LiveSite

PASSWORD = "live-bidder-password-2026"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def arrange_auction(
    site: LiveSite,
    bidders: int,
    *,
    tag: str,
    minutes: int = 30,
    extend: int = 5,
    reserve: str = "100",
    start: str = "50",
) -> dict:
    """A seller's result listed for sale, `bidders` enterprises qualified, and the auction started
    (start price `start`, reserve `reserve`, increment 0.5 万元)."""
    pw_hash = hash_password(PASSWORD)
    with live_app(site) as (_app, session):

        def member(name: str, kind: str, role: str, email: str) -> User:
            org = Organization(name=name, kind=kind, region="天津", verified=True, verified_at=utcnow())
            session.add(org)
            session.flush()
            user = User(
                email=email, display_name=name[:20], role=role, organization_id=org.id, password_hash=pw_hash
            )
            session.add(user)
            session.flush()
            return user

        seller = member(f"{tag}大学", "高校", "university", f"seller-{tag}@live.kjcg.cn")
        admin = session.exec(select(User).where(User.role == "admin")).first()
        if admin is None:
            admin = User(
                email=f"admin-{tag}@live.kjcg.cn", display_name="运营", role="admin", password_hash=pw_hash
            )
            session.add(admin)
            session.flush()
        result = ResearchResult(
            organization_id=seller.organization_id,
            title=f"{tag}高效钙钛矿光伏组件封装技术",
            summary="一种提高钙钛矿组件湿热稳定性的封装工艺。",
            status="已发布",
            published_at=utcnow(),
        )
        session.add(result)
        session.flush()
        listing = svc.create_listing(
            session,
            actor=seller,
            result_id=result.id,
            price_kind="保留价",
            price_wan=reserve,
            start_wan=start,
            mode="转让",
            qualifications="注册在京津冀的企业",
            deposit_wan="5",
            increment_wan="0.5",
            bidding_minutes=minutes,
            extend_minutes=extend,
            days=1,
        )
        emails = []
        for i in range(bidders):
            user = member(f"{tag}竞买企业{i}", "企业", "enterprise", f"bidder{i}-{tag}@live.kjcg.cn")
            reg = svc.register_buyer(
                session, actor=user, listing=listing, statement="满足资格条件，保证金已汇出"
            )
            svc.check_buyer(session, actor=admin, registration=reg, qualified=True, deposit_ref=f"DEP{i}")
            emails.append(user.email)
        listing.status = ListingSaleStatus.BIDDING
        listing.closed_at = utcnow()
        session.add(listing)
        auction = svc.start_auction(session, listing=listing, now=utcnow())
        auction.ends_at = utcnow() + timedelta(minutes=minutes)
        session.add(auction)
        session.commit()
        return {"auction_id": auction.id, "emails": emails, "listing_id": listing.id}


@dataclass
class BidStats:
    latencies: list[float] = field(default_factory=list)
    #: the latencies of every bid but each bidder's first (all of which leave at the same instant)
    later_latencies: list[float] = field(default_factory=list)
    #: each bidder's first bid (the burst: all leave together)
    first_latencies: list[float] = field(default_factory=list)
    codes: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    accepted_prices: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accepted(self) -> int:
        return self.codes.get(201, 0)

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.codes.items() if code >= 500)


def login(base: str, email: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    page = http.get(base + "/login", timeout=60)
    token = CSRF.search(page.text).group(1)
    r = http.post(
        base + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    if r.status_code != 302:
        raise AssertionError(f"login {email}: {r.status_code}")
    return http, token


@dataclass
class BidAnswer:
    status: int
    body: dict
    text: str
    retry_after: str | None


class BidClient:
    """One bidder's browser tab for bidding: its own keep-alive connection, its session cookie, and the
    form post the page's script sends (`price_wan` and the page's CSRF token, answered in JSON).

    Deliberately light: the bidders run on the server's own machine, so every millisecond of CPU the
    load generator spends is taken from the server and shows up in the latency it measures. `requests`
    costs about 1 ms of CPU per call (0.2 ms here), and 50 threads of it contend for one GIL — at the
    instant all bidders leave together, the last one's request was sent some 40 ms after the first.
    Like a browser (and urllib3), it reconnects when the server has closed the idle connection
    (gunicorn's keep-alive is 2 s), and retries a request only on a reused connection that the server
    closed before answering anything."""

    def __init__(self, base: str, http_session: requests.Session, token: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies = {c.name: c.value for c in http_session.cookies}
        self.token = token
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """The open connection (reused: True), or a new one when there is none or the server closed it
        (an idle keep-alive connection the server has closed reads as ready, at end of file)."""
        if self.conn is not None and self.conn.sock is not None:
            readable, _, _ = sockets.select([self.conn.sock], [], [], 0)
            if not readable:
                return self.conn, True
            self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.conn, False

    def bid(self, path: str, price: str) -> BidAnswer:
        """POST a bid and read the answer."""
        body = urlencode({"price_wan": price, "csrf_token": self.token})
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self.conn = None
                if not reused or attempt == 2:
                    raise
        if response.will_close:
            conn.close()
            self.conn = None
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
        kind = response.headers.get("Content-Type", "")
        return BidAnswer(
            status=response.status,
            body=json.loads(raw) if kind.startswith("application/json") else {},
            text=raw.decode(errors="replace"),
            retry_after=response.headers.get("Retry-After"),
        )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def run_bidders(
    base: str,
    auction_id: int,
    emails: list[str],
    *,
    seconds: float,
    think: float = 0.0,
    on_start: Callable[[], None] | None = None,
) -> BidStats:
    """Every bidder signs in, then all bid together for `seconds`: each always bids the lowest
    acceptable price it last heard of (from its own answer), so many bids collide at the same price.
    With `think`, a bidder waits a random 0–2×`think` seconds between bids (people, or scripts that
    poll); without it, each bids again as soon as it has its answer (saturation). `on_start` runs
    once, as the bidders are released (after the sign-ins: the bench reads CPU counters there)."""
    sessions: list[tuple[requests.Session, str]] = [None] * len(emails)  # type: ignore[list-item]

    def sign_in(i: int) -> None:
        sessions[i] = login(base, emails[i])

    threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(len(emails))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # each bidder's CSRF token comes from the auction page, as a browser's would
    for i, (browser, _) in enumerate(sessions):
        page = browser.get(f"{base}/trade/auctions/{auction_id}", timeout=60)
        sessions[i] = (browser, CSRF.search(page.text).group(1))
    stats = BidStats()
    lock = threading.Lock()
    barrier = threading.Barrier(len(emails), action=on_start)
    path = f"/trade/auctions/{auction_id}/bids"
    clients = [BidClient(base, browser, token) for browser, token in sessions]
    start_state = requests.get(f"{base}/api/v1/auctions/{auction_id}", timeout=60).json()

    def bidder(i: int) -> None:
        client = clients[i]
        rng = random.Random(i)
        minimum = start_state["minimum_wan"]
        barrier.wait()
        deadline = time.monotonic() + seconds
        first = True
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                answer = client.bid(path, f"{minimum:g}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                stats.latencies.append(elapsed)
                (stats.first_latencies if first else stats.later_latencies).append(elapsed)
                stats.codes[answer.status] += 1
                if answer.status == 201:
                    stats.accepted_prices.append(answer.body["price_wan"])
                elif answer.status not in (409, 503):
                    stats.errors.append(f"{answer.status}: {answer.text[:200]}")
            first = False
            if think:
                time.sleep(rng.uniform(0, 2 * think))
            state = answer.body.get("auction") or {}
            if "minimum_wan" in state:
                minimum = state["minimum_wan"]
            elif answer.status == 503:
                time.sleep(float(answer.retry_after or "1"))

    started = time.monotonic()
    workers = [threading.Thread(target=bidder, args=(i,)) for i in range(len(emails))]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stats.seconds = time.monotonic() - started
    for client in clients:
        client.close()
    return stats
