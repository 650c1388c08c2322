"""On a 390 px phone the first result comes before the filters, which fold away in a panel (the
showcase and the search page)."""

from __future__ import annotations

from tests.browser.conftest import admin_page
from tests.browser.test_journey import approve, unique
from tests.browser.test_pages import create_result, verified_member


def test_on_a_phone_the_first_result_is_above_the_filters(new_page, browser, live_server):
    admin = admin_page(new_page)
    uni, _ = verified_member(new_page, admin, role="university", org_prefix="手机测试大学")
    title = unique("手机版钙钛矿叠层电池")
    uni.goto(create_result(uni, title, keywords="钙钛矿、叠层电池", field="光伏"))
    uni.get_by_role("button", name="提交审核").click()
    approve(admin, title)
    phone = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844})
    try:
        page = phone.new_page()
        page.set_default_timeout(20_000)
        page.goto("/results")  # the showcase (from the database): newest first
        first = page.locator("#results .card").first
        filters = page.locator("#filters")
        assert title in first.inner_text()
        assert first.bounding_box()["y"] < filters.bounding_box()["y"]
        assert first.bounding_box()["y"] < 844  # visible without scrolling
        page.locator("#filters summary").click()  # the panel folds away
        assert not page.locator("#filters form").first.is_visible()
        page.goto(f"/search?q={title}")
        # the search page has the same order (its hits come from the index, filled by the worker)
        assert page.locator("#results").bounding_box()["y"] < page.locator("#filters").bounding_box()["y"]
    finally:
        phone.close()
