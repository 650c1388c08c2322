"""收藏 and 关注 (toggles, counts for owners, the 我的收藏 page) and saved searches (save, change, delete,
the signed unsubscribe token)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, func, select

from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import DomainError
from market.listings.models import KINDS
from market.saved.models import Favourite, Follow, Frequency, SavedSearch
from search import QueryError, SearchQuery
from vocab.taxonomy import ListingStatus

MAX_SAVED_SEARCHES = 20
#: the search page's parameters a saved search keeps (paging and sorting are not part of "what")
KEPT = (
    "q",
    "kind",
    "field",
    "field_top",
    "maturity",
    "modes",
    "region",
    "challenge",
    "price_min",
    "price_max",
)
_SALT = "saved-search-unsubscribe"


def _public_listing(session: Session, kind: str, listing_id: int):
    listing = session.get(KINDS[kind], listing_id)
    if listing is None or listing.status != ListingStatus.PUBLISHED:
        raise DomainError((None, "只能收藏已发布的条目"))
    return listing


def toggle_favourite(session: Session, *, user: User, kind: str, listing_id: int) -> bool:
    """Save or unsave a published listing; True when it is saved now."""
    _public_listing(session, kind, listing_id)
    row = session.exec(
        select(Favourite).where(
            Favourite.user_id == user.id, Favourite.kind == kind, Favourite.listing_id == listing_id
        )
    ).first()
    if row is not None:
        session.delete(row)
        session.flush()
        return False
    session.add(Favourite(user_id=user.id, kind=kind, listing_id=listing_id))
    session.flush()
    return True


def toggle_follow(session: Session, *, user: User, org_id: int) -> bool:
    """Follow or unfollow an organisation; True when followed now."""
    org = session.get(Organization, org_id)
    if org is None:
        raise DomainError((None, "机构不存在"))
    if user.organization_id == org_id:
        raise DomainError((None, "不能关注自己所在的机构"))
    row = session.exec(
        select(Follow).where(Follow.user_id == user.id, Follow.organization_id == org_id)
    ).first()
    if row is not None:
        session.delete(row)
        session.flush()
        return False
    session.add(Follow(user_id=user.id, organization_id=org_id))
    session.flush()
    return True


def favourite_count(session: Session, kind: str, listing_id: int) -> int:
    """How many users saved a listing (owners see the number, never the names)."""
    return session.exec(
        select(func.count())
        .select_from(Favourite)
        .where(Favourite.kind == kind, Favourite.listing_id == listing_id)
    ).one()


def state_for_current_user(session: Session, kind: str, listing) -> dict[str, bool]:
    """{"saved": …, "following": …} for the detail page's buttons."""
    if not current_user.is_authenticated:
        return {"saved": False, "following": False}
    saved = session.exec(
        select(Favourite.id).where(
            Favourite.user_id == current_user.id, Favourite.kind == kind, Favourite.listing_id == listing.id
        )
    ).first()
    following = session.exec(
        select(Follow.id).where(
            Follow.user_id == current_user.id, Follow.organization_id == listing.organization_id
        )
    ).first()
    return {"saved": saved is not None, "following": following is not None}


def favourites(session: Session, user_id: int) -> list[tuple[str, Any]]:
    """The user's saved listings that are still public, newest saved first."""
    rows = session.exec(
        select(Favourite).where(Favourite.user_id == user_id).order_by(Favourite.created_at.desc())
    ).all()
    out = []
    for kind, model in KINDS.items():
        ids = [f.listing_id for f in rows if f.kind == kind]
        if ids:
            found = {
                x.id: x
                for x in session.exec(
                    select(model).where(model.id.in_(ids), model.status == ListingStatus.PUBLISHED)
                ).all()
            }
            out += [(kind, found[f.listing_id]) for f in rows if f.kind == kind and f.listing_id in found]
    order = {(f.kind, f.listing_id): i for i, f in enumerate(rows)}
    return sorted(out, key=lambda kl: order[(kl[0], kl[1].id)])


def follows(session: Session, user_id: int) -> list[Organization]:
    return list(
        session.exec(
            select(Organization)
            .join(Follow, Follow.organization_id == Organization.id)
            .where(Follow.user_id == user_id)
            .order_by(Organization.name)
        ).all()
    )


def saved_searches(session: Session, user_id: int) -> list[SavedSearch]:
    return list(
        session.exec(
            select(SavedSearch)
            .where(SavedSearch.user_id == user_id, SavedSearch.active.is_(True))
            .order_by(SavedSearch.created_at.desc())
        ).all()
    )


def clean_params(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    """The search parameters worth keeping, checked by the search library (QueryError → DomainError)."""
    params = {k: [v.strip() for v in raw.get(k, []) if v and v.strip()] for k in KEPT}
    params = {k: v for k, v in params.items() if v}
    try:
        SearchQuery.from_params(params)
    except QueryError as exc:
        raise DomainError(("params", exc.reason)) from None
    return params


def describe(params: dict[str, list[str]]) -> str:
    """A short Chinese name for a search: its words and facets."""
    parts = [" ".join(params.get("q", []))] if params.get("q") else []
    kind = (params.get("kind") or [""])[0]
    if kind in ("result", "need"):
        parts.append("科技成果" if kind == "result" else "技术需求")
    for key in ("field", "field_top", "maturity", "modes", "region"):
        parts += params.get(key, [])
    if (params.get("challenge") or [""])[0] in ("1", "true"):
        parts.append("揭榜挂帅")
    return "、".join(p for p in parts if p)[:100] or "全部新发布"


def save_search(
    session: Session, *, user: User, raw: dict[str, list[str]], name: str | None, frequency: str | None
) -> SavedSearch:
    """订阅 a search: its query and facets, and how often to mail (每日 / 每周 / 不发邮件)."""
    params = clean_params(raw)
    freq = frequency or Frequency.DAILY
    if freq not in set(Frequency):
        raise DomainError(("frequency", "邮件频率应为每日、每周或不发邮件"))
    active = saved_searches(session, user.id)
    if len(active) >= MAX_SAVED_SEARCHES:
        raise DomainError((None, f"最多订阅 {MAX_SAVED_SEARCHES} 个搜索，请先删除不需要的"))
    if any(s.params == params for s in active):
        raise DomainError((None, "已订阅过相同的搜索"))
    title = (name or "").strip()[:100] or describe(params)
    row = SavedSearch(user_id=user.id, name=title, params=params, frequency=freq)
    session.add(row)
    session.flush()
    return row


def change_search(
    session: Session, *, user: User, search_id: int, frequency: str | None, delete: bool
) -> SavedSearch:
    row = session.get(SavedSearch, search_id)
    if row is None or row.user_id != user.id or not row.active:
        raise DomainError((None, "订阅不存在"))
    if delete:
        row.active = False
    elif frequency in set(Frequency):
        row.frequency = frequency
    else:
        raise DomainError(("frequency", "邮件频率应为每日、每周或不发邮件"))
    session.add(row)
    session.flush()
    return row


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(search: SavedSearch) -> str:
    return _serializer().dumps({"s": search.id, "u": search.user_id})


def unsubscribe(session: Session, token: str) -> SavedSearch:
    """One click from a digest: the signed token names the saved search; its mail stops (idempotent)."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise DomainError((None, "退订链接无效或已损坏")) from None
    row = session.get(SavedSearch, data.get("s")) if isinstance(data, dict) else None
    if row is None or row.user_id != data.get("u"):
        raise DomainError((None, "退订链接无效或已损坏"))
    if row.frequency != Frequency.NONE:
        row.frequency = Frequency.NONE
        row.unsubscribed_at = row.unsubscribed_at or utcnow()
        session.add(row)
        session.flush()
    return row
