"""Personal API tokens: created and revoked on the account page, stored hashed, shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, or_, select, update

from market.accounts.models import ApiToken, User
from market.db import defer_write, utcnow
from market.errors import DomainError

PREFIX = "kjcg_"
MAX_ACTIVE = 10


def _digest(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(session: Session, *, user: User, name: str) -> tuple[str, ApiToken]:
    """A new token for `user`; returns the plain token (never stored) and its record."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(("name", "请为令牌起个名字，例如“北京技术市场对接”"))
    if len(name) > 60:
        raise DomainError(("name", "名称不能超过 60 个字"))
    if len(active_tokens(session, user.id)) >= MAX_ACTIVE:
        raise DomainError(("name", f"最多 {MAX_ACTIVE} 个有效令牌，请先撤销不用的"))
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(raw), prefix=raw[: len(PREFIX) + 6])
    session.add(token)
    session.flush()
    return raw, token


def active_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        ).all()
    )


def revoke_token(session: Session, *, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise DomainError((None, "找不到该令牌"))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        session.flush()
    return token


#: a token's last use is written at most this often (a request never writes it in its own transaction)
TOUCH_EVERY = timedelta(minutes=1)


def user_for_token(session: Session, raw: str) -> User | None:
    """The active user a presented token belongs to, or None. Its last use is recorded after the
    request, at most once a minute."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(raw))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    last = token.last_used_at
    now = utcnow()
    if last is None or now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) >= TOUCH_EVERY:
        defer_write(lambda later, token_id=token.id: _touch(later, token_id, now))
    return user


def _touch(session: Session, token_id: int, when) -> None:
    session.exec(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < when - TOUCH_EVERY),
        )
        .values(last_used_at=when)
    )
