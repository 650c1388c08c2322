"""The partner registry: administrators add partner platforms, issue feed tokens, pause harvesting."""

from __future__ import annotations

import urllib.parse

from sqlmodel import Session, select, update

from market.db import utcnow
from market.errors import DomainError
from market.federation.feed import PREFIX_RE
from market.federation.models import LinkedRecord, Partner


def _clean(name: str, base_url: str, prefix: str) -> tuple[str, str, str]:
    name = " ".join((name or "").split())
    base_url = (base_url or "").strip().rstrip("/")
    prefix = (prefix or "").strip()
    errors = []
    if not 1 <= len(name) <= 60:
        errors.append(("name", "请填写合作平台名称（1–60 个字），例如“北京技术市场”"))
    if base_url:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(base_url) > 300:
            errors.append(("base_url", "平台网址应为 http:// 或 https:// 开头的网址（最多 300 个字符）"))
    if not PREFIX_RE.match(prefix):
        errors.append(("prefix", "标识前缀应为 2–20 位字母或数字，以字母开头，例如 BJ"))
    if errors:
        raise DomainError(*errors)
    return name, base_url, prefix


def save_partner(
    session: Session,
    *,
    partner: Partner | None = None,
    name: str,
    base_url: str,
    prefix: str,
    harvest_token: str | None = None,
    enabled: bool = True,
) -> Partner:
    """Create or change a partner; an empty `harvest_token` keeps the stored one."""
    name, base_url, prefix = _clean(name, base_url, prefix)
    clash = session.exec(select(Partner).where(Partner.prefix == prefix)).first()
    if clash is not None and (partner is None or clash.id != partner.id):
        raise DomainError(("prefix", f"标识前缀 {prefix} 已属于“{clash.name}”"))
    token = (harvest_token or "").strip()
    if len(token) > 200 or any(c.isspace() for c in token):
        raise DomainError(("harvest_token", "访问令牌应为不含空白的文本（最多 200 个字符）"))
    if partner is None:
        partner = Partner(name=name, base_url=base_url, prefix=prefix)
    elif partner.prefix != prefix and partner.cursor != "0":
        raise DomainError(("prefix", "已开始采集的平台不能更改标识前缀（已采集记录的标识符以它开头）"))
    was_enabled = partner.enabled
    partner.name, partner.base_url, partner.prefix, partner.enabled = name, base_url, prefix, enabled
    if token:
        partner.harvest_token = token
    session.add(partner)
    session.flush()
    if was_enabled != enabled:
        # the puller's index step adds or removes the partner's records in search
        session.exec(update(LinkedRecord).where(LinkedRecord.partner_id == partner.id).values(indexed=False))
    return partner


def harvest_now(session: Session, partner: Partner) -> None:
    """Let the worker harvest the partner at its next turn (ends a back-off)."""
    partner.next_attempt_at = utcnow()
    session.add(partner)


def partners(session: Session) -> list[Partner]:
    return list(session.exec(select(Partner).order_by(Partner.name, Partner.id)).all())
