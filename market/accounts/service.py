"""Account rules: registration, authentication, password change, organisation verification."""

from __future__ import annotations

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, func, select

from market.accounts.models import ApiToken, Organization, User, new_nonce
from market.accounts.passwords import DUMMY_HASH, hash_password, password_problem, verify_password
from market.db import utcnow
from market.errors import DomainError
from vocab.taxonomy import ROLE_ORG_KINDS, AgencyType, GrowthTier, OrgKind, Region, Role, values


class AddressTaken(Exception):
    """Registration with an address that has an account: the caller rolls back, mails the owner and
    answers as if the account had been created."""

    def __init__(self, owner: User) -> None:
        super().__init__(owner.email)
        self.owner = owner


def normalize_email(raw: str, *, check_deliverability: bool = False) -> str:
    """The canonical form of an e-mail address, or DomainError("email", …)."""
    try:
        info = validate_email((raw or "").strip(), check_deliverability=check_deliverability)
    except EmailNotValidError as exc:
        raise DomainError(("email", "邮箱地址格式不正确，请检查后重新输入")) from exc
    return info.normalized.lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this e-mail (case-insensitive), if any."""
    return session.exec(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def find_org_by_name(session: Session, name: str) -> Organization | None:
    """The organisation with exactly this (trimmed) name."""
    return session.exec(select(Organization).where(Organization.name == name.strip())).first()


def get_or_create_org(
    session: Session,
    *,
    name: str,
    kind: str,
    region: str = Region.TIANJIN,
    district: str | None = None,
    agency_type: str | None = None,
    growth_tier: str | None = None,
    high_tech: bool = False,
    verified: bool = False,
) -> tuple[Organization, bool]:
    """The named organisation, created (unverified unless told) when missing; returns (org, created)."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(("org_name", "请填写机构名称"))
    if len(name) > 120:
        raise DomainError(("org_name", "机构名称不能超过 120 个字"))
    org = find_org_by_name(session, name)
    if org is not None:
        return org, False
    if kind not in values(OrgKind):
        raise DomainError(("org_kind", "请选择机构类型"))
    if region not in values(Region):
        raise DomainError(("region", "请选择所在地区"))
    if kind == OrgKind.AGENCY and agency_type not in values(AgencyType):
        raise DomainError(("agency_type", "技术转移机构需选择机构类别（区域、高校院所、行业、服务）"))
    if growth_tier and growth_tier not in values(GrowthTier):
        raise DomainError(("growth_tier", "企业梯度只能是雏鹰、瞪羚或领军"))
    org = Organization(
        name=name,
        kind=kind,
        region=region,
        district=district or None,
        agency_type=agency_type if kind == OrgKind.AGENCY else None,
        growth_tier=growth_tier if kind == OrgKind.ENTERPRISE else None,
        high_tech=high_tech if kind == OrgKind.ENTERPRISE else False,
        verified=verified,
        verified_at=utcnow() if verified else None,
    )
    session.add(org)
    session.flush()
    return org, True


def register_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    role: str,
    org_name: str,
    org_kind: str | None = None,
    region: str = Region.TIANJIN,
    district: str | None = None,
    agency_type: str | None = None,
    growth_tier: str | None = None,
    high_tech: bool = False,
) -> User:
    """Create a member account that joins an existing organisation or creates an unverified one."""
    errors: list[tuple[str, str]] = []
    try:
        email = normalize_email(email)
    except DomainError as exc:
        errors.extend(exc.errors)
    display_name = " ".join((display_name or "").split())
    if not display_name:
        errors.append(("display_name", "请填写姓名"))
    elif len(display_name) > 60:
        errors.append(("display_name", "姓名不能超过 60 个字"))
    if role not in ROLE_ORG_KINDS:
        errors.append(("role", "请选择身份：成果方、需求方或技术经纪人"))
    problem = password_problem(password, email=email, display_name=display_name)
    if problem:
        errors.append(("password", problem))
    # Hash first: the first query of a writing request takes the write lock, the hash takes a moment.
    password_hash = hash_password(password) if not errors else ""
    if errors:
        raise DomainError(*errors)

    allowed_kinds = ROLE_ORG_KINDS[role]
    existing = find_org_by_name(session, org_name or "")
    if existing is not None:
        if existing.kind not in allowed_kinds:
            raise DomainError(("org_name", f"“{existing.name}”是{existing.kind}，与所选身份不符"))
        # Typing an organisation's name proves nothing: the newcomer waits for approval.
        membership = {"pending_organization_id": existing.id}
    else:
        kind = org_kind or allowed_kinds[0]
        if kind not in allowed_kinds:
            raise DomainError(("org_kind", "机构类型与所选身份不符"))
        org, _ = get_or_create_org(
            session,
            name=org_name,
            kind=kind,
            region=region,
            district=district,
            agency_type=agency_type,
            growth_tier=growth_tier,
            high_tech=high_tech,
        )
        membership = {"organization_id": org.id}
    # Checked last, so the answer up to here is the same whether or not the address has an account.
    owner = find_user_by_email(session, email)
    if owner is not None:
        raise AddressTaken(owner)
    user = User(email=email, display_name=display_name, role=role, password_hash=password_hash, **membership)
    session.add(user)
    session.flush()
    return user


def create_admin(session: Session, *, email: str, display_name: str, password: str) -> User:
    """Create a platform administrator (no organisation)."""
    email = normalize_email(email)
    problem = password_problem(password, email=email, display_name=display_name)
    if problem:
        raise DomainError(("password", problem))
    if find_user_by_email(session, email) is not None:
        raise DomainError(("email", "该邮箱已存在"))
    user = User(
        email=email, display_name=display_name, role=Role.ADMIN, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def check_credentials(session: Session, *, email: str, password: str) -> tuple[User, str | None]:
    """(user, new hash or None) for these credentials, or DomainError. Only reads: the slow password
    check runs outside any write transaction (`record_login` writes)."""
    user = find_user_by_email(session, email or "")
    if user is None:
        verify_password(DUMMY_HASH, password)  # same work as a real check
        raise DomainError((None, "邮箱或密码不正确"))
    ok, new_hash = verify_password(user.password_hash, password)
    if not ok:
        raise DomainError((None, "邮箱或密码不正确"))
    if not user.active:
        raise DomainError((None, "该账号已停用，请联系平台运营"))
    return user, new_hash


def record_login(session: Session, *, user: User, new_hash: str | None = None) -> User:
    """Note the sign-in (and a rehashed password) on the user's row."""
    user = session.merge(user)
    if new_hash:
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The user with these credentials (rehashing on parameter change), or DomainError."""
    user, new_hash = check_credentials(session, email=email, password=password)
    return record_login(session, user=user, new_hash=new_hash)


def end_all_sessions(session: Session, user: User) -> None:
    """Invalidate every session cookie of `user` (logout, password change)."""
    user.session_nonce = new_nonce()
    session.add(user)
    session.flush()


def change_password(session: Session, *, user: User, current: str, new: str) -> int:
    """Change the password after checking the current one; ends all other sessions and revokes every
    API token of the user (whoever learnt the old password may have made one). Returns how many
    tokens were revoked."""
    ok, _ = verify_password(user.password_hash, current)
    if not ok:
        raise DomainError(("current_password", "当前密码不正确"))
    problem = password_problem(new, email=user.email, display_name=user.display_name)
    if problem:
        raise DomainError(("new_password", problem))
    if current == new:
        raise DomainError(("new_password", "新密码不能与当前密码相同"))
    user.password_hash = hash_password(new)
    end_all_sessions(session, user)
    return revoke_all_tokens(session, user)


def revoke_all_tokens(session: Session, user: User) -> int:
    """Revoke every active API token of `user`; returns how many were active."""
    result = session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return result.rowcount or 0


def decide_membership(session: Session, *, user: User, approve: bool) -> User:
    """Approve (or refuse) a request to join an existing organisation."""
    if user.pending_organization_id is None:
        raise DomainError((None, "该用户没有待审核的加入申请"))
    if approve:
        user.organization_id = user.pending_organization_id
    user.pending_organization_id = None
    session.add(user)
    session.flush()
    return user


def pending_members(session: Session) -> list[tuple[User, Organization]]:
    """Requests to join existing organisations, oldest first."""
    return list(
        session.exec(
            select(User, Organization)
            .join(Organization, Organization.id == User.pending_organization_id)
            .order_by(User.created_at)
        ).all()
    )


def set_verified(session: Session, *, org: Organization, verified: bool) -> Organization:
    """Verify (or un-verify) an organisation."""
    org.verified = verified
    org.verified_at = utcnow() if verified else None
    session.add(org)
    session.flush()
    return org


def load_user(session: Session, session_id: str) -> User | None:
    """flask-login's loader: the id must carry the user's current nonce."""
    user_id, _, nonce = (session_id or "").partition(".")
    if not user_id.isdigit() or not nonce:
        return None
    user = session.get(User, int(user_id))
    if user is None or user.session_nonce != nonce or not user.active:
        return None
    return user
