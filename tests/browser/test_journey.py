"""The whole journey in a real browser, from registration to a signed contract on the statistics page."""

from __future__ import annotations

import re
import uuid

from tests.browser.conftest import admin_page, register


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def verify_org(admin, org_name: str) -> None:
    admin.goto("/admin/organizations?show=unverified")
    row = admin.locator("tr", has_text=org_name)
    row.get_by_role("button", name="认证").click()
    admin.wait_for_load_state()
    assert f"{org_name}：已认证" in admin.content()


def approve(admin, title: str) -> None:
    admin.goto("/admin/review")
    card = admin.locator(".card", has_text=title)
    card.get_by_role("button", name="通过并发布").click()
    admin.wait_for_load_state()
    assert f"已发布：{title}" in admin.content()


def test_from_registration_to_signed_contract(new_page):
    uni_org, ent_org, agency = (
        unique("北洋测试大学"),
        unique("海津测试科技有限公司"),
        unique("津门测试技术转移中心"),
    )
    uni_email, ent_email, agent_email = (f"{unique(p)}@kjcg-browser.cn" for p in ("uni", "ent", "agent"))
    result_title = unique("宽温域锂离子电池电解液")
    need_title = unique("揭榜挂帅：物流车锂电池低温续航提升")
    admin = admin_page(new_page)

    # A university member registers and lists a result; it cannot be submitted before verification.
    uni = new_page()
    register(uni, role="university", email=uni_email, name="王老师", org=uni_org)
    assert "待认证" in uni.content()
    uni.goto("/results/new")
    uni.fill("input[name=title]", result_title)
    uni.select_option("select[name=field]", "储能")
    uni.fill("input[name=keywords]", "锂离子电池、低温、电解液")
    uni.fill(
        "textarea[name=summary]",
        "一种可在零下四十度工作的锂离子电池电解液配方，提升锂电池低温放电能力与续航。",
    )
    uni.fill("textarea[name=advantage]", "-30℃ 容量保持率 85%，比商用电解液高 25 个百分点")
    uni.select_option("select[name=maturity]", "中试")
    uni.check("input[name=transfer_modes][value=技术许可]")
    uni.check("input[name=transfer_modes][value=合作开发]")
    uni.fill("input[name=price_wan]", "120")
    uni.fill("input[name=contact_name]", "王老师")
    uni.fill("input[name=contact_phone]", "022-27401234")
    uni.get_by_role("button", name="保存").click()
    uni.wait_for_url(re.compile(r"/results/\d+$"))
    result_url = uni.url
    uni.get_by_role("button", name="提交审核").click()
    assert "尚未通过平台认证" in uni.content()

    # The admin verifies the organisation; the result is submitted and approved.
    verify_org(admin, uni_org)
    uni.goto(result_url)
    uni.get_by_role("button", name="提交审核").click()
    assert "已提交审核" in uni.content()
    approve(admin, result_title)

    # An enterprise member posts a 揭榜挂帅 need.
    ent = new_page()
    register(ent, role="enterprise", email=ent_email, name="赵经理", org=ent_org)
    verify_org(admin, ent_org)
    ent.goto("/needs/new")
    ent.fill("input[name=title]", need_title)
    ent.select_option("select[name=field]", "新能源汽车")
    ent.fill("input[name=keywords]", "锂电池、低温、续航")
    ent.fill("textarea[name=description]", "我司物流车锂电池冬天低温续航掉得厉害，需要提升电池低温放电性能。")
    ent.fill("textarea[name=target_metrics]", "-20℃ 续航保持率 ≥ 80%")
    ent.check("input[name=cooperation_modes][value=合作开发]")
    ent.fill("input[name=budget_min_wan]", "80")
    ent.fill("input[name=budget_max_wan]", "200")
    ent.check("input[name=is_challenge]")
    ent.fill("input[name=reward_wan]", "150")
    ent.fill("textarea[name=eligibility]", "具备电解液中试条件")
    ent.fill("input[name=contact_phone]", "13900001234")
    ent.check("input[name=no_secret_confirmed]")
    ent.get_by_role("button", name="保存").click()
    ent.wait_for_url(re.compile(r"/needs/\d+$"))
    need_url = ent.url
    ent.get_by_role("button", name="提交审核").click()
    approve(admin, need_title)
    ent.goto(result_url)
    assert "022-27401234" not in ent.content()  # protected until an agent introduces the sides

    # The matcher suggests the pair; an agent claims it, introduces the sides and records the contract.
    agent = new_page()
    register(agent, role="agent", email=agent_email, name="周经纪", org=agency, agency_type="区域")
    agent.goto("/matches")
    assert "通过平台认证后才能处理对接" in agent.content()  # an unverified agency sees no queue
    verify_org(admin, agency)
    agent.goto("/matches?challenge=1")
    card = agent.locator("div.border.rounded", has_text=need_title).filter(has_text=result_title)
    card.get_by_role("button", name="认领").click()
    agent.goto("/matches/board")
    agent.get_by_role("link", name=re.compile(result_title[:10])).first.click()
    assert "已认领" in agent.content()
    agent.get_by_role("button", name=re.compile("对接双方")).click()
    assert "已对接" in agent.content()
    ent.goto(result_url)
    assert "022-27401234" in ent.content()  # now the enterprise sees the university's contact
    agent.get_by_role("link", name="登记技术合同").click()
    agent.select_option("select[name=contract_type]", "技术许可")
    agent.fill("input[name=amount_wan]", "180")
    agent.fill("input[name=tech_amount_wan]", "150")
    agent.fill("input[name=signed_on]", "2026-11-20")
    agent.get_by_role("button", name="登记并标记为已签约").click()
    agent.wait_for_url(re.compile(r"/contracts/\d+$"))
    assert "180 万元" in agent.content() and "150 万元" in agent.content()

    # Both owners were notified; the statistics page shows the contract.
    uni.goto("/notifications")
    assert "对接需求方" in uni.content()
    admin.goto("/stats")
    stats = admin.content()
    assert "技术许可" in stats and "150" in stats
    ent.goto(need_url)
    assert need_title in ent.content()
