"""A saved search in a real browser: a user saves a search, a new matching listing is approved, the
alert arrives in-site and as mail received by a real SMTP server, and the mail's link unsubscribes."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import ADMIN, login, register
from tests.browser.test_journey import approve, unique, verify_org
from tests.live_site import LiveSite
from tests.mailserver import running


@pytest.fixture(scope="module")
def mail_site(tmp_path_factory):
    """A site of its own whose worker mails to a real SMTP server and checks saved searches every second."""
    folder = tmp_path_factory.mktemp("alerts")
    with running(folder / "smtp") as smtp:
        site = LiveSite(folder / "site", env={"MAIL_URL": smtp.url, "ALERT_CHECK_SECONDS": "1"})
        site.env["SITE_URL"] = site.base
        site.migrate()
        site.flask(
            "users",
            "create-admin",
            "--email",
            ADMIN["email"],
            "--name",
            "运营",
            "--password",
            ADMIN["password"],
        )
        with site.start():
            yield site, smtp


@pytest.fixture
def pages(browser, mail_site):
    site, _smtp = mail_site
    contexts = []

    def make():
        context = browser.new_context(
            base_url=site.base, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _wait_for_text(page, url: str, text: str, timeout: float = 40) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.goto(url)
        if text in page.content():
            return True
        time.sleep(0.5)
    return False


def test_saved_search_alert_arrives_in_site_and_by_mail_and_unsubscribes(pages, mail_site):
    _site, smtp = mail_site
    admin = pages()
    login(admin, ADMIN["email"], ADMIN["password"])
    uni_org, ent_org = unique("订阅测试大学"), unique("订阅测试能源公司")
    uni_email = f"{unique('alert')}@kjcg-browser.cn"
    uni = pages()
    register(uni, role="university", email=uni_email, name="订阅者", org=uni_org)
    uni.goto("/search?q=制氢&kind=need")
    uni.locator("#save-search summary").click()
    uni.select_option("#save-search select[name=frequency]", "每日")
    uni.get_by_role("button", name="订阅此搜索").click()
    uni.wait_for_url("**/favourites")
    assert "制氢" in uni.locator("#saved-searches").inner_text()

    title = unique("焦炉煤气制氢提纯")
    ent = pages()
    register(ent, role="enterprise", email=f"{unique('ent')}@kjcg-browser.cn", name="赵经理", org=ent_org)
    verify_org(admin, ent_org)
    ent.goto("/needs/new")
    ent.fill("input[name=title]", title)
    ent.select_option("select[name=field]", "氢能")
    ent.fill(
        "textarea[name=description]", "焦化厂富余的焦炉煤气想提纯成燃料电池用氢，需要低成本制氢提纯工艺。"
    )
    ent.check("input[name=cooperation_modes][value=合作开发]")
    ent.check("input[name=no_secret_confirmed]")
    ent.get_by_role("button", name="保存").click()
    ent.wait_for_url(re.compile(r"/needs/\d+$"))
    ent.get_by_role("button", name="提交审核").click()
    approve(admin, title)

    assert _wait_for_text(uni, "/notifications", title), "the in-site alert did not arrive"
    deadline = time.monotonic() + 40
    digest = None
    while digest is None and time.monotonic() < deadline:
        digest = next((m for m in smtp.messages() if m["To"] == uni_email and "订阅" in m["Subject"]), None)
        time.sleep(0.5)
    assert digest is not None, "the digest mail did not arrive"
    body = digest.get_content()
    assert title in body
    link = next(line.split("：", 1)[1] for line in body.splitlines() if "一键退订" in line)
    fresh = pages()  # the link works without signing in
    fresh.goto(link)
    assert "已退订" in fresh.content()
    uni.goto("/favourites")
    assert uni.locator("#saved-searches select[name=frequency]").input_value() == "不发邮件"
