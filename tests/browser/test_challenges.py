"""揭榜挂帅 in a real browser: a past deadline is refused, the review queue shows the badge, two teams
apply, the owner compares, shortlists and chooses one, and the other team is told."""

from __future__ import annotations

import re
from datetime import date, timedelta

from tests.browser.conftest import admin_page, register
from tests.browser.test_journey import approve, unique, verify_org

PLAN = "宽温域电解液与负极界面修饰两条路线并行，零下三十度容量保持率八成以上。"
TEAM = "课题组教授 1 名、副教授 2 名、博士后 3 名，完成过两项电解液中试。"
MILESTONES = "第 3 个月配方筛选；第 6 个月电芯验证；第 12 个月装车测试。"


def _team(new_page, admin, org: str):
    page = new_page()
    register(page, role="university", email=f"{unique('team')}@kjcg-browser.cn", name="揭榜负责人", org=org)
    verify_org(admin, org)
    return page


def test_a_team_applies_the_owner_shortlists_and_chooses_the_others_are_told(new_page):
    admin = admin_page(new_page)
    ent_org, title = unique("津门揭榜测试科技有限公司"), unique("揭榜挂帅：低温锂电池续航")
    ent = new_page()
    register(ent, role="enterprise", email=f"{unique('ent')}@kjcg-browser.cn", name="赵经理", org=ent_org)
    verify_org(admin, ent_org)
    ent.goto("/needs/new")
    ent.fill("input[name=title]", title)
    ent.select_option("select[name=field]", "新能源汽车")
    ent.fill("textarea[name=description]", "物流车锂电池冬天低温续航掉得厉害，需要提升电池低温放电性能。")
    ent.fill("textarea[name=target_metrics]", "-30℃ 容量保持率 ≥ 80%")
    ent.check("input[name=is_challenge]")
    ent.fill("input[name=reward_wan]", "300")
    ent.fill("textarea[name=eligibility]", "具备电解液中试条件")
    ent.check("input[name=no_secret_confirmed]")
    ent.fill("input[name=deadline]", "2020-06-30")
    ent.get_by_role("button", name="保存").click()
    assert "揭榜截止日期应晚于今天" in ent.content()
    ent.fill("input[name=deadline]", (date.today() + timedelta(days=30)).isoformat())
    ent.get_by_role("button", name="保存").click()
    ent.wait_for_url(re.compile(r"/needs/\d+$"))
    need_id = int(ent.url.rsplit("/", 1)[1])
    ent.get_by_role("button", name="提交审核").click()
    admin.goto("/admin/review")
    assert (
        admin.locator(".card", has_text=title).locator(".badge.bg-danger", has_text="揭榜挂帅").count() == 1
    )
    approve(admin, title)

    winner_org, other_org = unique("北洋揭榜大学"), unique("海河揭榜研究院")
    winner, other = _team(new_page, admin, winner_org), _team(new_page, admin, other_org)
    for page in (winner, other):
        page.goto("/challenges")
        page.get_by_role("link", name=title).click()
        assert "剩余 29 天" in page.content() or "剩余 30 天" in page.content()
        page.get_by_role("link", name="我要揭榜").click()
        page.fill("textarea[name=plan]", PLAN)
        page.fill("textarea[name=team]", TEAM)
        page.fill("textarea[name=milestones]", MILESTONES)
        page.get_by_role("button", name="提交揭榜申请").click()
        page.wait_for_url(re.compile(r"/applications/\d+$"))
        assert "已揭榜" in page.content()

    ent.goto(f"/challenges/{need_id}/applicants")
    table = ent.locator("#compare")
    assert winner_org in table.inner_text() and other_org in table.inner_text()
    column = ent.locator("#compare thead th").filter(has_text=winner_org)
    index = ent.locator("#compare thead th").all_inner_texts().index(column.inner_text())
    ent.locator("#compare tr", has_text="入围").locator("td").nth(index - 1).get_by_role(
        "button", name="入围"
    ).click()
    assert "已入围" in ent.content()
    ent.get_by_label(re.compile(winner_org)).check()
    ent.get_by_role("button", name="确认评审结果").click()
    ent.wait_for_url(re.compile(rf"/challenges/{need_id}$"))
    assert "中榜团队" in ent.content() and winner_org in ent.locator("#outcome").inner_text()

    other.goto("/notifications")
    assert "未中榜" in other.content()
    winner.goto("/notifications")
    assert "已中榜" in winner.content() and "已入围" in winner.content()
    winner.goto("/challenges?tab=finished")
    assert title in winner.content() and f"中榜 {winner_org}" in winner.content()
