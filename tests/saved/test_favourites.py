"""收藏 a listing, 关注 an organisation, the 我的收藏 page; owners see how many saved, never who."""

from __future__ import annotations

from sqlmodel import select

from market.saved.models import Favourite, Follow
from tests.factories import login, make_listing


def test_save_and_unsave_a_listing_owner_sees_only_the_count(app, session, people, need):
    fans = []
    for role in ("uni", "other_uni", "agent"):
        c = app.test_client()
        login(c, people[role])
        assert c.post(f"/needs/{need.id}/favourite").status_code == 302
        fans.append(c)
    page = fans[0].get("/favourites").data.decode()
    assert "收藏测试需求" in page
    assert "★ 已收藏" in fans[0].get(f"/needs/{need.id}").data.decode()
    owner = app.test_client()
    login(owner, people["ent"])
    page = owner.get(f"/needs/{need.id}").data.decode()
    assert "已被 3 人收藏" in page
    assert people["uni"].display_name not in page and people["agent"].display_name not in page
    assert fans[2].post(f"/needs/{need.id}/favourite").status_code == 302  # unsave
    assert "已被 2 人收藏" in owner.get(f"/needs/{need.id}").data.decode()
    assert "已被" not in fans[0].get(f"/needs/{need.id}").data.decode()  # only owners see the count


def test_only_published_listings_can_be_saved(client, session, people):
    draft = make_listing(session, kind="need", status="草稿", title="草稿需求")
    session.commit()
    login(client, people["uni"])
    assert client.post(f"/needs/{draft.id}/favourite").status_code == 404
    assert client.post("/needs/999999/favourite").status_code == 404
    assert session.exec(select(Favourite)).all() == []


def test_follow_an_organisation(client, session, people, need):
    login(client, people["uni"])
    assert "关注该机构" in client.get(f"/needs/{need.id}").data.decode()
    resp = client.post(f"/organizations/{need.organization_id}/follow", data={"next": f"/needs/{need.id}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/needs/{need.id}")
    assert "海河新能源科技股份有限公司" in client.get("/favourites").data.decode()
    assert client.post(f"/organizations/{people['uni'].organization_id}/follow").status_code == 303  # own org
    assert client.post("/organizations/999999/follow").status_code == 404
    client.post(f"/organizations/{need.organization_id}/follow")  # unfollow
    session.expire_all()
    assert session.exec(select(Follow)).all() == []


def test_favourites_need_sign_in(client, need):
    assert client.get("/favourites").status_code == 302
    assert client.post(f"/needs/{need.id}/favourite").status_code == 302
