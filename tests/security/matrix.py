"""The route × role table that tests/security/ walks.

Every (endpoint, method) of the URL map needs at least one `Case` here, or
`test_every_route_is_classified` fails: a new route is classified before it ships.

A case's `url` and string `data` values are format strings over the ids of the `World` the tests build
(a draft / pending / withdrawn / published result of the university, published needs of the enterprise,
a match in each state, a signed contract with a PDF, an API token, an import report, a notification…).
`expected` gives each role's status: an HTTP code, or LOGIN (302 to the login page). `effect` says
whether the request's change happened; it must hold for the roles that succeed (2xx/3xx other than
LOGIN) and must not hold for every refused role, so a refusal that still changed something fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from market.accounts.models import ApiToken, Organization, User
from market.challenges.models import ChallengeApplication, ChallengeClosing, ChallengeQuestion
from market.deals.models import Contract, ContractInstalment
from market.directory.models import (
    AgencyProfile,
    BrokerCertificate,
    BrokerProfile,
    BrokerRequest,
)
from market.events.models import Event, MeetingRequest, PitchApplication, Registration
from market.federation.models import IncomingIntroduction, IntroductionRequest, Partner
from market.financing.models import FinancingRequest
from market.listings.models import Interest, ListingEvent, ListingRevision, ResearchResult, TechNeed
from market.matches.models import Match, MatchEvent
from market.media.models import ListingFile, ListingImage
from market.messages.models import Message, ThreadReport
from market.notices.models import Notice
from market.notifications.models import Notification
from market.saved.models import Favourite, Follow, SavedSearch
from market.trade.models import Bid, BuyerRegistration, Objection, ObjectionRuling
from market.verification.models import OrgVerification
from tests.factories import NEED, RESULT

LOGIN = "login"
ROLES = ("visitor", "uni", "ent", "agent", "admin", "other_uni")
#: who each role is in the `people` fixture (the visitor is anonymous)
ROLE_USER = {"uni": "uni", "ent": "ent", "agent": "agent", "admin": "admin", "other_uni": "other_uni"}


def expect(default: int | str, **roles: int | str) -> dict[str, int | str]:
    """Every role gets `default` unless named."""
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return {role: roles.get(role, default) for role in ROLES}


def members(default: int | str, **roles: int | str) -> dict[str, int | str]:
    """A page behind login: the visitor is sent to the login page."""
    return expect(default, visitor=LOGIN, **roles)


PUBLIC = expect(200)
SIGNED_IN = members(200)
ADMIN_ONLY = members(403, admin=200)

Effect = Callable[[Session, "World", User | None], bool]


@dataclass
class World:
    """Ids of the fixture objects the table's URLs point at."""

    ids: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.ids[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    url: str
    expected: dict[str, int | str]
    data: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    multipart: bool = False
    effect: Effect | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.url}"

    def render(self, world: World) -> tuple[str, dict[str, Any] | None]:
        def fmt(value: Any) -> Any:
            if isinstance(value, str):
                return value.format_map(world.ids)
            if isinstance(value, list):
                return [fmt(v) for v in value]
            return value

        data = None if self.data is None else {k: fmt(v) for k, v in self.data.items()}
        return self.url.format_map(world.ids), data


# --- effects -------------------------------------------------------------------------------------------


def _status(model, key: str, status: str) -> Effect:
    return lambda s, w, _u: s.get(model, w.ids[key]).status == status


def _match_status(key: str, status: str) -> Effect:
    return lambda s, w, _u: s.get(Match, w.ids[key]).status == status


def _created(model, title: str) -> Effect:
    return lambda s, w, u: (
        u is not None
        and s.exec(select(model).where(model.created_by_id == u.id, model.title == title)).first() is not None
    )


def _tokens_of_user(s: Session, w: World, u: User | None) -> bool:
    return u is not None and len(s.exec(select(ApiToken).where(ApiToken.user_id == u.id)).all()) > (
        1 if w.ids["token_owner"] == u.id else 0
    )


def _token_revoked(s: Session, w: World, _u) -> bool:
    return s.get(ApiToken, w.token).revoked_at is not None


def _interest_by(s: Session, _w: World, u: User | None) -> bool:
    return u is not None and s.exec(select(Interest).where(Interest.user_id == u.id)).first() is not None


def _note_on(key: str) -> Effect:
    return lambda s, w, _u: (
        s.exec(
            select(MatchEvent).where(MatchEvent.match_id == w.ids[key], MatchEvent.action == "note")
        ).first()
        is not None
    )


def _contract_for(key: str) -> Effect:
    return lambda s, w, _u: (
        s.exec(select(Contract).where(Contract.match_id == w.ids[key])).first() is not None
    )


def _feedback_on(key: str) -> Effect:
    def check(s: Session, w: World, _u) -> bool:
        match = s.get(Match, w.ids[key])
        return bool(match.result_feedback or match.need_feedback)

    return check


def _notifications_read(s: Session, _w: World, u: User | None) -> bool:
    if u is None:
        return False
    rows = s.exec(select(Notification).where(Notification.user_id == u.id)).all()
    return bool(rows) and all(n.read_at is not None for n in rows)


def _org_verified(s: Session, w: World, _u) -> bool:
    return s.get(Organization, w.org_unverified).verified


def _member_approved(s: Session, w: World, _u) -> bool:
    return s.get(User, w.ids["applicant"]).organization_id is not None


def _title_is(model, key: str, title: str) -> Effect:
    return lambda s, w, _u: s.get(model, w.ids[key]).title == title


def _results_count_changed(s: Session, w: World, _u) -> bool:
    return len(s.exec(select(ResearchResult)).all()) != w.results_count


def _objection_by(s: Session, w: World, u: User | None) -> bool:
    return u is not None and (
        s.exec(
            select(Objection).where(Objection.publicity_id == w.publicity, Objection.user_id == u.id)
        ).first()
        is not None
    )


def _agency_services(s: Session, w: World, _u) -> bool:
    profile = s.exec(select(AgencyProfile).where(AgencyProfile.organization_id == w.agency)).first()
    return profile is not None and profile.services == "矩阵服务"


def _broker_titled(s: Session, _w: World, u: User | None) -> bool:
    return (
        u is not None
        and s.exec(
            select(BrokerProfile).where(BrokerProfile.user_id == u.id, BrokerProfile.title == "矩阵头衔")
        ).first()
        is not None
    )


def _ruled(s: Session, w: World, _u) -> bool:
    return (
        s.exec(select(ObjectionRuling).where(ObjectionRuling.objection_id == w.objection)).first() is not None
    )


def _registered_more(s: Session, w: World, _u) -> bool:
    rows = s.exec(select(BuyerRegistration).where(BuyerRegistration.listing_id == w.sale)).all()
    return len(rows) > w.sale_registrations


def _bid_placed(s: Session, w: World, _u) -> bool:
    return s.exec(select(Bid).where(Bid.auction_id == w.auction)).first() is not None


def _instalment_paid(s: Session, w: World, _u) -> bool:
    return s.get(ContractInstalment, w.instalment).paid_on is not None


def _certificate_added(s: Session, _w: World, _u) -> bool:
    return s.exec(select(BrokerCertificate).where(BrokerCertificate.number == "矩阵编号")).first() is not None


def _request_asked(s: Session, _w: World, _u) -> bool:
    return s.exec(select(BrokerRequest).where(BrokerRequest.note == "矩阵请求")).first() is not None


def _request_status(status: str) -> Effect:
    return lambda s, w, _u: s.get(BrokerRequest, w.broker_request).status == status


# --- the table -----------------------------------------------------------------------------------------

EDITED_TITLE = "矩阵修改后的成果名称"
NEW_RESULT_TITLE = "矩阵新建的钙钛矿电池成果"
NEW_NEED_TITLE = "矩阵新建的电机降噪需求"
API_RESULT = {
    "title": "矩阵接口创建的成果",
    "summary": "一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。",
    "field": "储能",
    "maturity": "中试",
    "transfer_modes": ["技术许可"],
    "price_wan": 120,
}
CONTRACT_FORM = {
    "contract_type": "技术许可",
    "amount_wan": "120",
    "tech_amount_wan": "100",
    "signed_on": date.today().isoformat(),
}

EDITED_FINANCING = "矩阵修改后的融资项目"
FINANCING_FORM = {
    "title": "矩阵新建的融资需求",
    "summary": "建设年产 500 吨宽温域锂电池电解液中试线，面向储能与北方物流车市场。",
    "amount_wan": "800",
    "instrument": "股权",
    "stage": "A 轮",
}


def _financing_created(s: Session, _w: World, u: User | None) -> bool:
    return u is not None and (
        s.exec(
            select(FinancingRequest).where(
                FinancingRequest.created_by_id == u.id, FinancingRequest.title == FINANCING_FORM["title"]
            )
        ).first()
        is not None
    )


def _reconfirmed(key: str) -> Effect:
    def check(s: Session, w: World, _u) -> bool:
        kind = "result" if key == "result" else "need"
        return (
            s.exec(
                select(ListingEvent).where(
                    ListingEvent.kind == kind,
                    ListingEvent.listing_id == w.ids[key],
                    ListingEvent.action == "reconfirm",
                )
            ).first()
            is not None
        )

    return check


CASES: list[Case] = [
    # main, assets
    Case("main.home", "GET", "/", PUBLIC),
    Case("main.healthz", "GET", "/healthz", PUBLIC),
    Case("static", "GET", "/static/css/site.css", PUBLIC),
    Case("bootstrap.static", "GET", "/bootstrap/static/css/bootstrap.min.css", PUBLIC),
    # accounts
    Case("accounts.login", "GET", "/login", expect(302, visitor=200)),
    Case(
        "accounts.login",
        "POST",
        "/login",
        expect(302, visitor=400),
        data={"email": "nobody@example.cn", "password": "wrong password!!"},
    ),
    Case("accounts.logout", "POST", "/logout", members(302)),
    Case("accounts.register", "GET", "/register", expect(302, visitor=200)),
    Case("accounts.register", "POST", "/register", expect(302, visitor=400), data={}),
    Case("accounts.forgot_password", "GET", "/password/forgot", PUBLIC),
    Case(
        "accounts.forgot_password",
        "POST",
        "/password/forgot",
        expect(LOGIN),  # everyone is sent to the login page, with the same message
        data={"email": "nobody@example.cn"},
    ),
    Case("accounts.reset_password", "GET", "/password/reset/not-a-token", expect(400)),
    Case(
        "accounts.reset_password",
        "POST",
        "/password/reset/not-a-token",
        expect(400),
        data={"password": "另一句足够长的新口令"},
    ),
    Case("accounts.account", "GET", "/account", SIGNED_IN),
    Case(
        "accounts.account",
        "POST",
        "/account",
        members(400),
        data={"current_password": "not the password", "new_password": "另一句足够长的新口令"},
    ),
    Case(
        "accounts.create_token",
        "POST",
        "/account/tokens",
        SIGNED_IN,
        data={"name": "矩阵令牌"},
        effect=_tokens_of_user,
    ),
    Case(
        "accounts.revoke_token",
        "POST",
        "/account/tokens/{token}/revoke",
        members(404, uni=302),
        effect=_token_revoked,
    ),
    # organisation verification
    Case("verification.help_page", "GET", "/help/verification", PUBLIC),
    Case("verification.apply", "GET", "/verification", members(200, admin=404)),
    Case("verification.apply", "POST", "/verification", members(400, admin=404), data={}),
    Case("verification.queue", "GET", "/admin/verifications", ADMIN_ONLY),
    Case("verification.review", "GET", "/admin/verifications/{verification}", ADMIN_ONLY),
    Case("verification.document", "GET", "/admin/verifications/{verification}/document", ADMIN_ONLY),
    Case(
        "verification.decide",
        "POST",
        "/admin/verifications/{verification}/decide",
        members(403, admin=302),
        data={"decision": "refuse", "reason": "证件扫描件不清晰", "confirmed": "1"},
        effect=lambda s, w, _u: s.get(OrgVerification, w.verification).status == "未通过",
    ),
    # admin
    Case("admin.review", "GET", "/admin/review", ADMIN_ONLY),
    Case(
        "admin.decide",
        "POST",
        "/admin/review/results/{pending}",
        members(403, admin=302),
        data={"decision": "approve"},
        effect=_status(ResearchResult, "pending", "已发布"),
    ),
    Case(
        "admin.confirm_field",
        "POST",
        "/admin/fields/results/{result}",
        members(403, admin=302),
        data={"field": "氢能"},
        effect=lambda s, w, _u: s.get(ResearchResult, w.ids["result"]).field == "氢能",
    ),
    Case("admin.organizations", "GET", "/admin/organizations", ADMIN_ONLY),
    Case("admin.system", "GET", "/admin/system", ADMIN_ONLY),
    Case(
        "admin.decide_member",
        "POST",
        "/admin/members/{applicant}",
        members(403, admin=302),
        data={"decision": "approve"},
        effect=_member_approved,
    ),
    Case(
        "admin.verify",
        "POST",
        "/admin/organizations/{org_unverified}/verify",
        members(403, admin=302),
        data={"verified": "1"},
        effect=_org_verified,
    ),
    # listings: showcases and detail pages
    Case("listings.results", "GET", "/results", PUBLIC),
    Case("listings.needs", "GET", "/needs", PUBLIC),
    Case("listings.detail", "GET", "/results/{result}", PUBLIC),
    Case("listings.detail", "GET", "/needs/{need}", PUBLIC),
    Case("listings.detail", "GET", "/results/{draft}", expect(404, uni=200, admin=200)),
    Case("listings.detail", "GET", "/results/{pending}", expect(404, uni=200, admin=200)),
    Case("listings.detail", "GET", "/results/{withdrawn}", expect(404, uni=200, admin=200)),
    Case("listings.detail", "GET", "/needs/{need_draft}", expect(404, ent=200, admin=200)),
    # listings: owners' pages and actions
    Case("listings.create", "GET", "/results/new", members(403, uni=200, other_uni=200)),
    Case("listings.create", "GET", "/needs/new", members(403, ent=200)),
    Case(
        "listings.create",
        "POST",
        "/results/new",
        members(403, uni=302, other_uni=302),
        data=dict(RESULT, title=NEW_RESULT_TITLE),
        effect=_created(ResearchResult, NEW_RESULT_TITLE),
    ),
    Case(
        "listings.create",
        "POST",
        "/needs/new",
        members(403, ent=302),
        data=dict(NEED, title=NEW_NEED_TITLE),
        effect=_created(TechNeed, NEW_NEED_TITLE),
    ),
    Case("listings.edit", "GET", "/results/{result}/edit", members(403, uni=200)),
    Case("listings.edit", "GET", "/results/{draft}/edit", members(404, uni=200, admin=403)),
    Case(
        "listings.edit",
        "POST",
        "/results/{result}/edit",
        members(403, uni=302),
        data=dict(RESULT, title=EDITED_TITLE, version="{result_version}"),
        # a published listing's new title waits for review as a revision
        effect=lambda s, w, _u: any(
            r.data.get("title") == EDITED_TITLE
            for r in s.exec(select(ListingRevision).where(ListingRevision.listing_id == w.result))
        ),
    ),
    Case(
        "listings.edit",
        "POST",
        "/results/{draft}/edit",
        members(404, uni=302, admin=403),
        data=dict(RESULT, title=EDITED_TITLE, version="{draft_version}"),
        effect=_title_is(ResearchResult, "draft", EDITED_TITLE),
    ),
    Case(
        "listings.submit",
        "POST",
        "/results/{draft}/submit",
        members(404, uni=302, admin=403),
        effect=_status(ResearchResult, "draft", "待审核"),
    ),
    Case(
        "listings.retract_revision",
        "POST",
        "/results/{result}/revision/retract",
        members(403, uni=302),
        effect=lambda s, w, _u: s.get(ListingRevision, w.revision).status == "已撤回",
    ),
    Case(
        "admin.decide_revision",
        "POST",
        "/admin/revisions/{revision}",
        members(403, admin=302),
        data={"decision": "reject", "reason": "矩阵测试退回修改"},
        effect=lambda s, w, _u: s.get(ListingRevision, w.revision).status == "已退回",
    ),
    Case(
        "listings.retract",
        "POST",
        "/results/{pending}/retract",
        members(404, uni=302, admin=403),
        effect=_status(ResearchResult, "pending", "草稿"),
    ),
    Case(
        "listings.withdraw",
        "POST",
        "/results/{result}/withdraw",
        members(403, uni=302, admin=302),
        effect=_status(ResearchResult, "result", "已下架"),
    ),
    Case(
        "listings.withdraw",
        "POST",
        "/needs/{need}/withdraw",
        members(403, ent=302, admin=302),
        effect=_status(TechNeed, "need", "已下架"),
    ),
    Case(
        "listings.close",
        "POST",
        "/results/{result}/close",
        members(403, uni=302, admin=302),
        effect=_status(ResearchResult, "result", "已成交"),
    ),
    Case(
        "listings.interest",
        "POST",
        "/results/{result}/interest",
        members(403, ent=302),
        data={"message": "希望进一步了解"},
        effect=_interest_by,
    ),
    Case(
        "listings.interest",
        "POST",
        "/needs/{need_c}/interest",
        members(403, uni=302, other_uni=302),
        data={"message": "我们有相关成果"},
        effect=_interest_by,
    ),
    Case(
        "listings.interest",
        "POST",
        "/results/{draft}/interest",
        members(404, uni=403, admin=403),
        effect=_interest_by,
    ),
    Case("listings.mine", "GET", "/mine", members(200, admin=404)),
    # matches
    Case(
        "matches.for_listing", "GET", "/results/{result}/matches", members(404, uni=200, agent=200, admin=200)
    ),
    Case("matches.for_listing", "GET", "/needs/{need}/matches", members(404, ent=200, agent=200, admin=200)),
    Case("matches.for_listing", "GET", "/results/{draft}/matches", members(404, uni=200, admin=200)),
    Case(
        "matches.api_for_listing",
        "GET",
        "/api/v1/results/{result}/matches",
        expect(404, uni=200, agent=200, admin=200),
    ),
    Case(
        "matches.api_for_listing",
        "GET",
        "/api/v1/needs/{need}/matches",
        expect(404, ent=200, agent=200, admin=200),
    ),
    Case("matches.queue", "GET", "/matches", members(403, agent=200, admin=200)),
    Case("matches.board", "GET", "/matches/board", members(403, agent=200, admin=200)),
    Case("matches.detail", "GET", "/matches/{m_suggested}", members(200, other_uni=404)),
    Case("matches.detail", "GET", "/matches/{m_signed}", members(200, other_uni=404)),
    Case(
        "matches.act",
        "POST",
        "/matches/{m_suggested}/claim",
        members(403, agent=302, admin=302),
        effect=_match_status("m_suggested", "已认领"),
    ),
    Case(
        "matches.act",
        "POST",
        "/matches/{m_claimed}/introduce",
        members(403, agent=302, admin=302),
        effect=_match_status("m_claimed", "已对接"),
    ),
    Case(
        "matches.act",
        "POST",
        "/matches/{m_claimed}/release",
        members(403, agent=302, admin=302),
        effect=_match_status("m_claimed", "推荐"),
    ),
    Case(
        "matches.act",
        "POST",
        "/matches/{m_introduced}/negotiate",
        members(403, agent=302, admin=302),
        effect=_match_status("m_introduced", "洽谈中"),
    ),
    Case(
        "matches.decline",
        "POST",
        "/matches/{m_claimed}/decline",
        members(403, agent=302, admin=302),
        data={"reason": "技术不匹配", "note": "矩阵"},
        effect=_match_status("m_claimed", "未成交"),
    ),
    Case(
        "matches.note",
        "POST",
        "/matches/{m_claimed}/note",
        members(403, agent=302, admin=302),
        data={"note": "矩阵跟进记录"},
        effect=_note_on("m_claimed"),
    ),
    Case("matches.sign", "GET", "/matches/{m_introduced}/sign", members(403, agent=200, admin=200)),
    Case(
        "matches.sign",
        "POST",
        "/matches/{m_introduced}/sign",
        members(403, agent=302, admin=302),
        data=CONTRACT_FORM,
        effect=_contract_for("m_introduced"),
    ),
    Case(
        "matches.feedback",
        "POST",
        "/matches/{m_suggested}/feedback",
        members(403, uni=302, ent=302, other_uni=404),
        data={"verdict": "interested"},
        effect=_feedback_on("m_suggested"),
    ),
    # deals
    Case("deals.detail", "GET", "/contracts/{contract}", members(200, other_uni=404)),
    Case("deals.pdf", "GET", "/contracts/{contract}/pdf", members(200, other_uni=404)),
    # 展示交易: 公示, 挂牌, 竞价, deals, contract registration
    Case("trade.static", "GET", "/trade/static/trade.js", PUBLIC),
    Case("trade.board", "GET", "/trade", PUBLIC),
    Case("trade.new_publicity", "GET", "/trade/publicity/new", members(403, uni=200, other_uni=200)),
    Case(
        "trade.new_publicity", "POST", "/trade/publicity/new", members(403, uni=200, other_uni=200), data={}
    ),
    Case("trade.publicity", "GET", "/trade/publicity/{publicity}", PUBLIC),
    Case(
        "trade.object_to",
        "POST",
        "/trade/publicity/{publicity}/objections",
        members(302),
        data={"reason": "矩阵提出的异议：价格明显偏低"},
        effect=_objection_by,
    ),
    Case(
        "trade.rule",
        "POST",
        "/trade/objections/{objection}/ruling",
        members(403, admin=302),
        data={"decision": "dismiss", "reason": "矩阵驳回：价格不低于评估值"},
        effect=_ruled,
    ),
    Case("trade.new_listing", "GET", "/trade/listings/new", members(403, uni=200, other_uni=200)),
    Case("trade.new_listing", "POST", "/trade/listings/new", members(403, uni=200, other_uni=200), data={}),
    Case("trade.listing", "GET", "/trade/listings/{sale}", PUBLIC),
    Case(
        "trade.register",
        "POST",
        "/trade/listings/{sale}/register",
        # the seller cannot buy its own; ent is registered already; an administrator is no buyer
        members(302, uni=400, ent=400, admin=403),
        data={"statement": "矩阵登记：满足资格条件"},
        effect=_registered_more,
    ),
    Case(
        "trade.check",
        "POST",
        "/trade/registrations/{registration}/check",
        members(403, admin=302),
        data={"decision": "qualify", "deposit_ref": ""},
        effect=lambda s, w, _u: s.get(BuyerRegistration, w.registration).status == "已确认",
    ),
    Case("trade.admin", "GET", "/trade/admin", ADMIN_ONLY),
    Case("trade.auction", "GET", "/trade/auctions/{auction}", PUBLIC),
    Case(
        "trade.bid",
        "POST",
        "/trade/auctions/{auction}/bids",
        members(403, ent=302),  # only the qualified buyer bids
        data={"price_wan": "100"},
        effect=_bid_placed,
    ),
    Case("trade_api.auction_json", "GET", "/api/v1/auctions/{auction}", PUBLIC),
    Case("trade_api.auction_log", "GET", "/api/v1/auctions/{auction}/log", PUBLIC),
    Case("trade.deal", "GET", "/trade/deals/{deal}", PUBLIC),
    Case(
        "trade.confirmation",
        "GET",
        "/trade/deals/{deal}/confirmation.pdf",
        members(404, uni=200, ent=200, admin=200),
    ),
    Case(
        "trade.evidence", "GET", "/trade/deals/{deal}/evidence.zip", members(404, uni=200, ent=200, admin=200)
    ),
    Case(
        "trade.deal_contract",
        "POST",
        "/trade/deals/{deal}/contract",
        members(403, uni=400, admin=400),
        data={},
    ),
    Case(
        "trade.contract_registration",
        "GET",
        "/contracts/{contract}/registration",
        members(404, uni=200, admin=200),
    ),
    Case(
        "trade.contract_registration",
        "POST",
        "/contracts/{contract}/registration",
        members(404, uni=400, admin=400),
        data={"what": "data"},
    ),
    Case(
        "trade.paid",
        "POST",
        "/contracts/{contract}/instalments/{instalment}/paid",
        members(404, uni=302, admin=302),
        data={},
        effect=_instalment_paid,
    ),
    Case("trade.registration_export", "GET", "/trade/registration.xlsx", members(200, admin=200)),
    Case(
        "deals.reassign_credit",
        "POST",
        "/contracts/{contract}/credit",
        members(403, admin=302),
        data={"agent": "{colleague}", "reason": "矩阵调整"},
        effect=lambda s, _w, _u: (
            s.exec(select(MatchEvent).where(MatchEvent.action == "credit")).first() is not None
        ),
    ),
    # directory: agencies, brokers, certificates, 请经纪人
    Case("directory.agencies", "GET", "/agencies", PUBLIC),
    Case("directory.agencies", "GET", "/agencies?region=999999", expect(400)),
    Case("directory.brokers", "GET", "/brokers?field=储能", PUBLIC),
    Case("directory.agency", "GET", "/agencies/{agency}", PUBLIC),
    Case("directory.agency", "GET", "/agencies/{org_unverified}", expect(404)),
    Case("directory.broker", "GET", "/brokers/{agent_id}", PUBLIC),
    Case("directory.broker", "GET", "/brokers/{token_owner}", expect(404)),
    Case("directory.edit_agency", "GET", "/agencies/{agency}/edit", members(403, agent=200, admin=200)),
    Case(
        "directory.edit_agency",
        "POST",
        "/agencies/{agency}/edit",
        members(403, agent=302, admin=302),
        data={"region_code": "120104", "fields": ["储能"], "services": "矩阵服务"},
        effect=_agency_services,
    ),
    Case("directory.edit_broker", "GET", "/brokers/me/edit", members(403, agent=200)),
    Case(
        "directory.edit_broker",
        "POST",
        "/brokers/me/edit",
        members(403, agent=302),
        data={"title": "矩阵头衔", "region_code": "120104"},
        effect=_broker_titled,
    ),
    Case(
        "directory.add_certificate",
        "POST",
        "/brokers/me/certificates",
        members(403, agent=302),
        data={"name": "技术经理人", "number": "矩阵编号", "issuer": "中国技术市场协会"},
        effect=_certificate_added,
    ),
    Case("directory.certificates", "GET", "/admin/certificates", ADMIN_ONLY),
    Case(
        "directory.check_certificate",
        "POST",
        "/admin/certificates/{certificate}",
        members(403, admin=302),
        data={"verdict": "ok"},
        effect=lambda s, w, _u: s.get(BrokerCertificate, w.certificate).status == "已核验",
    ),
    Case(
        "directory.ask_agency",
        "POST",
        "/agencies/{agency}/ask",
        members(403, uni=400, ent=302, other_uni=400),
        data={"listing": "need:{need_c}", "note": "矩阵请求"},
        effect=_request_asked,
    ),
    Case(
        "directory.ask_broker",
        "POST",
        "/brokers/{agent_id}/ask",
        members(403, uni=400, ent=302, other_uni=400),
        data={"listing": "need:{need_c}", "note": "矩阵请求"},
        effect=_request_asked,
    ),
    Case("directory.requests", "GET", "/requests", SIGNED_IN),
    Case(
        "directory.answer",
        "POST",
        "/requests/{broker_request}/accept",
        members(404, agent=302, ent=403),
        effect=_request_status("已接受"),
    ),
    Case(
        "directory.answer",
        "POST",
        "/requests/{broker_request}/decline",
        members(404, agent=302, ent=403),
        data={"reason": "工作量已满"},
        effect=_request_status("已婉拒"),
    ),
    Case(
        "directory.answer",
        "POST",
        "/requests/{broker_request}/withdraw",
        members(404, agent=403, ent=302),
        effect=_request_status("已撤回"),
    ),
    # 公告 / 政策
    Case("notices.index", "GET", "/notices", PUBLIC),
    Case("notices.detail", "GET", "/notices/{notice}", PUBLIC),
    Case("notices.detail", "GET", "/notices/{notice_draft}", expect(404, admin=200)),
    Case("notices.attachment", "GET", "/notices/{notice}/files/{notice_file}", PUBLIC),
    Case("notices.attachment", "GET", "/notices/{notice_draft}/files/{notice_file}", expect(404, admin=404)),
    Case("notices.manage", "GET", "/admin/notices", ADMIN_ONLY),
    Case("notices.create", "GET", "/admin/notices/new", ADMIN_ONLY),
    Case(
        "notices.create",
        "POST",
        "/admin/notices/new",
        members(403, admin=302),
        data={"kind": "政策", "title": "矩阵新公告", "body_md": "正文"},
        effect=lambda s, _w, _u: (
            s.exec(select(Notice).where(Notice.title == "矩阵新公告")).first() is not None
        ),
    ),
    Case("notices.edit", "GET", "/admin/notices/{notice}/edit", ADMIN_ONLY),
    Case(
        "notices.edit",
        "POST",
        "/admin/notices/{notice}/edit",
        members(403, admin=302),
        data={"kind": "公告", "title": "矩阵改过的公告", "body_md": "正文"},
        effect=lambda s, w, _u: s.get(Notice, w.notice).title == "矩阵改过的公告",
    ),
    Case(
        "notices.upload",
        "POST",
        "/admin/notices/{notice}/files",
        members(403, admin=303),
        data={},
        multipart=True,
    ),
    Case(
        "notices.act",
        "POST",
        "/admin/notices/{notice_draft}/publish",
        members(403, admin=302),
        effect=lambda s, w, _u: s.get(Notice, w.notice_draft).status == "已发布",
    ),
    Case(
        "notices.act",
        "POST",
        "/admin/notices/{notice}/withdraw",
        members(403, admin=302),
        effect=lambda s, w, _u: s.get(Notice, w.notice).status == "已撤回",
    ),
    # imports and exports
    Case("imports.upload", "GET", "/import", members(403, uni=200, ent=200, other_uni=200)),
    Case(
        "imports.upload",
        "POST",
        "/import",
        members(403, uni=400, ent=400, other_uni=400),
        data={},
        multipart=True,
        effect=_results_count_changed,
    ),
    Case("imports.report", "GET", "/import/report/{report}.csv", members(404, uni=200)),
    Case("imports.template", "GET", "/import/template/results.csv", PUBLIC),
    Case("imports.template", "GET", "/import/template/needs.xlsx", PUBLIC),
    Case("imports.export", "GET", "/export/results.csv", PUBLIC),
    Case("imports.export", "GET", "/export/needs.xlsx", PUBLIC),
    # search
    Case("search.page", "GET", "/search?q=电解液", PUBLIC),
    Case("search.api", "GET", "/api/v1/search?q=电解液", PUBLIC),
    # statistics
    Case("stats.dashboard", "GET", "/stats", ADMIN_ONLY),
    Case("stats.csv", "GET", "/stats/month.csv", ADMIN_ONLY),
    Case("stats.public", "GET", "/stats/public", PUBLIC),
    Case("stats.api", "GET", "/api/v1/stats", PUBLIC),
    # notifications
    Case("notifications.index", "GET", "/notifications", SIGNED_IN),
    Case(
        "notifications.read_all",
        "POST",
        "/notifications/read",
        members(302),
        effect=_notifications_read,
    ),
    # JSON API: reads follow the pages; writes never accept the session cookie (401, no CSRF needed)
    Case("api.listings", "GET", "/api/v1/results", PUBLIC),
    Case("api.listings", "GET", "/api/v1/needs", PUBLIC),
    Case("api.listing", "GET", "/api/v1/results/{result}", PUBLIC),
    Case("api.listing", "GET", "/api/v1/results/{draft}", expect(404, uni=200, admin=200)),
    Case("api.listing", "GET", "/api/v1/needs/{need_draft}", expect(404, ent=200, admin=200)),
    Case(
        "api.create", "POST", "/api/v1/results", expect(401), json=API_RESULT, effect=_results_count_changed
    ),
    Case(
        "api.update",
        "PUT",
        "/api/v1/results/{draft}",
        expect(401),
        json=dict(API_RESULT, version=1),
        effect=_title_is(ResearchResult, "draft", API_RESULT["title"]),
    ),
    Case(
        "api.submit",
        "POST",
        "/api/v1/results/{draft}/submit",
        expect(401),
        effect=_status(ResearchResult, "draft", "待审核"),
    ),
    Case("api.suggest_fields", "GET", "/api/v1/fields/suggest?text=锂离子电池", PUBLIC),
    Case("api.openapi", "GET", "/api/v1/openapi.json", PUBLIC),
    # 成果融资: the summary is public once published; the data room only for the owner's members (and
    # verified investors with the NDA, who are tested in tests/financing/); review by admins
    Case("financing.index", "GET", "/financing", PUBLIC),
    Case("financing.mine", "GET", "/financing/mine", members(200, agent=403, admin=403)),
    Case("financing.create", "GET", "/financing/new", members(200, agent=403, admin=403)),
    Case(
        "financing.create",
        "POST",
        "/financing/new",
        members(302, agent=403, admin=403),
        data=FINANCING_FORM,
        effect=_financing_created,
    ),
    Case("financing.detail", "GET", "/financing/{fin}", PUBLIC),
    Case("financing.detail", "GET", "/financing/{fin_draft}", expect(404, uni=200, admin=200)),
    Case("financing.edit", "GET", "/financing/{fin}/edit", members(403, uni=200)),
    Case(
        "financing.edit",
        "POST",
        "/financing/{fin}/edit",
        members(403, uni=302),
        data=dict(FINANCING_FORM, title=EDITED_FINANCING),
        effect=_title_is(FinancingRequest, "fin", EDITED_FINANCING),
    ),
    Case(
        "financing.act",
        "POST",
        "/financing/{fin_draft}/submit",
        members(404, uni=302, admin=403),
        effect=_status(FinancingRequest, "fin_draft", "待审核"),
    ),
    Case(
        "financing.act",
        "POST",
        "/financing/{fin_pending}/approve",
        members(404, uni=403, admin=302),
        effect=_status(FinancingRequest, "fin_pending", "已发布"),
    ),
    Case("financing.upload", "POST", "/financing/{fin}/files", members(403, uni=303), multipart=True),
    Case("financing.accept_nda", "POST", "/financing/{fin}/nda", members(403), data={"text_hash": "x"}),
    Case("financing.data_room", "GET", "/financing/{fin}/dataroom", members(403, uni=200)),
    Case("financing.download", "GET", "/financing/{fin}/files/{fin_file}", members(403, uni=200)),
    Case("financing.views", "GET", "/financing/{fin}/views", members(403, uni=200)),
    Case("financing.pipeline_move", "POST", "/financing/{fin}/pipeline/watch", members(403)),
    Case("financing.review", "GET", "/financing/review", ADMIN_ONLY),
    Case("financing.investor_desk", "GET", "/investor", members(403)),
    Case("financing.investor_desk", "POST", "/investor", members(403), data={"thesis": "x"}),
    # events: the agent organises (admins too); uni and ent are admitted, other_uni waits for admission
    Case("events.index", "GET", "/events", PUBLIC),
    Case("events.create", "GET", "/events/new", members(403, agent=200, admin=200)),
    Case("events.create", "POST", "/events/new", members(403, agent=200, admin=200), data={"title": ""}),
    Case("events.detail", "GET", "/events/{event}", PUBLIC),
    Case("events.register", "POST", "/events/{event}/register", members(303, agent=302, admin=302)),
    Case(
        "events.decide",
        "POST",
        "/events/{event}/registrations/{ev_reg}/admit",
        members(403, agent=302, admin=302),
        effect=_status(Registration, "ev_reg", "已通过"),
    ),
    Case(
        "events.request_meeting",
        "POST",
        "/events/{event}/meetings",
        members(403, uni=303, ent=303),
        data={"to_user_id": "{ent_user}", "reason": "矩阵中的会谈请求"},
    ),
    Case(
        "events.respond",
        "POST",
        "/events/{event}/meetings/{ev_meeting}/decline",
        members(403, uni=303, other_uni=404),  # uni was invited but already accepted: flashed refusal
    ),
    Case(
        "events.lock",
        "POST",
        "/events/{event}/meetings/{ev_meeting}/lock",
        members(403, agent=302, admin=302, other_uni=404),
        effect=lambda s, w, _u: s.get(MeetingRequest, w.ev_meeting).locked,
    ),
    Case(
        "events.outcome",
        "POST",
        "/events/{event}/meetings/{ev_meeting}/outcome",
        members(403, uni=302, ent=302, other_uni=404),
        data={"outcome": "后续对接"},
        effect=lambda s, w, _u: s.get(MeetingRequest, w.ev_meeting).outcome == "后续对接",
    ),
    Case("events.run_schedule", "POST", "/events/{event}/schedule", members(403, agent=302, admin=302)),
    Case(
        "events.finalize",
        "POST",
        "/events/{event}/finalize",
        members(403, agent=302, admin=302),
        effect=lambda s, w, _u: s.get(Event, w.event).agenda == "最终",
    ),
    Case("events.agenda", "GET", "/events/{event}/agenda", members(200, other_uni=403)),
    Case("events.agenda_ics", "GET", "/events/{event}/agenda.ics", members(403, uni=200, ent=200)),
    Case(
        "events.apply_pitch",
        "POST",
        "/events/{event}/pitches",
        members(303, uni=302),
        data={"subject": "result:{result}"},
    ),
    Case(
        "events.add_reviewer",
        "POST",
        "/events/{event}/reviewers",
        members(403, agent=303, admin=303),
        data={"email": "nobody@example.cn"},
    ),
    Case(
        "events.score",
        "POST",
        "/events/{event}/pitches/{ev_pitch}/score",
        members(403),
        data={"score_0": "5", "score_1": "5"},
    ),
    Case(
        "events.decide_pitch",
        "POST",
        "/events/{event}/pitches/{ev_pitch}/reject",
        members(403, agent=302, admin=302),
        effect=_status(PitchApplication, "ev_pitch", "未入选"),
    ),
    # 揭榜挂帅: ent owns the challenge, uni applied (other_uni may still apply), agents review
    Case("challenges.board", "GET", "/challenges", PUBLIC),
    Case("challenges.detail", "GET", "/challenges/{challenge}", PUBLIC),
    Case("challenges.apply", "GET", "/challenges/{challenge}/apply", members(403, uni=200, other_uni=200)),
    Case(
        "challenges.apply",
        "POST",
        "/challenges/{challenge}/apply",
        members(403, uni=400, other_uni=302),
        data={
            "plan": "矩阵中的技术方案：宽温域电解液配方与界面修饰",
            "team": "矩阵中的团队：教授一名与博士后三名",
            "milestones": "矩阵中的里程碑：三个月筛选，六个月验证",
        },
        effect=lambda s, w, u: (
            u is not None
            and s.exec(
                select(ChallengeApplication).where(
                    ChallengeApplication.need_id == w.challenge,
                    ChallengeApplication.created_by_id == u.id,
                    ChallengeApplication.id != w.ch_app,
                )
            ).first()
            is not None
        ),
    ),
    Case(
        "challenges.applicants",
        "GET",
        "/challenges/{challenge}/applicants",
        members(403, ent=200, agent=200, admin=200),
    ),
    Case(
        "challenges.application",
        "GET",
        "/challenges/{challenge}/applications/{ch_app}",
        members(404, uni=200, ent=200, agent=200, admin=200),
    ),
    Case(
        "challenges.shortlist",
        "POST",
        "/challenges/{challenge}/applications/{ch_app}/shortlist",
        members(403, uni=403, ent=302, agent=302, other_uni=403),
        effect=lambda s, w, _u: s.get(ChallengeApplication, w.ch_app).status == "入围",
    ),
    Case(
        "challenges.ask",
        "POST",
        "/challenges/{challenge}/applications/{ch_app}/questions",
        members(404, uni=302, ent=302, agent=302, admin=302),
        data={"body": "矩阵中的追问"},
        effect=lambda s, w, _u: (
            s.exec(select(ChallengeQuestion).where(ChallengeQuestion.body == "矩阵中的追问")).first()
            is not None
        ),
    ),
    Case(
        "challenges.decide",
        "POST",
        "/challenges/{challenge}/decide",
        members(403, ent=302, agent=302),
        data={"chosen": "{ch_app}"},
        effect=lambda s, w, _u: s.get(ChallengeClosing, w.challenge) is not None,
    ),
    # 收藏与订阅: uni saved a search; anyone signed in saves listings and follows organisations
    Case("saved.index", "GET", "/favourites", SIGNED_IN),
    Case(
        "saved.favourite",
        "POST",
        "/needs/{need}/favourite",
        members(302),
        effect=lambda s, w, u: (
            u is not None
            and s.exec(
                select(Favourite).where(Favourite.user_id == u.id, Favourite.listing_id == w.need)
            ).first()
            is not None
        ),
    ),
    Case("saved.favourite", "POST", "/results/{draft}/favourite", members(404)),
    Case(
        "saved.follow",
        "POST",
        "/organizations/{org_unverified}/follow",
        members(302),
        effect=lambda s, w, u: (
            u is not None and s.exec(select(Follow).where(Follow.user_id == u.id)).first() is not None
        ),
    ),
    Case(
        "saved.save_search",
        "POST",
        "/saved-searches",
        members(302),
        data={"q": "矩阵中的订阅词"},
        effect=lambda s, w, u: (
            u is not None
            and s.exec(
                select(SavedSearch).where(SavedSearch.user_id == u.id, SavedSearch.name == "矩阵中的订阅词")
            ).first()
            is not None
        ),
    ),
    Case(
        "saved.change_search",
        "POST",
        "/saved-searches/{saved_search}",
        members(404, uni=302),
        data={"frequency": "每周"},
        effect=lambda s, w, _u: s.get(SavedSearch, w.saved_search).frequency == "每周",
    ),
    Case(
        "saved.unsubscribe",
        "GET",
        "/saved-searches/unsubscribe/{unsub_token}",
        PUBLIC,
        effect=lambda s, w, _u: s.get(SavedSearch, w.saved_search).frequency == "不发邮件",
    ),
    Case("saved.unsubscribe", "GET", "/saved-searches/unsubscribe/forged", expect(400)),
    # 消息: only the two introduced sides (uni ↔ ent on m_introduced); admins read a reported thread
    Case("messages.inbox", "GET", "/messages", SIGNED_IN),
    Case("messages.thread", "GET", "/matches/{m_introduced}/messages", members(404, uni=200, ent=200)),
    Case("messages.thread", "GET", "/matches/{m_signed}/messages", members(404, uni=200, ent=200, admin=200)),
    Case("messages.thread", "GET", "/matches/{m_suggested}/messages", members(404)),
    Case(
        "messages.send",
        "POST",
        "/matches/{m_introduced}/messages",
        members(404, uni=302, ent=302),
        data={"body": "矩阵中的回复"},
        effect=lambda s, w, _u: (
            s.exec(select(Message).where(Message.body == "矩阵中的回复")).first() is not None
        ),
    ),
    Case(
        "messages.send",
        "POST",
        "/matches/{m_suggested}/messages",
        members(404),
        data={"body": "未对接时的消息"},
        effect=lambda s, w, _u: (
            s.exec(select(Message).where(Message.body == "未对接时的消息")).first() is not None
        ),
    ),
    Case(
        "messages.attachment",
        "GET",
        "/matches/{m_introduced}/messages/{message}/file",
        members(404, uni=200, ent=200),
    ),
    Case(
        "messages.report",
        "POST",
        "/matches/{m_introduced}/messages/report",
        members(404, uni=302, ent=302),
        data={"reason": "矩阵中的骚扰"},
        effect=lambda s, w, _u: (
            s.exec(select(ThreadReport).where(ThreadReport.match_id == w.m_introduced)).first() is not None
        ),
    ),
    # 图片: owners upload and delete; whoever may see the listing sees its pictures
    Case(
        "media.upload",
        "POST",
        "/results/{result}/images",
        members(403, uni=303),
        multipart=True,
        data={"alt": "矩阵"},
    ),
    Case(
        "media.delete",
        "POST",
        "/results/{result}/images/{image}/delete",
        members(403, uni=302),
        effect=lambda s, w, _u: s.get(ListingImage, w.image) is None,
    ),
    Case("media.image", "GET", "/results/{result}/images/{image}/small", PUBLIC),
    Case(
        "media.image", "GET", "/results/{draft}/images/{image_draft}/medium", expect(404, uni=200, admin=200)
    ),
    # 附件 (PDF): the same as the pictures — owners upload and delete; whoever may see the listing downloads
    Case(
        "media.file_upload",
        "POST",
        "/results/{result}/files",
        members(403, uni=303),
        multipart=True,
        data={"title": "矩阵附件"},
    ),
    Case(
        "media.file_delete",
        "POST",
        "/results/{result}/files/{file}/delete",
        members(403, uni=302),
        effect=lambda s, w, _u: s.get(ListingFile, w.file) is None,
    ),
    Case("media.file_download", "GET", "/results/{result}/files/{file}", PUBLIC),
    Case(
        "media.file_download", "GET", "/results/{draft}/files/{file_draft}", expect(404, uni=200, admin=200)
    ),
    Case("media.file_download", "GET", "/results/{result}/files/{file_draft}", expect(404)),
    Case("api.docs", "GET", "/api/v1/docs", PUBLIC),
    # 互联互通: the feed takes partner tokens only (no role's session or personal token opens it)
    Case("federation_api.feed_page", "GET", "/api/v1/feed", expect(401)),
    Case("federation.crosswalk", "GET", "/federation/crosswalk", PUBLIC),
    Case("federation.export_json", "GET", "/federation/export.json", PUBLIC),
    Case("federation.export_xlsx", "GET", "/federation/export.xlsx", PUBLIC),
    Case("federation.linked", "GET", "/linked/{linked}", PUBLIC),
    Case("federation.partners", "GET", "/admin/partners", ADMIN_ONLY),
    Case(
        "federation.partners",
        "POST",
        "/admin/partners",
        members(403, admin=302),
        data={"name": "矩阵新平台", "prefix": "MXNEW", "base_url": "", "enabled": "y"},
        effect=lambda s, _w, _u: s.exec(select(Partner).where(Partner.prefix == "MXNEW")).first() is not None,
    ),
    Case("federation.partner", "GET", "/admin/partners/{partner}", ADMIN_ONLY),
    Case(
        "federation.partner",
        "POST",
        "/admin/partners/{partner}",
        members(403, admin=302),
        data={"name": "矩阵改名平台", "prefix": "MXP", "base_url": "http://127.0.0.1:9", "enabled": "y"},
        effect=lambda s, w, _u: s.get(Partner, w.partner).name == "矩阵改名平台",
    ),
    Case(
        "federation.issue_token",
        "POST",
        "/admin/partners/{partner}/token",
        members(403, admin=200),
        effect=lambda s, w, _u: s.get(Partner, w.partner).feed_token_hash is not None,
    ),
    Case(
        "federation.harvest",
        "POST",
        "/admin/partners/{partner}/harvest",
        members(403, admin=302),
        effect=lambda s, w, _u: s.get(Partner, w.partner).next_attempt_at is not None,
    ),
    # introductions: partners deliver with their token; verified agents ask; the target's owner,
    # agents and administrators answer
    Case(
        "federation_api.receive_introduction",
        "POST",
        "/api/v1/federation/introductions",
        expect(401),
        json={"request_id": "matrix-request-0002", "target": "TJ.result.1", "message": "x"},
        effect=lambda s, _w, _u: len(s.exec(select(IncomingIntroduction)).all()) > 1,
    ),
    Case(
        "federation_api.introduction_status",
        "GET",
        "/api/v1/federation/introductions/matrix-request-0001",
        expect(401),
    ),
    Case(
        "federation.request_introduction",
        "POST",
        "/linked/{linked}/introductions",
        members(403, agent=302),
        data={"listing_id": "{need}", "message": "矩阵测试：请对方平台引荐双方对接"},
        effect=lambda s, _w, _u: s.exec(select(IntroductionRequest)).first() is not None,
    ),
    Case("federation.introductions_page", "GET", "/introductions", SIGNED_IN),
    Case(
        "federation.incoming",
        "GET",
        "/introductions/incoming/{incoming}",
        members(404, uni=200, agent=200, admin=200),
    ),
    Case(
        "federation.decide",
        "POST",
        "/introductions/incoming/{incoming}/decide",
        members(404, uni=302, agent=302, admin=302),
        data={"decision": "accept"},
        effect=lambda s, w, _u: s.get(IncomingIntroduction, w.incoming).status == "已接受",
    ),
    # freshness (信息有效期): owners re-confirm a published listing; operators read the report
    Case(
        "freshness.reconfirm",
        "POST",
        "/results/{result}/reconfirm",
        members(403, uni=302),
        effect=_reconfirmed("result"),
    ),
    Case(
        "freshness.reconfirm",
        "POST",
        "/needs/{need}/reconfirm",
        members(403, ent=302),
        effect=_reconfirmed("need"),
    ),
    Case("freshness.reconfirm", "POST", "/results/{draft}/reconfirm", members(404, uni=403, admin=403)),
    Case("freshness.report", "GET", "/admin/stale", ADMIN_ONLY),
]
