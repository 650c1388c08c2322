"""Review-loop fixtures: signed-in clients of the owner, a colleague and the admin of `people`."""

from __future__ import annotations

import pytest
from sqlmodel import select

from market.notifications.models import Notification
from tests.factories import login


@pytest.fixture
def clients(app, people):
    out = {}
    for role in ("uni", "uni2", "admin", "ent"):
        out[role] = app.test_client()
        login(out[role], people[role])
    return out


def notes_of(session, user) -> list[Notification]:
    session.expire_all()
    return list(session.exec(select(Notification).where(Notification.user_id == user.id)).all())
