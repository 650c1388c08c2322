"""Arranging data for a live site from the test process: an app on the site's own database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from html.parser import HTMLParser

from sqlmodel import Session, select

from market import create_app
from market.accounts import service as accounts
from market.accounts.models import User
from market.db import db
from market.listings import service
from market.listings.models import ResearchResult
from market.listings.schemas import SCHEMAS
from tests.live_site import LiveSite

PASSWORD = "live-test-password-2026"


@contextlib.contextmanager
def live_app(site: LiveSite) -> Iterator[tuple[object, Session]]:
    """An app on the site's database and folders (its commits ring the site's worker)."""

    app = create_app(
        {
            "DATABASE_URL": site.database_url,
            "INSTANCE_PATH": str(site.data),
            "SEARCH_PATH": str(site.data / "search.sqlite3"),
            "MATCH_STORE_PATH": str(site.data / "matching.sqlite3"),
            "UPLOAD_DIR": str(site.data / "uploads"),
            "MEILI_URL": "",
            "MARKET_ENV": "development",
        }
    )
    with app.app_context():
        yield app, db()
    app.extensions["db.engine"].dispose()


def make_pending(
    site: LiveSite, n: int, *, tag: str, member: str = "tju@demo.kjcg.cn"
) -> list[tuple[int, str]]:
    """`n` results submitted for review, copies of the member's published results (so they have matches)."""

    with live_app(site) as (_app, session):
        user = session.exec(select(User).where(User.email == member)).one()
        sources = session.exec(
            select(ResearchResult)
            .where(ResearchResult.organization_id == user.organization_id, ResearchResult.status == "已发布")
            .order_by(ResearchResult.id)
            .limit(n)
        ).all()
        out = []
        for i, src in enumerate(sources):
            data = {k: getattr(src, k) for k in SCHEMAS["result"].model_fields if k != "external_id"}
            data["title"] = f"{src.title}（{tag}{i + 1}）"
            listing = service.create_listing(session, actor=user, kind="result", data=data)
            service.submit(session, actor=user, listing=listing)
            out.append((listing.id, data["title"]))
        session.commit()
    return out


def make_agents(site: LiveSite, n: int, *, tag: str) -> list[tuple[str, str, str]]:
    """`n` technology brokers of a verified agency: (email, password, display name)."""

    with live_app(site) as (_app, session):
        org, _ = accounts.get_or_create_org(
            session, name=f"{tag}技术转移中心", kind="技术转移机构", agency_type="区域", verified=True
        )
        out = []
        for i in range(n):
            email = f"{tag.encode().hex()[:12]}-{i}@live.kjcg.cn"
            name = f"{tag}经纪人{i}"
            accounts.register_user(
                session, email=email, display_name=name, password=PASSWORD, role="agent", org_name=org.name
            )
            user = accounts.find_user_by_email(session, email)
            accounts.decide_membership(session, user=user, approve=True)
            out.append((email, PASSWORD, name))
        session.commit()
    return out


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_fields(page: str) -> list[tuple[str, str]]:
    """What a browser would post from the page's form: inputs, checked boxes, selected options, text."""
    parser = _Form()
    parser.feed(page)
    return parser.fields
