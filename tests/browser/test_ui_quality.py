"""The main pages at a laptop (1366 × 768) and a phone (390 × 844) on the demo data: screenshots in
test-artifacts/ui/, no navbar item wrapping, no horizontal scroll, and no serious or critical axe-core
violation. axe-core comes from npm at install time (`make install` runs `npm ci` into node_modules/);
without it that one check is skipped with the reason, nothing is downloaded here."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, ROOT
from tests.live_site import LiveSite

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ARTIFACTS / "ui"
VIEWPORTS = {"laptop": (1366, 768), "phone": (390, 844)}
DEMO_PASSWORD = "kejichengguo-demo-2026"
#: page name -> (who is signed in, path)
PAGES = {
    "home": (None, "/"),
    "search": (None, "/search?q=电池"),
    "listing": (None, "/results/1"),
    # the owner: gallery and attachment forms, and the navbar's unread badge (the demo leaves some unread)
    "listing-owner": ("tju@demo.kjcg.cn", "/results/1"),
    "need-form": ("haihe@demo.kjcg.cn", "/needs/new"),
    "agent-board": ("agent@demo.kjcg.cn", "/matches/board"),
    "statistics": ("admin@demo.kjcg.cn", "/stats"),
}

NAV_WRAPS = """() => {
  // an item wraps when its content box is taller than one line (badges inside it are shorter)
  const wrapped = [];
  for (const el of document.querySelectorAll('.navbar .nav-link, .navbar .navbar-brand')) {
    if (!el.offsetParent) continue;  // hidden (the collapsed menu on a phone)
    const style = getComputedStyle(el);
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
    const content = el.getBoundingClientRect().height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    if (content > line * 1.6) wrapped.push(el.textContent.trim());
  }
  return wrapped;
}"""

NAV_ROWS = """() => {
  const items = [...document.querySelectorAll('.navbar-nav > .nav-item')].filter(el => el.offsetParent);
  return new Set(items.map(el => Math.round(el.getBoundingClientRect().top))).size;
}"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 160))}));
}"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """A real server and worker on a fresh database with `flask seed demo` loaded."""
    site = LiveSite(tmp_path_factory.mktemp("ui-demo"), server="gunicorn").migrate()
    site.flask("seed", "demo")
    with site.start():
        yield site


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="module")
def contexts(browser, demo_site):
    """One browser context per (viewport, signed-in user), reused across pages. CSP is bypassed only
    so the test can inject axe-core; the pages themselves load nothing from outside."""
    made: dict[tuple[str, str | None], object] = {}

    def get(viewport: str, who: str | None):
        key = (viewport, who)
        if key not in made:
            width, height = VIEWPORTS[viewport]
            context = browser.new_context(
                base_url=demo_site.base,
                locale="zh-CN",
                viewport={"width": width, "height": height},
                bypass_csp=True,
            )
            context.set_default_timeout(30_000)
            if who:
                _sign_in(context.new_page(), who)
            made[key] = context
        return made[key]

    yield get
    for context in made.values():
        context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_reads_well(contexts, viewport: str, name: str) -> None:
    who, path = PAGES[name]
    page = contexts(viewport, who).new_page()
    try:
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        page.wait_for_load_state("networkidle")
        SHOTS.mkdir(parents=True, exist_ok=True)
        width, height = VIEWPORTS[viewport]
        page.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"), full_page=True)
        assert page.evaluate(OVERFLOW) <= 0, "the page scrolls sideways"
        if viewport == "laptop":
            assert page.evaluate(NAV_ROWS) == 1, "the navbar items take more than one row"
        else:
            page.click(".navbar-toggler")
            page.wait_for_selector("#nav.show")
        assert page.evaluate(NAV_WRAPS) == [], "a navbar item breaks over two lines"
        if not AXE.exists():
            pytest.skip(f"axe-core not installed ({AXE} missing: `make install` runs `npm ci`)")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_RUN)
        assert violations == [], "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in violations
        )
    finally:
        page.close()
