"""Browser tests: Playwright driving Debian's Chromium against the site served by gunicorn on loopback.

Nothing downloads a browser: when /usr/bin/chromium is missing these tests are skipped with that reason
(.ci/run installs Debian's chromium package). A failing test saves a screenshot to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.live_site import LiveSite

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
ADMIN = {"email": "ops@kjcg-browser.cn", "password": "浏览器测试管理员口令2026"}
PASSWORD = "浏览器测试用户口令2026"

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"browser tests skipped: {CHROMIUM} not found (Debian package chromium; .ci/run installs it)",
        allow_module_level=True,
    )

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A real server process (gunicorn, 2 workers) and the background worker on a fresh embedded
    database; yields its base URL."""
    site = LiveSite(tmp_path_factory.mktemp("live"), server="gunicorn").migrate()
    site.flask(
        "users",
        "create-admin",
        "--email",
        ADMIN["email"],
        "--name",
        "运营测试",
        "--password",
        ADMIN["password"],
    )
    with site.start():
        yield site.base


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API runs an event loop while open, and other tests (the stats
    # dashboard's chart check) start their own; a session-wide instance would block them.
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser, live_server, request):
    """Factory of pages in fresh browser contexts (separate cookies); screenshots them on failure."""
    contexts = []

    def make():
        context = browser.new_context(
            base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, context in enumerate(contexts):
            for j, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{i}-{j}.png"), full_page=True)
    for context in contexts:
        context.close()


def login(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def register(page, *, role: str, email: str, name: str, org: str, **extra: str) -> None:
    page.goto("/register")
    page.select_option("select[name=role]", role)
    page.fill("input[name=display_name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=org_name]", org)
    for field, value in extra.items():
        page.select_option(f"select[name={field}]", value)
    page.click("input[type=submit]")
    # Registration answers the same whether or not the address was free: it sends the visitor to login.
    page.wait_for_url("**/login**")
    login(page, email)
    page.goto("/account")


def admin_page(new_page):
    page = new_page()
    login(page, ADMIN["email"], ADMIN["password"])
    return page


def clean_artifacts() -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
