"""In a real browser: the owner of a result uploads a PDF attachment and sees it listed with its title,
size and pages; a file that is not a PDF is refused with a Chinese reason next to the form; the download
is the same bytes as an attachment; the owner deletes it."""

from __future__ import annotations

import re

from tests.browser.conftest import admin_page, register
from tests.browser.test_journey import unique, verify_org
from tests.media.conftest import pdf


def test_an_owner_uploads_a_pdf_and_sees_it_on_the_page(new_page, tmp_path):
    admin = admin_page(new_page)
    uni_org = unique("附件测试大学")
    uni = new_page()
    register(uni, role="university", email=f"{unique('uni')}@kjcg-browser.cn", name="李老师", org=uni_org)
    verify_org(admin, uni_org)
    uni.goto("/results/new")
    uni.fill("input[name=title]", unique("固态电解质薄膜制备工艺"))
    uni.select_option("select[name=field]", "储能")
    uni.fill("input[name=keywords]", "固态电池、电解质、薄膜")
    uni.fill("textarea[name=summary]", "一种固态电解质薄膜的低温制备工艺，离子电导率高，适合规模化生产。")
    uni.select_option("select[name=maturity]", "中试")
    uni.check("input[name=transfer_modes][value=技术许可]")
    uni.fill("input[name=price_wan]", "80")
    uni.fill("input[name=contact_phone]", "022-27408888")
    uni.get_by_role("button", name="保存").click()
    uni.wait_for_url(re.compile(r"/results/\d+$"))

    fake = tmp_path / "伪装.pdf"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    uni.set_input_files("#files input[name=file]", str(fake))
    uni.fill("#files input[name=title]", "伪装成 PDF 的网页")
    uni.get_by_role("button", name="上传附件").click()
    uni.wait_for_load_state()
    assert "附件只能是 PDF 文件" in uni.content()
    assert uni.locator("#files .listing-files li").count() == 0

    data = pdf("工艺说明", pages=2)
    real = tmp_path / "工艺说明书.pdf"
    real.write_bytes(data)
    uni.set_input_files("#files input[name=file]", str(real))
    uni.fill("#files input[name=title]", "工艺说明书")
    uni.fill("#files input[name=description]", "含工艺参数与检测结果")
    uni.get_by_role("button", name="上传附件").click()
    uni.wait_for_load_state()
    item = uni.locator("#files .listing-files li")
    assert item.count() == 1
    text = item.inner_text()
    assert "工艺说明书" in text and "含工艺参数与检测结果" in text and "2 页" in text and "KB" in text
    link = item.get_by_role("link", name="工艺说明书")
    got = uni.request.get(link.get_attribute("href"))
    assert got.status == 200 and got.body() == data
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"
    with uni.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "工艺说明书.pdf"

    item.get_by_role("button", name="删除附件：工艺说明书").click()
    uni.wait_for_load_state()
    assert "附件已删除" in uni.content() and uni.locator("#files .listing-files li").count() == 0
