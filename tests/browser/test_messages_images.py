"""In a real browser: an image upload shows its thumbnails and its EXIF is gone; after an agent
introduces the two sides they exchange messages (with an unread count), and a third party cannot."""

from __future__ import annotations

import io
import re

from PIL import Image

from tests.browser.conftest import admin_page, register
from tests.browser.test_journey import approve, unique, verify_org
from tests.media.conftest import jpeg_with_exif


def test_image_thumbnails_without_exif_then_an_introduced_pair_exchanges_messages(new_page, tmp_path):
    admin = admin_page(new_page)
    uni_org, ent_org, agency = (
        unique("图片测试大学"),
        unique("消息测试科技有限公司"),
        unique("消息测试转移中心"),
    )
    result_title, need_title = unique("钠离子电池正极材料"), unique("储能电站钠离子电池选型")

    uni = new_page()
    register(uni, role="university", email=f"{unique('uni')}@kjcg-browser.cn", name="王老师", org=uni_org)
    verify_org(admin, uni_org)
    uni.goto("/results/new")
    uni.fill("input[name=title]", result_title)
    uni.select_option("select[name=field]", "储能")
    uni.fill("input[name=keywords]", "钠离子电池、正极材料、储能")
    uni.fill("textarea[name=summary]", "一种低成本钠离子电池层状氧化物正极材料，循环寿命长，适用于储能电站。")
    uni.select_option("select[name=maturity]", "中试")
    uni.check("input[name=transfer_modes][value=技术许可]")
    uni.check("input[name=transfer_modes][value=合作开发]")
    uni.fill("input[name=price_wan]", "100")
    uni.fill("input[name=contact_phone]", "022-27409999")
    uni.get_by_role("button", name="保存").click()
    uni.wait_for_url(re.compile(r"/results/\d+$"))

    photo = tmp_path / "样品.jpg"
    photo.write_bytes(jpeg_with_exif())
    uni.set_input_files("#gallery input[name=image]", str(photo))
    uni.fill("#gallery input[name=alt]", "正极材料扫描电镜照片")
    uni.get_by_role("button", name="上传图片").click()
    uni.wait_for_load_state()
    thumb = uni.locator("#gallery img.gallery-thumb")
    assert thumb.count() == 1 and thumb.get_attribute("alt") == "正极材料扫描电镜照片"
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 480
    small = thumb.get_attribute("src").replace("/medium", "/small")
    for src in (thumb.get_attribute("src"), small):
        body = uni.request.get(src).body()
        assert b"SecretCam" not in body and dict(Image.open(io.BytesIO(body)).getexif()) == {}
    assert max(Image.open(io.BytesIO(uni.request.get(small).body())).size) == 160
    uni.get_by_role("button", name="提交审核").click()
    approve(admin, result_title)

    ent = new_page()
    register(ent, role="enterprise", email=f"{unique('ent')}@kjcg-browser.cn", name="赵经理", org=ent_org)
    verify_org(admin, ent_org)
    ent.goto("/needs/new")
    ent.fill("input[name=title]", need_title)
    ent.select_option("select[name=field]", "储能")
    ent.fill("input[name=keywords]", "钠离子电池、储能、正极材料")
    ent.fill(
        "textarea[name=description]",
        "储能电站想用低成本钠离子电池替代部分锂电池，需要长循环寿命的正极材料方案。",
    )
    ent.check("input[name=cooperation_modes][value=合作开发]")
    ent.fill("input[name=budget_min_wan]", "50")
    ent.fill("input[name=budget_max_wan]", "200")
    ent.check("input[name=no_secret_confirmed]")
    ent.get_by_role("button", name="保存").click()
    ent.wait_for_url(re.compile(r"/needs/\d+$"))
    ent.get_by_role("button", name="提交审核").click()
    approve(admin, need_title)

    agent = new_page()
    register(
        agent,
        role="agent",
        email=f"{unique('agent')}@kjcg-browser.cn",
        name="周经纪",
        org=agency,
        agency_type="区域",
    )
    verify_org(admin, agency)
    agent.goto("/matches")
    card = agent.locator("div.border.rounded", has_text=need_title).filter(has_text=result_title)
    card.get_by_role("button", name="认领").click()
    agent.goto("/matches/board")
    agent.get_by_role("link", name=re.compile(result_title[:8])).first.click()
    match_url = agent.url
    agent.get_by_role("button", name=re.compile("对接双方")).click()
    assert "已对接" in agent.content()
    assert "对接消息" not in agent.content()  # the agent does not read the sides' thread

    uni.goto(match_url)
    uni.get_by_role("link", name=re.compile("对接消息")).click()
    uni.fill("textarea[name=body]", "赵经理您好，可以先寄样品给您测试。")
    uni.get_by_role("button", name="发送").click()
    assert "可以先寄样品给您测试" in uni.locator("#messages").inner_text()

    ent.goto("/messages")
    assert "1 未读" in ent.locator("#threads").inner_text()
    ent.locator("#threads a").first.click()
    assert "可以先寄样品给您测试" in ent.locator("#messages").inner_text()
    ent.fill("textarea[name=body]", "好的，请寄到滨海新区。")
    ent.get_by_role("button", name="发送").click()
    ent.goto("/messages")
    assert "未读" not in ent.locator("#threads").inner_text()
    uni.goto("/notifications")
    assert "发来消息" in uni.content()

    outsider = new_page()
    register(
        outsider,
        role="university",
        email=f"{unique('x')}@kjcg-browser.cn",
        name="旁人",
        org=unique("旁观大学"),
    )
    outsider.goto(match_url + "/messages")
    assert "页面不存在" in outsider.content()
