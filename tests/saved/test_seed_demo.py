"""The demo 收藏与订阅 part: favourites from two users, a follow, two saved searches; loaded once."""

from __future__ import annotations

from sqlmodel import select

from market.saved.models import Favourite, Follow, SavedSearch
from seed import saved as demo
from tests.challenges.conftest import make_challenge
from tests.factories import make_org, make_user


def test_demo_favourites_and_saved_searches_load_once(session):
    make_user(session, role="university", org=make_org(session, name="天津大学"), email=demo.USER)
    make_user(session, role="university", org=make_org(session, name="南开大学"), email=demo.FAN)
    ent = make_org(session, kind="企业")
    make_challenge(session, org=ent, title="演示榜单一")
    make_challenge(session, org=ent, title="演示榜单二")
    assert demo.load(session) == {"favourites": 4, "saved_searches": 2}
    assert demo.load(session) == {"favourites": 0, "saved_searches": 0}
    assert len(session.exec(select(Favourite)).all()) == 4
    assert len(session.exec(select(Follow)).all()) == 1
    assert sorted(s.frequency for s in session.exec(select(SavedSearch)).all()) == ["不发邮件", "每日"]
