"""Numbered pagination: first, last and the pages around the current one, with gaps."""

from __future__ import annotations

from market.accounts.models import Organization
from tests.challenges.conftest import make_challenge


def test_the_challenge_board_numbers_its_pages(app, session, people):
    org = session.get(Organization, people["ent"].organization_id)
    for i in range(12 * 7 + 1):  # 8 pages of 12
        make_challenge(session, org=org, title=f"分页测试榜单{i}")
    session.commit()
    page = app.test_client().get("/challenges?page=4").data.decode()
    for n in (1, 2, 3, 5, 6, 8):
        assert f'href="/challenges?page={n}"' in page, n
    assert 'aria-current="page"><span class="page-link">4<' in page
    assert 'href="/challenges?page=7"' not in page and "…" in page
    last = app.test_client().get("/challenges?page=8").data.decode()
    assert "下一页" not in last and "上一页" in last
