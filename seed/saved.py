"""Demo 收藏与订阅: the demo university saves two needs and follows an enterprise; it has a saved search
for hydrogen needs (daily digest) and one for robot results (in-site only). Idempotent."""

from __future__ import annotations

from sqlmodel import Session, select

from market.accounts.models import User
from market.listings.models import TechNeed
from market.saved import service
from market.saved.models import SavedSearch
from vocab.taxonomy import ListingStatus

USER = "tju@demo.kjcg.cn"
FAN = "nankai@demo.kjcg.cn"
SEARCHES = (
    ({"q": ["氢"], "kind": ["need"]}, "每日"),
    ({"q": ["机器人"], "kind": ["result"]}, "不发邮件"),
)


def load(session: Session) -> dict[str, int]:
    added = {"favourites": 0, "saved_searches": 0}
    user = session.exec(select(User).where(User.email == USER)).first()
    if user is None or session.exec(select(SavedSearch.id).where(SavedSearch.user_id == user.id)).first():
        return added
    needs = session.exec(
        select(TechNeed)
        .where(TechNeed.status == ListingStatus.PUBLISHED, TechNeed.is_challenge.is_(True))
        .order_by(TechNeed.id)
        .limit(2)
    ).all()
    fan = session.exec(select(User).where(User.email == FAN)).first()
    for need in needs:
        for who in (user, fan):
            if who is not None:
                service.toggle_favourite(session, user=who, kind="need", listing_id=need.id)
                added["favourites"] += 1
    if needs:
        service.toggle_follow(session, user=user, org_id=needs[0].organization_id)
    for params, frequency in SEARCHES:
        service.save_search(session, user=user, raw=params, name=None, frequency=frequency)
        added["saved_searches"] += 1
    return added
