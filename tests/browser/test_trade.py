"""展示交易 in a real browser against gunicorn and the worker: a buyer registers on a listing, is qualified
by the administrator, bids, is outbid, and wins in the soft close; a publicity gets an objection and the
administrator rules on it; the winner downloads the evidence pack with its five parts."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import timedelta

import pytest
import requests
from sqlmodel import select

from market.accounts.models import Organization, User
from market.accounts.passwords import hash_password
from market.db import utcnow
from market.listings.models import ResearchResult
from market.trade import service as svc
from market.trade.models import Auction, SaleListing
from tests.browser.conftest import ADMIN
from tests.live.bidding import CSRF, PASSWORD, login
from tests.live.seeding import live_app
from tests.live_site import LiveSite

SELLER, BUYER_A, BUYER_B = "seller@trade-browser.cn", "buyer-a@trade-browser.cn", "buyer-b@trade-browser.cn"


@pytest.fixture(scope="module")
def trade_site(tmp_path_factory):
    site = LiveSite(tmp_path_factory.mktemp("trade-browser"), server="gunicorn").migrate()
    site.flask(
        "users", "create-admin", "--email", ADMIN["email"], "--name", "运营", "--password", ADMIN["password"]
    )
    with site.start():
        yield site


@pytest.fixture(scope="module")
def live_server(trade_site):
    """The browser fixtures of conftest open pages on this module's site."""
    return trade_site.base


@pytest.fixture(scope="module")
def arranged(trade_site):
    """A university with a published result listed for sale (1-minute bidding, 1-minute soft close) and
    publicised at an agreed price; two buyer enterprises; B already qualified."""
    pw = hash_password(PASSWORD)
    with live_app(trade_site) as (_app, session):
        ids = {}
        for email, name, kind, role in (
            (SELLER, "北洋浏览器测试大学", "高校", "university"),
            (BUYER_A, "津门浏览器测试甲公司", "企业", "enterprise"),
            (BUYER_B, "津门浏览器测试乙公司", "企业", "enterprise"),
        ):
            org = Organization(name=name, kind=kind, verified=True, verified_at=utcnow())
            session.add(org)
            session.flush()
            user = User(
                email=email, display_name=name[:8], role=role, organization_id=org.id, password_hash=pw
            )
            session.add(user)
            session.flush()
            ids[email] = user
        results = []
        for title in ("低温等离子体废气处理装置", "海水淡化反渗透膜抗污染涂层"):
            r = ResearchResult(
                organization_id=ids[SELLER].organization_id,
                title=title,
                summary="一种处理工业废气的装置。",
                status="已发布",
                published_at=utcnow(),
            )
            session.add(r)
            session.flush()
            results.append(r)
        listing = svc.create_listing(
            session,
            actor=ids[SELLER],
            result_id=results[0].id,
            price_kind="保留价",
            price_wan="100",
            start_wan="90",
            mode="转让",
            qualifications="京津冀的环保设备企业",
            deposit_wan="5",
            increment_wan="5",
            bidding_minutes=1,
            extend_minutes=1,
            days=1,
        )
        admin = session.exec(select(User).where(User.role == "admin")).one()
        reg = svc.register_buyer(
            session, actor=ids[BUYER_B], listing=listing, statement="乙公司满足条件，保证金已汇"
        )
        svc.check_buyer(session, actor=admin, registration=reg, qualified=True, deposit_ref="BZJ-B")
        pub = svc.create_publicity(
            session,
            actor=ids[SELLER],
            result_id=results[1].id,
            price_wan="45",
            mode="转让",
            buyer_name="津门浏览器测试乙公司",
            team="化工学院 测试团队",
            days=15,
        )
        session.commit()
        return {"listing_id": listing.id, "publicity_id": pub.id}


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def admin(new_page):
    page = new_page()
    sign_in(page, ADMIN["email"], ADMIN["password"])
    return page


def end_announcement_now(site: LiveSite, listing_id: int) -> int:
    """Move the listing's announcement close to now; the worker opens the auction. Returns its id."""
    with live_app(site) as (_app, session):
        listing = session.get(SaleListing, listing_id)
        listing.closes_at = utcnow() - timedelta(seconds=1)
        session.add(listing)
        session.commit()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with live_app(site) as (_app, session):
            auction = session.exec(select(Auction).where(Auction.listing_id == listing_id)).first()
            if auction is not None:
                return auction.id
        time.sleep(0.5)
    raise AssertionError(f"the worker did not open the auction:\n{site.log('worker')}")


def test_buyer_registers_is_qualified_bids_is_outbid_and_wins_in_the_soft_close(
    new_page, trade_site, arranged
):
    listing_id = arranged["listing_id"]
    buyer = new_page()
    sign_in(buyer, BUYER_A)
    buyer.goto(f"/trade/listings/{listing_id}")
    buyer.fill("textarea[name=statement]", "甲公司为环保设备制造企业，保证金已于今日汇出")
    buyer.get_by_role("button", name="登记为意向受让方").click()
    assert "等待平台运营审核" in buyer.content()
    assert "待审核" in buyer.locator("#my-registration").inner_text()

    ops = admin(new_page)
    ops.goto(f"/trade/listings/{listing_id}")
    row = ops.locator(".registration", has_text="津门浏览器测试甲公司")
    row.locator("input[name=deposit_ref]").fill("BZJ-A-001")
    row.get_by_role("button", name="确认资格与保证金").click()
    assert "已审核：已确认" in ops.content()
    buyer.reload()
    assert "已确认" in buyer.locator("#my-registration").inner_text()

    auction_id = end_announcement_now(trade_site, listing_id)
    buyer.goto(f"/trade/auctions/{auction_id}")
    buyer.wait_for_selector("#bid-form")
    buyer.fill("#price", "90")
    buyer.get_by_role("button", name="出价").click()
    buyer.locator("#bid-message", has_text="出价成功").wait_for()

    # B outbids over HTTP; A's page learns it by polling, without a reload
    http, _ = login(trade_site.base, BUYER_B)
    token = CSRF.search(http.get(f"{trade_site.base}/trade/auctions/{auction_id}", timeout=30).text).group(1)
    r = http.post(
        f"{trade_site.base}/trade/auctions/{auction_id}/bids",
        data={"price_wan": "100", "csrf_token": token},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    buyer.locator("#bid-message", has_text="已被超越").wait_for(timeout=15_000)
    assert "100 万元" in buyer.locator("#best").inner_text()

    # a bid at B's price is refused with the new best; then A bids above it, in the last minute
    buyer.fill("#price", "100")
    buyer.get_by_role("button", name="出价").click()
    buyer.locator("#bid-message", has_text="至少应出 105").wait_for()
    ends_before = buyer.locator("#ends-at").inner_text()
    time.sleep(1.1)  # the close is shown to the second
    buyer.fill("#price", "105")
    buyer.get_by_role("button", name="出价").click()
    buyer.locator("#bid-message", has_text="出价成功").wait_for()
    buyer.locator("#ends-at").filter(has_not_text=ends_before).wait_for()
    assert buyer.locator("#ends-at").inner_text() > ends_before  # the soft close moved the end later

    # nobody answers: the worker closes the auction at its extended time and A has won
    buyer.locator("#bid-message", has_text="竞价已结束").wait_for(timeout=120_000)
    state = requests.get(f"{trade_site.base}/api/v1/auctions/{auction_id}", timeout=30).json()
    assert state["status"] == "已成交" and state["best_wan"] == 105
    buyer.goto("/notifications")
    assert "成交" in buyer.content()

    # the winner downloads the evidence pack: five parts, the bid log verifies
    buyer.goto(f"/trade/auctions/{auction_id}")
    buyer.get_by_role("link", name="成交 #").first.click()
    with buyer.expect_download() as download:
        buyer.click("#evidence-pack")
    data = download.value.path().read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    for part in (
        "1-公示或挂牌记录.json",
        "2-异议与裁定.json",
        "3-竞价日志.json",
        "4-成交确认书.pdf",
        "5-技术合同.json",
    ):
        assert part in names
    log = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("3-竞价日志.json"))
    assert log["verification"]["ok"] and [e["price_wan"] for e in log["entries"]] == [90, 100, 105]


def test_publicity_objection_and_ruling(new_page, arranged):
    pub_id = arranged["publicity_id"]
    visitor = new_page()
    visitor.goto(f"/trade/publicity/{pub_id}")
    assert "公示中" in visitor.content()
    countdown = visitor.locator("#publicity-countdown").inner_text()
    assert countdown.startswith("距截止：14 天") and countdown.endswith("秒")  # ticking, by the script
    objector = new_page()
    sign_in(objector, BUYER_A)
    objector.goto(f"/trade/publicity/{pub_id}")
    objector.fill("textarea[name=reason]", "同类成果近期成交价在 80 万元以上，拟交易价格明显偏低")
    objector.get_by_role("button", name="提出异议").click()
    assert "异议已提交" in objector.content()
    ops = admin(new_page)
    ops.goto("/trade/admin")
    ops.get_by_role("link", name="海水淡化反渗透膜抗污染涂层").click()
    form = ops.locator(".ruling-form").first
    form.locator("input[value=dismiss]").check()
    form.locator("textarea[name=reason]").fill(
        "评估报告显示评估值为 42 万元，协议价格不低于评估值，异议不成立"
    )
    form.get_by_role("button", name="提交裁定").click()
    assert "裁定已记录并公布" in ops.content()
    objector.reload()
    ruling = objector.locator(".ruling").first.inner_text()
    assert "异议不成立" in ruling and "评估值为 42 万元" in ruling
    assert "公示中" in objector.content()  # a dismissed objection lets the publicity run on
