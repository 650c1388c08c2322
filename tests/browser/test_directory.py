"""In a real browser: an enterprise finds an agency by field and region, opens a broker's profile, asks
them to take a need, and the broker accepts it from the queue."""

from __future__ import annotations

import re

from tests.browser.conftest import admin_page, register
from tests.browser.test_journey import approve, unique, verify_org


def test_find_an_agency_ask_a_broker_and_the_broker_accepts(new_page):
    admin = admin_page(new_page)
    agency, ent_org = unique("京津冀测试行业技术转移联盟"), unique("冀津测试汽车零部件有限公司")
    need_title = unique("电驱系统高频啸叫治理")

    # A broker's agency is verified and describes itself: 北京市海淀区, 新能源汽车.
    broker = new_page()
    register(broker, role="agent", email=f"{unique('broker')}@kjcg-browser.cn", name="韩经纪", org=agency,
             agency_type="行业")  # fmt: skip
    verify_org(admin, agency)
    broker.goto("/brokers/me/edit")
    broker.select_option("select[name=region_code]", "110108")
    broker.select_option("select[name=fields]", ["新能源汽车"])
    broker.get_by_role("button", name="保存").click()
    broker.wait_for_url(re.compile(r"/brokers/\d+$"))
    broker_url = broker.url
    broker.get_by_role("link", name=agency).click()
    broker.get_by_role("link", name="编辑机构介绍").click()
    broker.select_option("select[name=region_code]", "110108")
    broker.select_option("select[name=fields]", ["新能源汽车及智能网联车"])
    broker.fill("textarea[name=services]", "整车与零部件企业的技术需求诊断、专利许可谈判")
    broker.get_by_role("button", name="保存").click()
    broker.wait_for_url(re.compile(r"/agencies/\d+$"))
    assert "机构介绍已保存" in broker.content()

    # An enterprise posts a need, then finds the agency by field and region.
    ent = new_page()
    register(ent, role="enterprise", email=f"{unique('ent')}@kjcg-browser.cn", name="刘工", org=ent_org)
    verify_org(admin, ent_org)
    ent.goto("/needs/new")
    ent.fill("input[name=title]", need_title)
    ent.select_option("select[name=field]", "新能源汽车")
    ent.fill("input[name=keywords]", "电驱、噪声、啸叫")
    ent.fill("textarea[name=description]", "电驱系统在 8000 转附近有高频啸叫，客户投诉，需要定位并治理。")
    ent.check("input[name=cooperation_modes][value=合作开发]")
    ent.fill("input[name=budget_min_wan]", "30")
    ent.fill("input[name=budget_max_wan]", "80")
    ent.fill("input[name=contact_phone]", "13900005678")
    ent.check("input[name=no_secret_confirmed]")
    ent.get_by_role("button", name="保存").click()
    ent.wait_for_url(re.compile(r"/needs/\d+$"))
    ent.get_by_role("button", name="提交审核").click()
    approve(admin, need_title)

    ent.goto("/agencies")
    ent.select_option("select[name=field]", "智能网联车")
    ent.select_option("select[name=region]", "110000")
    ent.get_by_role("button", name="筛选").click()
    ent.wait_for_url(re.compile("region=110000"))
    ent.get_by_role("link", name=agency).click()
    assert "专利许可谈判" in ent.content()
    ent.get_by_role("link", name="韩经纪").click()
    ent.wait_for_url(broker_url)
    assert "平台业绩" in ent.content()
    ent.select_option("select[name=listing]", label=f"需求：{need_title}")
    ent.fill("textarea[name=note]", "希望一个月内找到能做 NVH 诊断的团队")
    ent.get_by_role("button", name="发送请求").click()
    ent.wait_for_url("**/requests")
    ent.wait_for_selector("text=已发送给 韩经纪")

    # The broker sees it in the queue with the note and accepts.
    broker.goto("/matches")
    item = broker.locator(".broker-request", has_text=need_title)
    assert "希望一个月内找到能做 NVH 诊断的团队" in item.inner_text()
    item.get_by_role("button", name="接受").click()
    broker.wait_for_selector("text=已接受，请尽快联系对方")
    ent.goto("/requests")
    assert "已接受" in ent.locator(".broker-request", has_text=need_title).inner_text()
