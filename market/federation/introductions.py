"""Introduction requests between partner platforms (引荐申请).

Sending side: a verified agent files a request on a partner's linked record, about one of our
published listings of the other kind. The `IntroductionRequest` row is queued in the caller's
transaction (the doorbell wakes the worker when it commits); the worker's job `run_due` POSTs it to
the partner's `/api/v1/federation/introductions` with the token the partner issued to us (the one we
harvest it with). A refusal that will not change (400 / 404 / 409 / 422) ends it as 未能送达; anything
else (no connection, 5xx, 401 / 403, 429) is retried with exponential back-off. The partner
deduplicates on `request_id`, so a delivery repeated after a crash is harmless.

The answer comes back by polling: while a request is 已送达 the worker asks the partner for its status
(`GET …/introductions/<request_id>`) every FEDERATION_INTRO_POLL_SECONDS. Polling needs nothing but
the credentials the sender already holds (the partner need not know our address or hold a token of
ours) and a lost answer is simply asked again; the feed stays a feed of listings.

Receiving side: `receive` checks the body whole and records an `IncomingIntroduction` once per
(partner, request id); the listing's owner and the administrators are notified in-site. No contact
crosses platforms: an accepted request tells the sender so, and the two sides meet through the
agents.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlmodel import Session, select

from market import links
from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import DomainError
from market.federation.crosswalk import global_id
from market.federation.feed import platform
from market.federation.models import (
    INCOMING_ACCEPTED,
    INCOMING_API_STATUS,
    INCOMING_DECLINED,
    INCOMING_OPEN,
    INTRO_ACCEPTED,
    INTRO_DECLINED,
    INTRO_DELIVERED,
    INTRO_QUEUED,
    INTRO_UNDELIVERABLE,
    IncomingIntroduction,
    IntroductionRequest,
    LinkedRecord,
    Partner,
)
from market.listings.models import KINDS
from market.listings.permissions import OWNER_ROLE
from market.notifications.service import members_of, notify
from market.outbox import doorbell
from market.outbox.worker import tx
from vocab.taxonomy import ListingStatus, Role

MESSAGE_MAX = 2000
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9-]{8,36}$")
PATH = "/api/v1/federation/introductions"
TIMEOUT_S = 15.0
#: HTTP statuses after which a delivery is not retried: the partner refused this request as it is
PERMANENT = {400, 404, 409, 422}
BODY_KEYS = {"request_id", "target", "message", "from", "agency"}
FROM_KEYS = {"identifier", "title", "url", "organization"}
#: the partner's API word → the sender's status
ANSWERS = {"received": INTRO_DELIVERED, "accepted": INTRO_ACCEPTED, "declined": INTRO_DECLINED}


class IntroError(DomainError):
    """A refusal of the introductions API, with its HTTP status (answered as structured JSON)."""

    def __init__(self, status: int, *errors: tuple[str | None, str]) -> None:
        super().__init__(*errors)
        self.status = status


# -- sending ----------------------------------------------------------------------------------------


def other_kind(kind: str) -> str:
    return "need" if kind == "result" else "result"


def can_reach(partner: Partner) -> bool:
    """A partner we can deliver to: enabled, with an address and the token it issued to us."""
    return bool(partner.enabled and partner.base_url and partner.harvest_token)


def file_request(
    session: Session, *, actor: User, record: LinkedRecord, partner: Partner, listing_id: Any, message: Any
) -> IntroductionRequest:
    """Queue an introduction request (in the caller's transaction); DomainError naming the field."""
    errors: list[tuple[str | None, str]] = []
    text = str(message or "").replace("\x00", "").strip()
    if not 10 <= len(text) <= MESSAGE_MAX:
        errors.append(("message", f"请写明引荐的理由与设想的合作方式（10–{MESSAGE_MAX} 个字）"))
    kind = other_kind(record.kind)
    label = "需求" if kind == "need" else "成果"
    listing = None
    raw = str(listing_id or "").strip()
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        errors.append(("listing_id", f"请填写本平台已发布{label}的编号（数字）"))
    else:
        listing = session.get(KINDS[kind], int(raw))
        if listing is None or listing.status != ListingStatus.PUBLISHED:
            errors.append(("listing_id", f"本平台没有编号为 {raw} 的已发布{label}"))
    if not can_reach(partner):
        errors.append((None, f"“{partner.name}”未配置访问地址与令牌（或已停用），无法转交引荐申请"))
    if record.deleted:
        errors.append((None, "该记录已在来源平台撤回"))
    if errors:
        raise DomainError(*errors)
    request = IntroductionRequest(
        request_id=str(uuid.uuid4()),
        partner_id=partner.id,
        linked_record_id=record.id,
        identifier=record.identifier,
        listing_kind=kind,
        listing_id=listing.id,
        sender_id=actor.id,
        message=text,
    )
    session.add(request)
    session.flush()
    if has_app_context():
        doorbell.mark(session, doorbell.bell_path(current_app.instance_path))
    return request


def requests_for(session: Session, record_id: int) -> list[IntroductionRequest]:
    return list(
        session.exec(
            select(IntroductionRequest)
            .where(IntroductionRequest.linked_record_id == record_id)
            .order_by(IntroductionRequest.created_at.desc(), IntroductionRequest.id.desc())
        ).all()
    )


def _payload(session: Session, app: Flask, request: IntroductionRequest) -> dict[str, Any]:
    site = platform(app)
    listing = session.get(KINDS[request.listing_kind], request.listing_id)
    org = session.get(Organization, listing.organization_id) if listing is not None else None
    sender = session.get(User, request.sender_id)
    agency = session.get(Organization, sender.organization_id) if sender and sender.organization_id else None
    return {
        "request_id": request.request_id,
        "target": request.identifier,
        "message": request.message,
        "from": {
            "identifier": global_id(site["prefix"], request.listing_kind, request.listing_id),
            "title": (listing.title if listing else "（已删除）")[:200],
            # a link back only when this platform knows its own address (SITE_URL)
            "url": (site["url"] + links.listing(request.listing_kind, request.listing_id))[:500]
            if site["url"].startswith(("http://", "https://"))
            else "",
            "organization": (org.name if org else "")[:200],
        },
        "agency": (agency.name if agency else "")[:200],
    }


class Unreachable(Exception):
    """No answer from the partner (no connection, a timeout, a body that is not JSON)."""


def http_call(url: str, token: str, body: dict | None = None, timeout: float = TIMEOUT_S) -> tuple[int, dict]:
    """POST `body` (or GET without one) with the bearer token: (HTTP status, JSON object answered)."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, raw = response.status, response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(64 * 1024)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unreachable(f"无法连接合作平台：{getattr(exc, 'reason', exc)}") from None
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {}
    return status, answer if isinstance(answer, dict) else {}


def backoff_seconds(app: Flask, attempts: int) -> float:
    base = float(app.config.get("FEDERATION_BACKOFF_SECONDS", 30))
    ceiling = float(app.config.get("FEDERATION_BACKOFF_MAX", 3600))
    return min(ceiling, base * 2 ** max(0, attempts - 1))


def _poll_seconds(app: Flask) -> float:
    return float(app.config.get("FEDERATION_INTRO_POLL_SECONDS", 600))


def _reason(status: int, answer: dict) -> str:
    detail = answer.get("message") or answer.get("error") or ""
    return f"合作平台返回 HTTP {status}：{str(detail)[:300]}"


#: sends a request to a partner: (url, token, JSON body or None for a GET) → (status, JSON answer)
Call = Callable[[str, str, dict | None], tuple[int, dict]]


def _outcome(
    app: Flask, request: IntroductionRequest, partner: Partner, *, poll: bool, call: Call
) -> dict[str, Any]:
    """Deliver (or poll) one request with no transaction open: the changes to write."""
    base = f"{partner.base_url.rstrip('/')}{PATH}"
    now = utcnow()
    try:
        if poll:
            url = f"{base}/{urllib.parse.quote(request.request_id)}"
            status, answer = call(url, partner.harvest_token, None)
        else:
            with tx(app).read() as session:
                payload = _payload(session, app, request)
            status, answer = call(base, partner.harvest_token, payload)
    except Unreachable as exc:
        return {"error": str(exc)}
    if status in (200, 201) and answer.get("status") in ANSWERS:
        new = ANSWERS[answer["status"]]
        return {"status": new, "delivered": True, "answered": new != INTRO_DELIVERED, "now": now}
    if status in PERMANENT and not poll:
        return {"status": INTRO_UNDELIVERABLE, "last_error": _reason(status, answer), "now": now}
    return {"error": _reason(status, answer)}


def _apply(app: Flask, request_id: int, change: dict[str, Any], *, was: str) -> str | None:
    """Write one outcome in a short transaction; the line for the worker's log (None: unchanged)."""
    with tx(app).write() as session:
        request = session.get(IntroductionRequest, request_id)
        if request is None or request.status != was:
            return None  # answered or changed meanwhile (another worker)
        now = utcnow()
        if "error" in change:
            request.attempts += 1
            request.last_error = change["error"][:500]
            wait = backoff_seconds(app, request.attempts) if was == INTRO_QUEUED else _poll_seconds(app)
            request.next_attempt_at = now + timedelta(seconds=wait)
            session.add(request)
            return f"引荐申请 {request.id}：{request.last_error}，{int(wait)} 秒后重试"
        request.status = change["status"]
        request.last_error = change.get("last_error")
        if change.get("delivered") and request.delivered_at is None:
            request.delivered_at = now
        if change.get("answered") or request.status == INTRO_UNDELIVERABLE:
            request.answered_at = now
            request.next_attempt_at = None
            partner = session.get(Partner, request.partner_id)
            notify(
                session,
                user_ids=[request.sender_id],
                message=f"您向“{partner.name}”提出的引荐申请：{request.status}",
                link=links.linked_record(request.linked_record_id),
            )
        else:
            request.next_attempt_at = now + timedelta(seconds=_poll_seconds(app))
        session.add(request)
        return f"引荐申请 {request.id}：{request.status}" if request.status != was else None


def run_due(app: Flask, *, limit: int = 50, call: Call | None = None) -> str | None:
    """Worker job: deliver the queued requests that are due, poll the delivered ones for an answer."""
    call = call or http_call
    now = utcnow()
    with tx(app).read() as session:
        rows = session.exec(
            select(IntroductionRequest, Partner)
            .join(Partner, Partner.id == IntroductionRequest.partner_id)
            .where(
                IntroductionRequest.status.in_([INTRO_QUEUED, INTRO_DELIVERED]),
                IntroductionRequest.next_attempt_at <= now,
                # a paused partner's requests wait, their place in the queue kept (see can_reach)
                Partner.enabled,
                Partner.base_url != "",
                Partner.harvest_token.is_not(None),
            )
            .order_by(IntroductionRequest.next_attempt_at, IntroductionRequest.id)
            .limit(limit)
        ).all()
    lines = []
    for request, partner in rows:
        change = _outcome(app, request, partner, poll=request.status == INTRO_DELIVERED, call=call)
        line = _apply(app, request.id, change, was=request.status)
        if line:
            lines.append(line)
    return "；".join(lines) or None


# -- receiving --------------------------------------------------------------------------------------


def _text(body: dict, key: str, where: str, *, high: int, low: int = 0) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or "\x00" in value or not low <= len(value.strip()) <= high:
        raise IntroError(422, (where, f"{where} 应为 {low}–{high} 个字的文本"))
    return value.strip()


def check_body(body: dict, *, partner: Partner, prefix: str) -> dict[str, Any]:
    """The request body, checked whole; IntroError 422 naming the first field otherwise."""
    unknown = sorted(set(body) - BODY_KEYS)
    if unknown:
        raise IntroError(422, (unknown[0][:40], f"未知字段：{unknown[0][:40]}"))
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not REQUEST_ID_RE.match(request_id):
        raise IntroError(422, ("request_id", "request_id 应为 8–36 位字母、数字或连字符（建议 UUID）"))
    target = _text(body, "target", "target", low=1, high=200)
    match = re.fullmatch(rf"{re.escape(prefix)}\.(result|need)\.([0-9]{{1,9}})", target)
    if match is None:
        raise IntroError(422, ("target", f"target 应为本平台的全局标识符，形如 {prefix}.result.12"))
    message = _text(body, "message", "message", low=1, high=MESSAGE_MAX)
    source = body.get("from")
    if not isinstance(source, dict):
        raise IntroError(422, ("from", "from 应为对象：发起方平台上的相关记录"))
    unknown = sorted(set(source) - FROM_KEYS)
    if unknown:
        raise IntroError(422, (f"from.{unknown[0][:40]}", f"未知字段：from.{unknown[0][:40]}"))
    identifier = _text(source, "identifier", "from.identifier", low=1, high=200)
    if not identifier.startswith(f"{partner.prefix}."):
        raise IntroError(
            422, ("from.identifier", f"from.identifier 应以该合作平台的前缀 {partner.prefix}. 开头")
        )
    url = _text(source, "url", "from.url", high=500)
    if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise IntroError(422, ("from.url", "from.url 应为 http(s) 网址"))
    return {
        "request_id": request_id,
        "kind": match.group(1),
        "listing_id": int(match.group(2)),
        "message": message,
        "from_identifier": identifier,
        "from_title": _text(source, "title", "from.title", low=1, high=200),
        "from_url": url,
        "from_organization": _text(source, "organization", "from.organization", high=200),
        "agency": _text(body, "agency", "agency", high=200),
    }


def existing(session: Session, partner: Partner, request_id: str) -> IncomingIntroduction | None:
    return session.exec(
        select(IncomingIntroduction).where(
            IncomingIntroduction.partner_id == partner.id, IncomingIntroduction.request_id == request_id
        )
    ).first()


def receive(
    session: Session, partner: Partner, body: dict, *, prefix: str
) -> tuple[IncomingIntroduction, bool]:
    """Record the partner's request once: (the row, whether it is new). A well-formed body whose
    request id was seen before answers the row as it stands (a retried delivery), even when the
    listing has left the feed since."""
    fields = check_body(body, partner=partner, prefix=prefix)
    request_id = fields["request_id"]
    seen = existing(session, partner, request_id)
    if seen is not None:
        return seen, False
    listing = session.get(KINDS[fields["kind"]], fields["listing_id"])
    if listing is None or listing.status != ListingStatus.PUBLISHED:
        raise IntroError(404, ("target", "本平台没有该已发布记录（可能已撤回）"))
    row = IncomingIntroduction(partner_id=partner.id, **fields)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        # the same request delivered twice at once: the other delivery's row stands
        seen = existing(session, partner, request_id)
        if seen is None:
            raise
        return seen, False
    admins = session.exec(select(User.id).where(User.role == Role.ADMIN, User.active)).all()
    notify(
        session,
        user_ids=[*members_of(session, listing.organization_id), *admins],
        message=f"合作平台“{partner.name}”请求引荐：{fields['from_title']} ↔ {listing.title}",
        link=links.incoming_introduction(row.id),
    )
    return row, True


def incoming_json(row: IncomingIntroduction) -> dict[str, Any]:
    return {
        "request_id": row.request_id,
        "status": INCOMING_API_STATUS[row.status],
        "received_at": row.created_at.isoformat(),
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
    }


def decide(session: Session, *, actor: User, row: IncomingIntroduction, accept: bool) -> None:
    """Accept or decline an open request (the sender learns it at its next poll)."""
    if row.status != INCOMING_OPEN:
        raise DomainError((None, f"该引荐申请已处理（{row.status}）"))
    row.status = INCOMING_ACCEPTED if accept else INCOMING_DECLINED
    row.decided_by, row.decided_at = actor.id, utcnow()
    session.add(row)


def incoming_for(session: Session, user, *, everything: bool) -> list[tuple[IncomingIntroduction, Partner]]:
    """Requests partners asked of us: all of them, or those about the user's organisation's listings."""
    query = select(IncomingIntroduction, Partner).join(Partner, Partner.id == IncomingIntroduction.partner_id)
    if not everything:
        clauses = [
            (IncomingIntroduction.kind == kind)
            & IncomingIntroduction.listing_id.in_(
                select(model.id).where(model.organization_id == user.organization_id)
            )
            for kind, model in KINDS.items()
            if OWNER_ROLE[kind] == user.role
        ]
        if not clauses:
            return []
        query = query.where(sa.or_(*clauses))
    return list(
        session.exec(
            query.order_by(IncomingIntroduction.created_at.desc(), IncomingIntroduction.id.desc()).limit(200)
        )
    )


def outgoing_for(session: Session, user, *, everything: bool) -> list[tuple[IntroductionRequest, Partner]]:
    query = select(IntroductionRequest, Partner).join(Partner, Partner.id == IntroductionRequest.partner_id)
    if not everything:
        query = query.where(IntroductionRequest.sender_id == user.id)
    return list(
        session.exec(
            query.order_by(IntroductionRequest.created_at.desc(), IntroductionRequest.id.desc()).limit(200)
        )
    )


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"
