"""Financing and events in a real browser: an investor is verified, accepts the NDA, opens the data
room and moves a request to 尽调; a participant registers for an event, requests a meeting, the other
side accepts, the agenda shows it and the .ics downloads."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import admin_page, register
from tests.browser.test_journey import unique, verify_org

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CST = timezone(timedelta(hours=8))


def test_investor_nda_data_room_and_pipeline(new_page):
    uni_org, fund = unique("北洋融资测试大学"), unique("渤海测试创投")
    title = unique("宽温域电解液中试线融资")
    admin = admin_page(new_page)

    owner = new_page()
    register(owner, role="university", email=f"{unique('fo')}@kjcg-browser.cn", name="王老师", org=uni_org)
    verify_org(admin, uni_org)
    owner.goto("/financing/new")
    owner.fill("input[name=title]", title)
    owner.fill(
        "textarea[name=summary]", "建设年产 500 吨宽温域锂电池电解液中试线，面向储能与北方物流车市场。"
    )
    owner.select_option("select[name=field]", "储能")
    owner.fill("input[name=amount_wan]", "800")
    owner.select_option("select[name=instrument]", "股权")
    owner.select_option("select[name=stage]", "A 轮")
    owner.get_by_role("button", name="保存").click()
    owner.wait_for_url(re.compile(r"/financing/\d+$"))
    request_url = owner.url
    owner.set_input_files(
        "input[name=file]", {"name": "商业计划书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    owner.get_by_role("button", name="上传").click()
    assert "文件已加入数据室" in owner.content()
    owner.get_by_role("button", name="提交审核").click()
    admin.goto("/financing/review")
    admin.locator(".card", has_text=title).get_by_role("button", name="通过并发布").click()
    admin.wait_for_load_state()

    investor = new_page()
    register(investor, role="investor", email=f"{unique('inv')}@kjcg-browser.cn", name="李投资", org=fund)
    investor.goto(request_url)
    assert "尚未通过平台认证" in investor.content()
    assert investor.get_by_role("button", name="我已阅读并接受保密协议").count() == 0
    verify_org(admin, fund)
    investor.goto(request_url)
    investor.get_by_role("button", name="我已阅读并接受保密协议").click()
    assert "数据室已开放" in investor.content()
    investor.get_by_role("link", name="打开数据室").click()
    with investor.expect_download() as download:
        investor.get_by_role("link", name="商业计划书.pdf").click()
    assert download.value.suggested_filename == "商业计划书.pdf"
    investor.goto(request_url)
    investor.get_by_role("button", name="关注").click()
    investor.get_by_role("button", name="进入尽调").click()
    assert "我的跟进：尽调" in investor.content()

    owner.goto(request_url + "/views")
    log = owner.locator("#view-log").inner_text()
    assert fund in log and "下载 商业计划书.pdf" in log and "打开数据室" in log
    owner.goto(request_url)
    assert f"{fund}：尽调" in owner.content()


def test_event_registration_meeting_agenda_and_ics(new_page):
    admin = admin_page(new_page)
    title = unique("科技成果俏津门对接会")
    now = datetime.now(CST).replace(second=0, microsecond=0)

    def local(dt: datetime) -> str:
        return dt.strftime("%Y-%m-%dT%H:%M")

    start = now + timedelta(days=3)
    admin.goto("/events/new")
    admin.fill("input[name=title]", title)
    admin.fill("input[name=starts_at]", local(start))
    admin.fill("input[name=ends_at]", local(start + timedelta(hours=8)))
    admin.fill("input[name=place]", "天津市科技成果转化交易中心")
    admin.fill("input[name=registration_opens]", local(now - timedelta(days=1)))
    admin.fill("input[name=registration_closes]", local(now + timedelta(days=2)))
    admin.fill("input[name=session1]", local(start + timedelta(hours=1)))
    admin.get_by_role("button", name="创建").click()
    admin.wait_for_url(re.compile(r"/events/\d+$"))
    event_url = admin.url

    seller, buyer = new_page(), new_page()
    seller_name, buyer_name = unique("张教授"), unique("赵经理")
    register(
        seller,
        role="university",
        email=f"{unique('es')}@kjcg-browser.cn",
        name=seller_name,
        org=unique("北洋活动大学"),
    )
    register(
        buyer,
        role="enterprise",
        email=f"{unique('eb')}@kjcg-browser.cn",
        name=buyer_name,
        org=unique("海津活动科技"),
    )
    for page in (seller, buyer):
        page.goto(event_url)
        page.get_by_role("button", name="报名").click()
        assert "等待主办方审核" in page.content()
    admin.goto(event_url)
    for name in (seller_name, buyer_name):
        admin.get_by_role("button", name=f"通过 {name}").click()
        admin.wait_for_load_state()

    buyer.goto(event_url)
    buyer.select_option("select[name=to_user_id]", label=seller_name)
    buyer.fill("textarea[name=reason]", "想了解低温电解液的中试进展")
    buyer.get_by_role("button", name="预约会谈").click()
    expect(buyer.locator("body")).to_contain_text("会谈请求已发送", timeout=30_000)
    seller.goto(event_url)
    seller.get_by_role("button", name="接受").click()
    expect(seller.locator("body")).to_contain_text("已接受会谈", timeout=30_000)

    admin.goto(event_url)
    admin.get_by_role("button", name="排程").click()
    # scheduling runs the solver: wait for the answer page rather than read the page mid-navigation
    expect(admin.locator("body")).to_contain_text("已排 1/1 场会谈", timeout=60_000)

    buyer.goto(event_url + "/agenda")
    assert seller_name in buyer.locator("#agenda").inner_text()
    assert buyer.locator("#agenda-state").inner_text() == "初步"
    with buyer.expect_download() as download:
        buyer.get_by_role("link", name="下载日历文件（.ics）").click()
    body = Path(download.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in body and "BEGIN:VEVENT" in body
