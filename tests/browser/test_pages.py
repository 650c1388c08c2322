"""Search with facets, bulk import through the upload page, and the stale-edit conflict, in a browser."""

from __future__ import annotations

import re
import time
import uuid

from tests.browser.conftest import admin_page, login, register
from tests.browser.test_journey import approve, unique, verify_org


def verified_member(new_page, admin, *, role: str, org_prefix: str):
    page = new_page()
    org = unique(org_prefix)
    email = f"{unique(role)}@kjcg-browser.cn"
    register(page, role=role, email=email, name="测试成员", org=org)
    verify_org(admin, org)
    return page, email


def create_result(page, title: str, *, keywords: str = "氢能、电解水", field: str = "氢能") -> str:
    page.goto("/results/new")
    page.fill("input[name=title]", title)
    page.select_option("select[name=field]", field)
    page.fill("input[name=keywords]", keywords)
    page.fill("textarea[name=summary]", f"{title}：低铱载量阳极催化剂，兆瓦级质子交换膜电解槽可用。")
    page.check("input[name=price_negotiable]")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/results/\d+$"))
    return page.url


def test_search_with_facets(new_page):
    admin = admin_page(new_page)
    uni, _ = verified_member(new_page, admin, role="university", org_prefix="滨海测试研究院大学")
    titles = [unique("PEM电解水制氢催化剂"), unique("碱性电解水制氢隔膜")]
    for i, title in enumerate(titles):
        url = create_result(uni, title, field="氢能" if i == 0 else "储能")
        uni.goto(url)
        uni.get_by_role("button", name="提交审核").click()
        approve(admin, title)
    visitor = new_page()
    # Searchable within a moment of approval (the worker indexes it): look again as a user would.
    deadline = time.monotonic() + 20
    while True:
        visitor.goto("/search?q=电解水制氢")
        page = visitor.locator("main").inner_text()  # text: titles are split by <mark> in the HTML
        if (titles[0] in page and titles[1] in page) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert titles[0] in page and titles[1] in page and visitor.locator("mark").count() >= 2
    sidebar = visitor.locator("aside")
    assert "技术领域" in sidebar.inner_text()
    sidebar.get_by_role("link", name=re.compile("^储能$")).click()
    visitor.wait_for_url(re.compile(r"field=%E5%82%A8%E8%83%BD|field=储能"))
    filtered = visitor.locator("main").inner_text()
    assert titles[1] in filtered and titles[0] not in filtered
    visitor.get_by_role("link", name=re.compile("✓ 储能")).click()  # the active facet switches off again
    assert titles[0] in visitor.locator("main").inner_text()


def test_bulk_import_through_upload_page(new_page, tmp_path):
    admin = admin_page(new_page)
    uni, _ = verified_member(new_page, admin, role="university", org_prefix="导入测试大学")
    prefix = uuid.uuid4().hex[:4]
    csv_path = tmp_path / "results.csv"
    csv_path.write_text(
        "成果名称,成果简介,技术领域,关键词,成熟度,转化方式,价格,编号\n"
        f"导入测试成果甲{prefix},一种用于污水处理厂的高效脱氮生物膜反应器,水污染防治,脱氮、生物膜,中试,技术许可,80,T{prefix}1\n"
        f"导入测试成果乙{prefix},基于深度学习的工业表面缺陷检测系统,,缺陷检测、机器视觉,产业化,技术服务,面议,T{prefix}2\n"
        f",缺少名称的一行,,,,,,T{prefix}3\n",
        encoding="utf-8-sig",
    )
    uni.goto("/import")
    uni.set_input_files("input[type=file]", str(csv_path))
    uni.get_by_role("button", name="上传并导入").click()
    report = uni.locator("section", has_text="导入结果").inner_text()
    assert f"导入测试成果甲{prefix}" in report and f"导入测试成果乙{prefix}" in report
    assert re.search(r"\b4\b", report)  # the rejected row is reported with its spreadsheet row number
    uni.goto("/mine")
    mine = uni.content()
    assert f"导入测试成果甲{prefix}" in mine and "领域待确认" in mine  # 乙 had no field: inferred, to confirm


def test_stale_edit_conflict(new_page):
    admin = admin_page(new_page)
    first, email = verified_member(new_page, admin, role="university", org_prefix="并发编辑测试大学")
    url = create_result(first, unique("并发编辑测试成果"))
    second = new_page()
    login(second, email)
    first.goto(url + "/edit")
    second.goto(url + "/edit")
    first.fill("input[name=title]", "第一个人保存的标题")
    first.get_by_role("button", name="保存").click()
    first.wait_for_url(re.compile(r"/results/\d+$"))
    second.fill("input[name=title]", "第二个人基于旧版本的标题")
    second.get_by_role("button", name="保存").click()
    assert "您这次的修改没有保存" in second.content()
    assert second.input_value("input[name=title]") == "第二个人基于旧版本的标题"  # their edit is not lost
    second.goto(url)
    assert "第一个人保存的标题" in second.content()
