"""Saved-search alerts, by the worker: new matching listings become an in-site notification at once
and a daily or weekly mail digest (the user's setting), with a one-click unsubscribe link.

Each saved search is run against the search engine outside any write transaction; what it found that
was published after the search was saved, and not found before, is recorded (`SavedSearchHit`, unique
per search and listing, so a listing indexed late is still found once and never twice)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from markupsafe import Markup
from sqlmodel import select

from market import links
from market.accounts.models import Organization, User
from market.db import utcnow
from market.listings.models import KINDS
from market.mail.service import SITE_NAME, queue_mail
from market.notifications.models import Notification
from market.outbox.worker import tx
from market.saved import service
from market.saved.models import Follow, Frequency, SavedSearch, SavedSearchHit
from market.searching.engine import get_engine
from search import EngineUnavailable, QueryError, SearchQuery
from vocab.taxonomy import ListingStatus

PERIOD = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}
WINDOW = 50  # the newest hits looked at per run; more new listings than this between runs wait a run


def _new_hits(app: Flask, search: SavedSearch) -> list[tuple[str, int, str]]:
    params = dict(search.params) | {"sort": ["newest"], "per_page": [str(WINDOW)]}
    try:
        q = SearchQuery.from_params(params)
        results = get_engine(app).query(q)
    except (QueryError, EngineUnavailable):
        return []  # a search the library no longer accepts, or the engine is down: next run
    since = int(search.created_at.timestamp())
    return [
        (hit.kind, hit.db_id, _plain(hit.title))
        for hit in results.hits
        if int(hit.fields.get("published_at") or 0) >= since
    ]


def _plain(markup: str) -> str:
    """A hit's title without its <mark> highlights, as plain text."""
    return Markup(markup).striptags()[:200]


def run_alerts(app: Flask) -> str | None:
    """Worker job: record what each active saved search newly finds and notify its owner in-site."""
    with tx(app).read() as session:
        searches = session.exec(
            select(SavedSearch).where(SavedSearch.active.is_(True)).order_by(SavedSearch.id)
        ).all()
        seen = (
            {
                (h.saved_search_id, h.kind, h.listing_id)
                for h in session.exec(
                    select(SavedSearchHit).where(SavedSearchHit.saved_search_id.in_([s.id for s in searches]))
                ).all()
            }
            if searches
            else set()
        )
    found = 0
    for search in searches:
        fresh = [h for h in _new_hits(app, search) if (search.id, h[0], h[1]) not in seen]
        if not fresh:
            continue
        with tx(app).write() as session:
            added = 0
            for kind, listing_id, title in fresh:
                exists = session.exec(
                    select(SavedSearchHit.id).where(
                        SavedSearchHit.saved_search_id == search.id,
                        SavedSearchHit.kind == kind,
                        SavedSearchHit.listing_id == listing_id,
                    )
                ).first()
                if exists is None:
                    session.add(
                        SavedSearchHit(
                            saved_search_id=search.id, kind=kind, listing_id=listing_id, title=title
                        )
                    )
                    added += 1
            if added:
                # in-site only: the mail is the digest (notify() would mail each one at once)
                first = fresh[0]
                session.add(
                    Notification(
                        user_id=search.user_id,
                        message=f"订阅的搜索“{search.name}”有 {added} 条新发布：{first[2]}"
                        + ("等" if added > 1 else ""),
                        link=links.listing(first[0], first[1]) if added == 1 else links.favourites(),
                    )
                )
                found += added
    told = _follow_alerts(app)
    if not (found or told):
        return None
    return "；".join(
        part
        for part in (
            f"订阅搜索：{found} 条新结果" if found else "",
            f"关注机构：{told} 条新发布" if told else "",
        )
        if part
    )


def _follow_alerts(app: Flask) -> int:
    """Followers hear of each new publication of the organisations they follow (once; in-site)."""
    told = 0
    with tx(app).write() as session:
        for follow in session.exec(select(Follow).order_by(Follow.id)).all():
            since = follow.seen_until or follow.created_at
            new = []
            for model in KINDS.values():
                new += session.exec(
                    select(model)
                    .where(
                        model.organization_id == follow.organization_id,
                        model.status == ListingStatus.PUBLISHED,
                        model.published_at > since,
                    )
                    .order_by(model.published_at)
                    .limit(WINDOW)
                ).all()
            if not new:
                continue
            new.sort(key=lambda x: x.published_at)
            org = session.get(Organization, follow.organization_id)
            latest = new[-1]
            session.add(
                Notification(
                    user_id=follow.user_id,
                    message=f"关注的机构“{org.name}”发布了 {len(new)} 条新{latest.label}等：{latest.title}"[
                        :500
                    ]
                    if len(new) > 1
                    else f"关注的机构“{org.name}”发布了新{latest.label}：{latest.title}"[:500],
                    link=links.listing(latest.kind, latest.id),
                )
            )
            follow.seen_until = latest.published_at
            session.add(follow)
            told += len(new)
    return told


def _absolute(path: str) -> str:
    base = str(current_app.config.get("SITE_URL") or "").rstrip("/")
    return f"{base}{path}"


def run_digests(app: Flask) -> str | None:
    """Worker job: mail each daily / weekly saved search's unmailed hits once its period has passed."""
    now = utcnow()
    with tx(app).read() as session:
        due = session.exec(
            select(SavedSearch.id)
            .where(
                SavedSearch.active.is_(True),
                SavedSearch.frequency.in_([Frequency.DAILY, Frequency.WEEKLY]),
                SavedSearch.id.in_(
                    select(SavedSearchHit.saved_search_id).where(SavedSearchHit.mailed_at.is_(None))
                ),
            )
            .order_by(SavedSearch.id)
        ).all()
    sent = 0
    for search_id in due:
        with tx(app).write() as session:
            search = session.get(SavedSearch, search_id)
            if search is None or search.frequency not in PERIOD:
                continue
            last = search.last_mailed_at
            if (
                last is not None
                and (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) + PERIOD[search.frequency]
                > now
            ):
                continue
            hits = session.exec(
                select(SavedSearchHit)
                .where(SavedSearchHit.saved_search_id == search.id, SavedSearchHit.mailed_at.is_(None))
                .order_by(SavedSearchHit.id)
            ).all()
            user = session.get(User, search.user_id)
            if not hits or user is None or not user.active:
                continue
            unsubscribe = links.unsubscribe(service.unsubscribe_token(search))
            lines = [f"· {h.title}\n  {_absolute(links.listing(h.kind, h.listing_id))}" for h in hits]
            body = (
                f"您订阅的搜索“{search.name}”有 {len(hits)} 条新发布（{search.frequency}汇总）：\n\n"
                + "\n".join(lines)
                + f"\n\n管理订阅：{_absolute(links.favourites())}"
                + f"\n不再接收此订阅的邮件（一键退订）：{_absolute(unsubscribe)}\n"
            )
            queue_mail(session, to=user.email, subject=f"{SITE_NAME}订阅：{search.name}", body=body)
            for h in hits:
                h.mailed_at = now
                session.add(h)
            search.last_mailed_at = now
            session.add(search)
            sent += 1
    return f"订阅搜索：{sent} 封汇总邮件" if sent else None
