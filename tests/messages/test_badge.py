"""The navbar's unread badge: unread notifications plus threads with unread messages, in one statement
per page, with a visually hidden 条未读 for screen readers; visitors get no badge and no query for it."""

from __future__ import annotations

import re

from market.messages import service
from market.messages.models import Message
from market.notifications.models import Notification
from market.notifications.service import mark_all_read
from tests.factories import login

BADGE = re.compile(
    r'<span class="nav-unread badge[^"]*">(\d+)<span class="visually-hidden"> 条未读</span></span>'
)


def _badge(client) -> int | None:
    found = BADGE.search(client.get("/results").get_data(as_text=True))
    return int(found.group(1)) if found else None


def _say(session, match, sender, body="您好"):
    session.add(
        Message(match_id=match.id, sender_id=sender.id, sender_org_id=sender.organization_id, body=body)
    )
    session.commit()


def test_notifications_and_unread_threads_add_up(app, client, session, people, matches):
    uni, ent = people["uni"], people["ent"]
    login(client, ent)
    assert _badge(client) is None  # nothing unread: no badge at all
    session.add_all([Notification(user_id=ent.id, message=f"通知{i}") for i in range(2)])
    session.add(Notification(user_id=uni.id, message="别人的通知"))
    session.commit()
    assert _badge(client) == 2
    _say(session, matches["introduced"], uni, "第一条")
    _say(session, matches["introduced"], uni, "第二条")  # two messages, one thread: counts once
    _say(session, matches["introduced"], ent, "我自己发的")  # own messages never count
    assert _badge(client) == 3
    assert client.get(f"/matches/{matches['introduced'].id}/messages").status_code == 200  # read
    assert _badge(client) == 2
    mark_all_read(session, ent.id)
    session.commit()
    assert _badge(client) is None


def test_the_notifications_page_points_to_unread_threads(client, session, people, matches):
    _say(session, matches["introduced"], people["uni"])
    login(client, people["ent"])
    page = client.get("/notifications").get_data(as_text=True)
    assert "另有 1 个会话有未读消息" in page and 'href="/messages"' in page
    assert _badge(client) == 1


def test_roles_without_threads_count_notifications_only(app, session, people, matches):
    agent = people["agent"]
    session.add(Notification(user_id=agent.id, message="待处理的对接"))
    session.commit()
    _say(session, matches["introduced"], people["uni"])
    assert service.unread_badge(session, agent) == (1, 0)
    assert service.unread_badge(session, people["ent"]) == (0, 1)
    assert service.unread_badge(session, people["other_uni"]) == (0, 0)  # not a side of the match


def test_visitors_get_no_badge(app):
    page = app.test_client().get("/results").get_data(as_text=True)
    assert "nav-unread" not in page and "条未读" not in page


def test_the_badge_is_one_statement_per_page(client, session, people, matches, query_recorder):
    ent = people["ent"]
    session.add(Notification(user_id=ent.id, message="一条通知"))
    session.commit()
    _say(session, matches["introduced"], people["uni"])
    login(client, ent)
    client.get("/notifications")  # warm
    for path in ("/results", "/notifications"):  # the notifications page shows the count twice
        with query_recorder.record():
            assert client.get(path).status_code == 200
        touching = [s for s in query_recorder.statements if "notifications" in s and "count" in s.lower()]
        assert len(touching) == 1, touching
