"""Read-side queries: the showcase lists with filters and pagination (published listings only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from market.accounts.models import Organization
from market.errors import DomainError
from market.listings.models import KINDS, Listing, ResearchResult, TechNeed
from vocab.taxonomy import COOPERATION_MODES, FIELDS, SUBFIELDS, ListingStatus, Maturity, Region, values

MAX_PER_PAGE = 100
MAX_PAGE = 100_000
#: price / budget bounds of the showcase filters (万元)
MAX_PRICE = 100_000_000
SORTS: tuple[str, ...] = ("newest", "price_asc", "price_desc")
#: numbers as JSON (and the OpenAPI document) writes them; the API accepts nothing looser
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


@dataclass
class Filters:
    """Showcase filters; parsed from query-string arguments by `Filters.parse`."""

    field: str | None = None
    maturity: str | None = None
    mode: str | None = None
    region: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    challenge: bool | None = None
    sort: str = "newest"
    page: int = 1
    per_page: int = 20
    errors: list[tuple[str, str]] = dc_field(default_factory=list)

    @classmethod
    def parse(cls, args: Any, *, strict: bool = False) -> Filters:
        """Read filters from request args; unknown values are dropped (pages) or refused (`strict`, API).

        Pages are forgiving (values are trimmed, blanks ignored, "2.0" is page 2). The API is `strict`
        and takes exactly what its OpenAPI document declares: each parameter at most once, enumerated
        values as listed, numbers as JSON writes them, whole numbers for the page, nothing blank.
        """
        f = cls()

        def raw(name: str) -> str | None:
            given = args.getlist(name) if hasattr(args, "getlist") else [args[name]] if name in args else []
            if strict and len(given) > 1:
                f.errors.append((name, f"参数 {name} 只能出现一次"))
                return None
            value = given[0] if given else None
            if value is None:
                return None
            if strict:
                if value == "":
                    f.errors.append((name, f"参数 {name} 不能为空（不筛选时请省略该参数）"))
                    return None
                return value
            return value.strip() or None

        def choice(name: str, allowed: tuple[str, ...]) -> str | None:
            value = raw(name)
            if value is None:
                return None
            if value not in allowed:
                f.errors.append((name, f"参数 {name} 的取值“{value[:30]}”无效"))
                return None
            return value

        def number(name: str, lo: float, hi: float, *, whole: bool = False) -> float | None:
            text = raw(name)
            if text is None:
                return None
            shape = _INTEGER if whole else _NUMBER
            if strict and not shape.fullmatch(text):
                f.errors.append((name, f"参数 {name} 应为{'整数' if whole else '数字'}"))
                return None
            try:
                value = float(text)
            except ValueError:
                f.errors.append((name, f"参数 {name} 应为数字"))
                return None
            if not lo <= value <= hi:
                f.errors.append((name, f"参数 {name} 应在 {lo:g} 到 {hi:g} 之间"))
                return None
            return value

        f.field = choice("field", (*SUBFIELDS, *FIELDS))
        f.maturity = choice("maturity", values(Maturity))
        f.mode = choice("mode", COOPERATION_MODES)
        f.region = choice("region", values(Region))
        f.price_min = number("price_min", 0, MAX_PRICE)
        f.price_max = number("price_max", 0, MAX_PRICE)
        challenge = choice("challenge", ("1", "0", "true", "false"))
        f.challenge = None if challenge is None else challenge in ("1", "true")
        f.sort = choice("sort", SORTS) or "newest"
        f.page = int(number("page", 1, MAX_PAGE, whole=True) or 1)
        f.per_page = int(number("per_page", 1, MAX_PER_PAGE, whole=True) or 20)
        if strict and f.errors:
            raise DomainError(*f.errors)
        return f

    def as_args(self) -> dict[str, Any]:
        """The active filters as query-string arguments (for pagination links)."""
        out = {k: getattr(self, k) for k in ("field", "maturity", "mode", "region", "price_min", "price_max")}
        if self.challenge is not None:
            out["challenge"] = "1" if self.challenge else "0"
        if self.sort != "newest":
            out["sort"] = self.sort
        return {k: v for k, v in out.items() if v not in (None, "")}


@dataclass
class Page:
    items: list[Any]  # (listing, organisation) pairs; rows of shown columns from `newest`
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def json_list_contains(column, value: str):
    """Portable “JSON list contains value” (SQLite and PostgreSQL): the column's text holds "value"."""
    return sa.cast(column, sa.Text).like(f'%"{value}"%')


def published_page(session: Session, kind: str, f: Filters) -> Page:
    """Published listings of `kind` matching the filters, newest first by default."""
    model = KINDS[kind]
    where: list[Any] = [model.status == ListingStatus.PUBLISHED]
    if f.field:
        where.append(model.field.in_(FIELDS[f.field]) if f.field in FIELDS else model.field == f.field)
    if f.region:
        where.append(Organization.region == f.region)
    if model is ResearchResult:
        if f.maturity:
            where.append(ResearchResult.maturity == f.maturity)
        if f.mode:
            where.append(json_list_contains(ResearchResult.transfer_modes, f.mode))
        if f.price_min is not None:
            where.append(ResearchResult.price_wan >= f.price_min)
        if f.price_max is not None:
            where.append(ResearchResult.price_wan <= f.price_max)
        price = ResearchResult.price_wan
    else:
        if f.mode:
            where.append(json_list_contains(TechNeed.cooperation_modes, f.mode))
        if f.challenge is not None:
            where.append(TechNeed.is_challenge == f.challenge)
        # budget ranges overlap the asked range
        if f.price_min is not None:
            where.append(func.coalesce(TechNeed.budget_max_wan, TechNeed.budget_min_wan) >= f.price_min)
        if f.price_max is not None:
            where.append(func.coalesce(TechNeed.budget_min_wan, TechNeed.budget_max_wan) <= f.price_max)
        price = func.coalesce(TechNeed.budget_min_wan, TechNeed.budget_max_wan)
    # The count joins organisations only to filter by region (a join per row otherwise).
    counted = select(func.count()).select_from(model)
    if f.region:
        counted = counted.join(Organization, Organization.id == model.organization_id)
    total = session.exec(counted.where(*where)).one()
    stmt = (
        select(model, Organization).join(Organization, Organization.id == model.organization_id).where(*where)
    )
    if f.sort == "price_asc":
        order = [price.is_(None), price.asc(), model.id.desc()]
    elif f.sort == "price_desc":
        order = [price.is_(None), price.desc(), model.id.desc()]
    else:
        order = [model.published_at.desc(), model.id.desc()]
    rows = session.exec(stmt.order_by(*order).offset((f.page - 1) * f.per_page).limit(f.per_page)).all()
    return Page(items=list(rows), total=total, page=f.page, per_page=f.per_page)


def newest(session: Session, kind: str, *, limit: int = 5, challenge: bool | None = None) -> Page:
    """The home page's lists: the newest published listings of `kind` and how many there are.

    Only the columns shown (id, title, field, 揭榜挂帅, organisation name), as rows: loading whole
    listings with their JSON columns cost more than the queries themselves.
    """
    model = KINDS[kind]
    where: list[Any] = [model.status == ListingStatus.PUBLISHED]
    columns: list[Any] = [model.id, model.title, model.field, Organization.name.label("org_name")]
    if model is TechNeed:
        columns.append(TechNeed.is_challenge)
        if challenge is not None:
            where.append(TechNeed.is_challenge == challenge)
    total = session.exec(select(func.count()).select_from(model).where(*where)).one()
    rows = session.exec(
        select(*columns)
        .join(Organization, Organization.id == model.organization_id)
        .where(*where)
        .order_by(model.published_at.desc(), model.id.desc())
        .limit(limit)
    ).all()
    return Page(items=list(rows), total=total, page=1, per_page=limit)


def organization_listings(session: Session, org_id: int) -> dict[str, list[Listing]]:
    """All listings of one organisation, every status, newest first."""
    return {
        kind: list(
            session.exec(
                select(model).where(model.organization_id == org_id).order_by(model.updated_at.desc())
            ).all()
        )
        for kind, model in KINDS.items()
    }


def pending(session: Session) -> list[tuple[Listing, Organization]]:
    """Listings waiting for review, oldest first."""
    out: list[tuple[Listing, Organization]] = []
    for model in KINDS.values():
        stmt = (
            select(model, Organization)
            .join(Organization, Organization.id == model.organization_id)
            .where(model.status == ListingStatus.PENDING)
        )
        out.extend(session.exec(stmt).all())
    return sorted(out, key=lambda row: row[0].updated_at)
