"""Password reset by mail, and the mails that keep registration from telling who is a member.

The reset link carries a signed, time-limited token (itsdangerous) naming the user and a fingerprint
of the password hash it was issued against: setting the new password changes the hash, so the link
works once. A reset ends every session (the session nonce changes) and revokes every API token.
Asking for a reset answers the same whether the address is registered or not.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session

from market import links
from market.accounts.models import User
from market.accounts.passwords import hash_password, password_problem
from market.accounts.service import end_all_sessions, find_user_by_email, normalize_email, revoke_all_tokens
from market.errors import DomainError
from market.mail.service import SITE_NAME, queue_mail

SALT = "password-reset"
#: how long a reset link works unless PASSWORD_RESET_MAX_AGE says otherwise (seconds)
DEFAULT_MAX_AGE = 3600
INVALID = "重置链接无效或已经用过。请重新申请重置密码。"
EXPIRED = "重置链接已过期（有效期 {minutes} 分钟）。请重新申请重置密码。"


class _SignedAt(TimestampSigner):
    """A signer with a given issue time (for links issued in the past, e.g. an expired one in tests)."""

    def __init__(self, *args, issued_at: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._issued_at = issued_at

    def get_timestamp(self) -> int:
        return self._issued_at


def max_age() -> int:
    return int(current_app.config.get("PASSWORD_RESET_MAX_AGE") or DEFAULT_MAX_AGE)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def _serializer(secret: str, issued_at: int | None = None) -> URLSafeTimedSerializer:
    if issued_at is None:
        return URLSafeTimedSerializer(secret, salt=SALT)
    return URLSafeTimedSerializer(secret, salt=SALT, signer=_SignedAt, signer_kwargs={"issued_at": issued_at})


def make_token(user: User, *, secret: str | None = None, issued_at: int | None = None) -> str:
    """The reset token for `user`'s current password."""
    key = secret or str(current_app.config["SECRET_KEY"])
    return _serializer(key, issued_at).dumps([user.id, _fingerprint(user)])


def _absolute(path: str) -> str:
    return str(current_app.config.get("SITE_URL") or "").rstrip("/") + path


def request_reset(session: Session, *, email: str) -> None:
    """Queue a reset mail when `email` belongs to an active user; nothing otherwise (same answer)."""
    try:
        address = normalize_email(email)
    except DomainError:
        return
    user = find_user_by_email(session, address)
    if user is None or not user.active:
        return
    minutes = max_age() // 60
    queue_mail(
        session,
        to=user.email,
        subject=f"{SITE_NAME}：重置密码",
        body=(
            f"{user.display_name}，您好：\n\n"
            f"有人（希望是您本人）申请重置您在{SITE_NAME}的登录密码。请在 {minutes} 分钟内打开下面的链接"
            f"设置新密码（链接只能使用一次）：\n\n{_absolute(links.password_reset(make_token(user)))}\n\n"
            "设置新密码后，您在其他设备上的登录和全部 API 令牌都会失效。\n"
            "如果不是您本人操作，请忽略本邮件，您的密码不会改变。"
        ),
    )


def user_for_token(session: Session, token: str) -> User:
    """The user a valid, unused, unexpired token names, or DomainError with the reason."""
    serializer = _serializer(str(current_app.config["SECRET_KEY"]))
    try:
        user_id, fingerprint = serializer.loads(token or "", max_age=max_age())
    except SignatureExpired:
        raise DomainError((None, EXPIRED.format(minutes=max_age() // 60))) from None
    except (BadSignature, ValueError, TypeError):
        raise DomainError((None, INVALID)) from None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or fingerprint != _fingerprint(user):
        raise DomainError((None, INVALID))
    return user


def reset_password(session: Session, *, token: str, new: str) -> User:
    """Set a new password through a reset link; ends every session and revokes every API token."""
    user = user_for_token(session, token)
    problem = password_problem(new, email=user.email, display_name=user.display_name)
    if problem:
        raise DomainError(("password", problem))
    user.password_hash = hash_password(new)
    end_all_sessions(session, user)
    revoke_all_tokens(session, user)
    return user


def mail_existing_owner(session: Session, *, user: User) -> None:
    """Someone registered with an address that has an account: tell its owner, tell the visitor nothing."""
    queue_mail(
        session,
        to=user.email,
        subject=f"{SITE_NAME}：有人使用您的邮箱注册",
        body=(
            f"{user.display_name}，您好：\n\n"
            f"刚才有人使用您的邮箱在{SITE_NAME}申请注册。您的邮箱已有账号，没有创建新账号。\n\n"
            f"如果是您本人，请直接登录：{_absolute(links.login())}\n"
            f"忘记密码可以在这里重置：{_absolute(links.forgot_password())}\n\n"
            "如果不是您本人操作，请忽略本邮件。"
        ),
    )


def mail_welcome(session: Session, *, user: User) -> None:
    """The mail a new member gets (the visitor is told a mail was sent, whether or not the address was
    free)."""
    queue_mail(
        session,
        to=user.email,
        subject=f"{SITE_NAME}：注册成功",
        body=(
            f"{user.display_name}，您好：\n\n"
            f"您已注册{SITE_NAME}，请用注册时设置的密码登录：{_absolute(links.login())}\n\n"
            "新机构经平台认证后才能提交发布；申请加入已有机构的，平台运营核实后即可以该机构名义操作。"
        ),
    )
