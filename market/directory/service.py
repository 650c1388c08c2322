"""Directory rules: filters (refused with the field named), the agency and broker lists, profiles,
certificates and their checks by an administrator.

Profiles say what an agency or a broker offers; the figures beside them come from `track` and are
never taken from a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, or_, select

from market.accounts.models import Organization, User
from market.db import utcnow
from market.directory.models import AgencyProfile, BrokerCertificate, BrokerProfile, ProfileField
from market.errors import DomainError, NotAllowed
from vocab.regions import PROVINCES, coarse_region, is_region_code, region_prefix
from vocab.taxonomy import FIELDS, SUBFIELDS, AgencyType, OrgKind, Role, values

PER_PAGE = 20
MAX_PAGE = 100_000
MAX_FIELDS = 8
CERT_PENDING, CERT_OK, CERT_REJECTED = "待核验", "已核验", "未通过"


def _field_problem(value: str) -> str | None:
    if value in FIELDS or value in SUBFIELDS:
        return None
    return f"技术领域“{value[:20]}”不在平台的领域分类中"


@dataclass
class DirectoryFilters:
    """Filters of the agency and broker lists (subtype only applies to agencies)."""

    subtype: str | None = None
    region: str | None = None
    field: str | None = None
    agency: int | None = None
    page: int = 1
    per_page: int = PER_PAGE
    errors: list[tuple[str, str]] = dc_field(default_factory=list)

    @classmethod
    def parse(cls, args: Any) -> DirectoryFilters:
        """Read the query string; a value that is not blank and not known is an error naming its field."""
        f = cls()
        subtype = (args.get("subtype") or "").strip()
        if subtype:
            if subtype in values(AgencyType):
                f.subtype = subtype
            else:
                f.errors.append(
                    ("subtype", f"机构类型“{subtype[:20]}”无效，应为：{'、'.join(values(AgencyType))}")
                )
        region = (args.get("region") or "").strip()
        if region:
            if is_region_code(region):
                f.region = region
            else:
                f.errors.append(
                    ("region", f"地区代码“{region[:20]}”不是已知的行政区划代码（GB/T 2260，如 120104）")
                )
        chosen = (args.get("field") or "").strip()
        if chosen:
            problem = _field_problem(chosen)
            if problem:
                f.errors.append(("field", problem))
            else:
                f.field = chosen
        agency = (args.get("agency") or "").strip()
        if agency:
            if agency.isdigit() and 0 < int(agency) < 2**31:
                f.agency = int(agency)
            else:
                f.errors.append(("agency", "所属机构参数无效"))
        page = (args.get("page") or "").strip()
        if page:
            if page.isdigit() and 1 <= int(page) <= MAX_PAGE:
                f.page = int(page)
            else:
                f.errors.append(("page", f"页码应为 1 到 {MAX_PAGE} 之间的整数"))
        return f

    def check(self) -> None:
        if self.errors:
            raise DomainError(*self.errors)

    def as_args(self) -> dict[str, Any]:
        out = {"subtype": self.subtype, "region": self.region, "field": self.field, "agency": self.agency}
        return {k: v for k, v in out.items() if v}


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# --- fields ----------------------------------------------------------------------------------------------


def fields_of(session: Session, owner_kind: str, owner_ids: list[int]) -> dict[int, list[str]]:
    """Each owner's fields, in the taxonomy's order."""
    if not owner_ids:
        return {}
    order = {f: i for i, f in enumerate([*FIELDS, *SUBFIELDS])}
    rows = session.exec(
        select(ProfileField.owner_id, ProfileField.field).where(
            ProfileField.owner_kind == owner_kind, ProfileField.owner_id.in_(owner_ids)
        )
    ).all()
    out: dict[int, list[str]] = {i: [] for i in owner_ids}
    for owner_id, f in rows:
        out[owner_id].append(f)
    for fs in out.values():
        fs.sort(key=lambda f: order.get(f, 999))
    return out


def _set_fields(session: Session, owner_kind: str, owner_id: int, chosen: list[str]) -> None:
    session.exec(
        sa.delete(ProfileField).where(
            ProfileField.owner_kind == owner_kind, ProfileField.owner_id == owner_id
        )
    )
    for f in dict.fromkeys(chosen):
        session.add(ProfileField(owner_kind=owner_kind, owner_id=owner_id, field=f))


def _field_match(owner_kind: str, owner_column, chosen: str):
    """Owners with `chosen`, its first level (for a second-level field) or any of its second levels."""
    wanted = {chosen, *FIELDS.get(chosen, ())}
    parent = next((top for top, subs in FIELDS.items() if chosen in subs), None)
    if parent:
        wanted.add(parent)
    return owner_column.in_(
        select(ProfileField.owner_id).where(
            ProfileField.owner_kind == owner_kind, ProfileField.field.in_(sorted(wanted))
        )
    )


def _region_match(code: str, profile_code, org_region):
    """Profiles inside `code`; without a profile code, organisations whose coarse region is that
    province."""
    prefix = region_prefix(code)
    conds = [profile_code.startswith(prefix)]
    if len(prefix) == 2 and code[:2] in PROVINCES:
        conds.append(sa.and_(profile_code.is_(None), org_region == coarse_region(code)))
    return or_(*conds)


def _check_profile(*, region_code: str | None, chosen: list[str], errors: list[tuple[str, str]]) -> None:
    if region_code and not is_region_code(region_code):
        errors.append(("region_code", f"地区代码“{region_code[:20]}”不是已知的行政区划代码（GB/T 2260）"))
    for f in chosen:
        problem = _field_problem(f)
        if problem:
            errors.append(("fields", problem))
    if len(chosen) > MAX_FIELDS:
        errors.append(("fields", f"技术领域最多选择 {MAX_FIELDS} 个"))


# --- agencies --------------------------------------------------------------------------------------------


@dataclass
class AgencyCard:
    org: Organization
    profile: AgencyProfile | None
    fields: list[str]
    brokers: int


def _verified_agencies():
    return (
        select(Organization, AgencyProfile)
        .outerjoin(AgencyProfile, AgencyProfile.organization_id == Organization.id)
        .where(Organization.kind == OrgKind.AGENCY, Organization.verified.is_(True))
    )


def list_agencies(session: Session, f: DirectoryFilters) -> Page:
    """Verified 技术转移机构, filtered by subtype, region and field, by name, a page at a time."""
    f.check()
    stmt = _verified_agencies()
    if f.subtype:
        stmt = stmt.where(Organization.agency_type == f.subtype)
    if f.region:
        stmt = stmt.where(_region_match(f.region, AgencyProfile.region_code, Organization.region))
    if f.field:
        stmt = stmt.where(_field_match("agency", Organization.id, f.field))
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    rows = session.exec(
        stmt.order_by(Organization.name, Organization.id).offset((f.page - 1) * f.per_page).limit(f.per_page)
    ).all()
    ids = [org.id for org, _ in rows]
    fs = fields_of(session, "agency", ids)
    counts = dict(
        session.exec(
            select(User.organization_id, func.count(User.id))
            .where(User.organization_id.in_(ids), User.role == Role.AGENT, User.active.is_(True))
            .group_by(User.organization_id)
        ).all()
    )
    items = [
        AgencyCard(org, profile, fs.get(org.id, []), int(counts.get(org.id, 0))) for org, profile in rows
    ]
    return Page(items, int(total), f.page, f.per_page)


def agency(session: Session, org_id: int) -> AgencyCard | None:
    """A verified agency's card, or None (unverified and other kinds are not in the directory)."""
    row = session.exec(_verified_agencies().where(Organization.id == org_id)).first()
    if row is None:
        return None
    org, profile = row
    return AgencyCard(
        org, profile, fields_of(session, "agency", [org.id])[org.id], len(brokers_of(session, org.id))
    )


def brokers_of(session: Session, org_id: int) -> list[User]:
    """The active brokers of an agency."""
    return list(
        session.exec(
            select(User)
            .where(User.organization_id == org_id, User.role == Role.AGENT, User.active.is_(True))
            .order_by(User.display_name, User.id)
        ).all()
    )


def save_agency_profile(
    session: Session,
    *,
    actor: User,
    org: Organization,
    region_code: str | None,
    fields: list[str],
    intro: str | None,
    services: str | None,
    contact_name: str | None,
    contact_phone: str | None,
    contact_email: str | None,
) -> AgencyProfile:
    """An agency's own brokers (or an administrator) describe it."""
    if not (actor.role == Role.ADMIN or (actor.role == Role.AGENT and actor.organization_id == org.id)):
        raise NotAllowed((None, "只有本机构的技术经纪人或平台运营可以修改机构介绍"))
    region_code = (region_code or "").strip() or None
    chosen = [f.strip() for f in fields if f and f.strip()]
    errors: list[tuple[str, str]] = []
    _check_profile(region_code=region_code, chosen=chosen, errors=errors)
    for name, value, limit in (("intro", intro, 4000), ("services", services, 4000)):
        if value and len(value) > limit:
            errors.append((name, f"内容不能超过 {limit} 字"))
    if errors:
        raise DomainError(*errors)
    profile = session.exec(select(AgencyProfile).where(AgencyProfile.organization_id == org.id)).first()
    profile = profile or AgencyProfile(organization_id=org.id)
    profile.region_code = region_code
    profile.intro = (intro or "").strip() or None
    profile.services = (services or "").strip() or None
    profile.contact_name = (contact_name or "").strip()[:60] or None
    profile.contact_phone = (contact_phone or "").strip()[:40] or None
    profile.contact_email = (contact_email or "").strip()[:254] or None
    profile.updated_at = utcnow()
    session.add(profile)
    _set_fields(session, "agency", org.id, chosen)
    session.flush()
    return profile


# --- brokers ---------------------------------------------------------------------------------------------


@dataclass
class BrokerCard:
    user: User
    org: Organization
    profile: BrokerProfile | None
    fields: list[str]
    certificates: list[BrokerCertificate]


def _listed_brokers():
    return (
        select(User, Organization, BrokerProfile)
        .join(Organization, Organization.id == User.organization_id)
        .outerjoin(BrokerProfile, BrokerProfile.user_id == User.id)
        .where(
            User.role == Role.AGENT,
            User.active.is_(True),
            Organization.kind == OrgKind.AGENCY,
            Organization.verified.is_(True),
        )
    )


def _certificates(session: Session, user_ids: list[int], *, checked_only: bool) -> dict[int, list]:
    out: dict[int, list] = {i: [] for i in user_ids}
    if not user_ids:
        return out
    stmt = select(BrokerCertificate).where(BrokerCertificate.user_id.in_(user_ids))
    if checked_only:
        stmt = stmt.where(BrokerCertificate.status == CERT_OK)
    for cert in session.exec(stmt.order_by(BrokerCertificate.id)).all():
        out[cert.user_id].append(cert)
    return out


def list_brokers(session: Session, f: DirectoryFilters) -> Page:
    """Brokers of verified agencies, filtered by field, region and agency, by name, a page at a time."""
    f.check()
    stmt = _listed_brokers()
    if f.subtype:
        stmt = stmt.where(Organization.agency_type == f.subtype)
    if f.agency:
        stmt = stmt.where(Organization.id == f.agency)
    if f.region:
        stmt = stmt.where(_region_match(f.region, BrokerProfile.region_code, Organization.region))
    if f.field:
        stmt = stmt.where(_field_match("broker", User.id, f.field))
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    rows = session.exec(
        stmt.order_by(User.display_name, User.id).offset((f.page - 1) * f.per_page).limit(f.per_page)
    ).all()
    ids = [u.id for u, _, _ in rows]
    fs = fields_of(session, "broker", ids)
    certs = _certificates(session, ids, checked_only=True)
    items = [BrokerCard(u, org, p, fs.get(u.id, []), certs.get(u.id, [])) for u, org, p in rows]
    return Page(items, int(total), f.page, f.per_page)


def broker(session: Session, user_id: int, *, viewer=None) -> BrokerCard | None:
    """A listed broker's card; their own unchecked certificates only for themselves and administrators."""
    row = session.exec(_listed_brokers().where(User.id == user_id)).first()
    if row is None:
        return None
    user, org, profile = row
    own = getattr(viewer, "is_authenticated", False) and (viewer.id == user.id or viewer.role == Role.ADMIN)
    certs = _certificates(session, [user.id], checked_only=not own)[user.id]
    return BrokerCard(user, org, profile, fields_of(session, "broker", [user.id])[user.id], certs)


def save_broker_profile(
    session: Session,
    *,
    actor: User,
    region_code: str | None,
    fields: list[str],
    title: str | None,
    intro: str | None,
) -> BrokerProfile:
    """A broker describes themselves: region, fields, title, introduction (the figures are not theirs)."""
    if actor.role != Role.AGENT:
        raise NotAllowed((None, "只有技术经纪人可以填写经纪人资料"))
    region_code = (region_code or "").strip() or None
    chosen = [f.strip() for f in fields if f and f.strip()]
    errors: list[tuple[str, str]] = []
    _check_profile(region_code=region_code, chosen=chosen, errors=errors)
    if title and len(title.strip()) > 60:
        errors.append(("title", "职称或头衔不能超过 60 字"))
    if intro and len(intro) > 4000:
        errors.append(("intro", "个人介绍不能超过 4000 字"))
    if errors:
        raise DomainError(*errors)
    profile = session.exec(select(BrokerProfile).where(BrokerProfile.user_id == actor.id)).first()
    profile = profile or BrokerProfile(user_id=actor.id)
    profile.region_code = region_code
    profile.title = (title or "").strip() or None
    profile.intro = (intro or "").strip() or None
    profile.updated_at = utcnow()
    session.add(profile)
    _set_fields(session, "broker", actor.id, chosen)
    session.flush()
    return profile


def add_certificate(
    session: Session, *, actor: User, name: str, number: str, issuer: str, issued_on
) -> BrokerCertificate:
    """A broker records a qualification; it shows on the profile once an administrator checked it."""
    if actor.role != Role.AGENT:
        raise NotAllowed((None, "只有技术经纪人可以登记证书"))
    errors = []
    for key, value, label, limit in (
        ("name", name, "证书名称", 60),
        ("number", number, "证书编号", 60),
        ("issuer", issuer, "发证机构", 100),
    ):
        value = (value or "").strip()
        if not value:
            errors.append((key, f"请填写{label}"))
        elif len(value) > limit:
            errors.append((key, f"{label}不能超过 {limit} 字"))
    if issued_on is not None and issued_on > utcnow().date():
        errors.append(("issued_on", "发证日期不能晚于今天"))
    if errors:
        raise DomainError(*errors)
    cert = BrokerCertificate(
        user_id=actor.id, name=name.strip(), number=number.strip(), issuer=issuer.strip(), issued_on=issued_on
    )
    session.add(cert)
    session.flush()
    return cert


def pending_certificates(session: Session) -> list[tuple[BrokerCertificate, User]]:
    return list(
        session.exec(
            select(BrokerCertificate, User)
            .join(User, User.id == BrokerCertificate.user_id)
            .where(BrokerCertificate.status == CERT_PENDING)
            .order_by(BrokerCertificate.created_at, BrokerCertificate.id)
        ).all()
    )


def check_certificate(
    session: Session, *, actor: User, cert: BrokerCertificate, verdict: str, note: str | None = None
) -> BrokerCertificate:
    """An administrator confirms (已核验) or refuses (未通过, with a note) a certificate."""
    if actor.role != Role.ADMIN:
        raise NotAllowed((None, "只有平台运营可以核验证书"))
    if cert.status != CERT_PENDING:
        raise DomainError((None, f"该证书已处理（{cert.status}）"))
    note = (note or "").strip()
    if verdict == "ok":
        cert.status = CERT_OK
    elif verdict == "reject":
        if not note:
            raise DomainError(("note", "请说明未通过的原因"))
        cert.status = CERT_REJECTED
    else:
        raise DomainError(("verdict", "请选择核验结果"))
    cert.check_note = note[:200] or None
    cert.checked_by_id, cert.checked_at = actor.id, utcnow()
    session.add(cert)
    session.flush()
    return cert
