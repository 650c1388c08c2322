"""The 收藏与订阅 part of tests/security/support.py's world: uni saved a search (with its unsubscribe token)."""

from __future__ import annotations

from market.saved import service
from market.saved.models import SavedSearch


def saved_world(app, session, people) -> dict[str, object]:
    search = SavedSearch(user_id=people["uni"].id, name="矩阵订阅", params={"q": ["电池"]})
    session.add(search)
    session.flush()
    with app.app_context():
        token = service.unsubscribe_token(search)
    return {"saved_search": search.id, "unsub_token": token}
