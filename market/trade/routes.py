"""展示交易 pages (/trade/…), contract registration (/contracts/<id>/registration) and the auction JSON
(/api/v1/auctions/<id>, …/log). Routes translate HTTP; the rules are in the services."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlmodel import select

from market.accounts.models import Organization
from market.db import db, reads_first, utcnow, write_transaction
from market.deals.models import Contract, ContractInstalment
from market.errors import DomainError, NotAllowed, apply_to_form, wants_json
from market.trade import documents, registration, rules
from market.trade import service as svc
from market.trade.forms import (
    BidForm,
    CheckBuyerForm,
    ContractForm,
    ListingForm,
    ObjectionForm,
    PublicityForm,
    RegisterBuyerForm,
    RegistrationForm,
    RulingForm,
)
from market.trade.models import (
    Auction,
    Bid,
    BuyerRegistration,
    BuyerStatus,
    ListingSaleStatus,
    Objection,
    Publicity,
    PublicityStatus,
    SaleListing,
    TradeDeal,
)

bp = Blueprint(
    "trade", __name__, template_folder="templates", static_folder="static", static_url_path="/trade/static"
)
api_bp = Blueprint("trade_api", __name__, url_prefix="/api/v1")


@bp.app_context_processor
def _helpers():
    return {"trade_can_sell": svc.can_sell, "trade_is_admin": svc.is_admin, "fmt_wan": rules.fmt_wan}


def _get(model, item_id: int):
    item = db().get(model, item_id)
    if item is None:
        abort(404)
    return item


def _now():
    return utcnow()


def _undo(exc: DomainError) -> None:
    """Roll the request back; a refusal of permission answers 403 (the error page says why), other
    refusals go back on the page with their reason."""
    db().rollback()
    if isinstance(exc, NotAllowed):
        raise exc


def _submit(action: Callable[[], str], *, redisplay: Callable[[str], str], target: str):
    """A page's POST: run `action` (the service call, returning what to tell the user) and commit, then
    go to `target`; a refusal rolls back and shows the page again with its reason, under its status."""
    try:
        message = action()
        db().commit()
    except DomainError as exc:
        _undo(exc)
        return redisplay(exc.message), exc.status
    flash(message, "success")
    return redirect(target)


# -- boards --------------------------------------------------------------------------------------


@bp.route("/trade")
def board():
    """展示交易: publicity board (current and finished), listings, auctions and 成交公示."""
    session = db()
    pubs = session.exec(select(Publicity).order_by(Publicity.id.desc()).limit(200)).all()
    listings = session.exec(select(SaleListing).order_by(SaleListing.id.desc()).limit(200)).all()
    auctions = {a.listing_id: a for a in session.exec(select(Auction).order_by(Auction.id.desc()).limit(200))}
    deals = session.exec(select(TradeDeal).order_by(TradeDeal.id.desc()).limit(100)).all()
    names = svc.org_names(
        session,
        [p.seller_org_id for p in pubs]
        + [p.buyer_org_id for p in pubs]
        + [x.seller_org_id for x in listings]
        + [d.seller_org_id for d in deals]
        + [d.buyer_org_id for d in deals],
    )
    return render_template(
        "trade/board.html",
        running=[p for p in pubs if p.status == PublicityStatus.RUNNING],
        finished=[p for p in pubs if p.status != PublicityStatus.RUNNING],
        listings=listings,
        auctions=auctions,
        deals=deals,
        names=names,
        now=_now(),
        aware=svc.aware,
    )


# -- 公示 ----------------------------------------------------------------------------------------


def _result_choices(form) -> None:
    form.result_id.choices = [(str(r.id), r.title) for r in svc.sellable_results(db(), current_user)]


@bp.route("/trade/publicity/new", methods=["GET", "POST"])
@login_required
def new_publicity():
    if not svc.can_sell(current_user):
        abort(403, "只有成果方机构成员可以发起公示")
    form = PublicityForm()
    _result_choices(form)
    if request.method == "GET":
        form.days.data = current_app.config["TRADE_PUBLICITY_DAYS"]
    if form.is_submitted():
        try:
            pub = svc.create_publicity(
                db(),
                actor=current_user,
                result_id=form.result_id.data,
                price_wan=form.price_wan.data,
                mode=form.mode.data,
                buyer_name=form.buyer_name.data,
                team=form.team.data,
                note=form.note.data,
                days=form.days.data or current_app.config["TRADE_PUBLICITY_DAYS"],
            )
            db().commit()
            flash(f"公示已发布：{pub.title}", "success")
            return redirect(url_for("trade.publicity", publicity_id=pub.id))
        except DomainError as exc:
            _undo(exc)
            apply_to_form(form, exc)
    return render_template("trade/publicity_new.html", form=form)


@bp.route("/trade/publicity/<int:publicity_id>")
def publicity(publicity_id: int, error: str | None = None):
    session = db()
    pub = _get(Publicity, publicity_id)
    return render_template(
        "trade/publicity.html",
        pub=pub,
        objections=svc.objections_of(session, pub.id),
        names=svc.org_names(session, [pub.seller_org_id, pub.buyer_org_id]),
        events=svc.events(session, "publicity", pub.id),
        deal=svc.deal_for(session, publicity_id=pub.id),
        form=ObjectionForm(),
        ruling_form=RulingForm(),
        now=_now(),
        ends_at=svc.aware(pub.ends_at),
        error=error,
    )


@bp.route("/trade/publicity/<int:publicity_id>/objections", methods=["POST"])
@login_required
def object_to(publicity_id: int):
    pub = _get(Publicity, publicity_id)
    form = ObjectionForm()

    def file() -> str:
        svc.file_objection(db(), actor=current_user, publicity=pub, reason=form.reason.data)
        return "异议已提交，平台运营将作出裁定"

    return _submit(
        file,
        redisplay=lambda error: publicity(publicity_id, error=error),
        target=url_for("trade.publicity", publicity_id=publicity_id),
    )


@bp.route("/trade/objections/<int:objection_id>/ruling", methods=["POST"])
@login_required
def rule(objection_id: int):
    objection = _get(Objection, objection_id)
    form = RulingForm()

    def decide() -> str:
        if form.decision.data not in ("uphold", "dismiss"):
            raise DomainError(("decision", "请选择异议成立或不成立"))
        svc.rule_on_objection(
            db(),
            actor=current_user,
            objection=objection,
            upheld=form.decision.data == "uphold",
            reason=form.reason.data,
        )
        return "裁定已记录并公布"

    return _submit(
        decide,
        redisplay=lambda error: publicity(objection.publicity_id, error=error),
        target=url_for("trade.publicity", publicity_id=objection.publicity_id),
    )


# -- 挂牌 ----------------------------------------------------------------------------------------


@bp.route("/trade/listings/new", methods=["GET", "POST"])
@login_required
def new_listing():
    if not svc.can_sell(current_user):
        abort(403, "只有成果方机构成员可以挂牌")
    form = ListingForm()
    _result_choices(form)
    if request.method == "GET":
        form.days.data = current_app.config["TRADE_LISTING_DAYS"]
        form.extend_minutes.data = current_app.config["TRADE_EXTEND_MINUTES"]
    if form.is_submitted():
        try:
            listing = svc.create_listing(
                db(),
                actor=current_user,
                result_id=form.result_id.data,
                price_kind=form.price_kind.data,
                price_wan=form.price_wan.data,
                start_wan=form.start_wan.data,
                mode=form.mode.data,
                licence_term=form.licence_term.data,
                territory=form.territory.data,
                qualifications=form.qualifications.data,
                deposit_wan=form.deposit_wan.data,
                deposit_terms=form.deposit_terms.data,
                payment_terms=form.payment_terms.data,
                increment_wan=form.increment_wan.data,
                bidding_minutes=form.bidding_minutes.data if form.bidding_minutes.data is not None else 60,
                extend_minutes=form.extend_minutes.data if form.extend_minutes.data is not None else 5,
                days=form.days.data or current_app.config["TRADE_LISTING_DAYS"],
            )
            db().commit()
            flash(f"挂牌已发布：{listing.title}", "success")
            return redirect(url_for("trade.listing", listing_id=listing.id))
        except DomainError as exc:
            _undo(exc)
            apply_to_form(form, exc)
    return render_template("trade/listing_new.html", form=form)


@bp.route("/trade/listings/<int:listing_id>")
def listing(listing_id: int, error: str | None = None):
    session = db()
    item = _get(SaleListing, listing_id)
    regs = svc.registrations(session, item.id)
    mine = None
    if current_user.is_authenticated and current_user.organization_id:
        mine = next((r for r, _ in regs if r.org_id == current_user.organization_id), None)
    auction = session.exec(select(Auction).where(Auction.listing_id == item.id)).first()
    return render_template(
        "trade/listing.html",
        item=item,
        regs=regs if (svc.is_admin(current_user) or _is_seller(item)) else [],
        count=len(regs),
        qualified=sum(1 for r, _ in regs if r.status == BuyerStatus.QUALIFIED),
        mine=mine,
        auction=auction,
        deal=svc.deal_for(session, listing_id=item.id),
        seller=session.get(Organization, item.seller_org_id),
        events=svc.events(session, "listing", item.id),
        form=RegisterBuyerForm(),
        check_form=CheckBuyerForm(),
        now=_now(),
        closes_at=svc.aware(item.closes_at),
        error=error,
    )


def _is_seller(item) -> bool:
    return current_user.is_authenticated and current_user.organization_id == item.seller_org_id


@bp.route("/trade/listings/<int:listing_id>/register", methods=["POST"])
@login_required
def register(listing_id: int):
    item = _get(SaleListing, listing_id)
    form = RegisterBuyerForm()

    def enrol() -> str:
        svc.register_buyer(db(), actor=current_user, listing=item, statement=form.statement.data)
        return "已登记为意向受让方，等待平台运营审核资格与保证金"

    return _submit(
        enrol,
        redisplay=lambda error: listing(listing_id, error=error),
        target=url_for("trade.listing", listing_id=listing_id),
    )


@bp.route("/trade/registrations/<int:registration_id>/check", methods=["POST"])
@login_required
def check(registration_id: int):
    reg = _get(BuyerRegistration, registration_id)
    form = CheckBuyerForm()

    def decide() -> str:
        svc.check_buyer(
            db(),
            actor=current_user,
            registration=reg,
            qualified=form.decision.data == "qualify",
            deposit_ref=form.deposit_ref.data,
            note=form.note.data,
        )
        return f"已审核：{reg.status}" + (f"，竞买号 {reg.paddle}" if reg.paddle else "")

    return _submit(
        decide,
        redisplay=lambda error: listing(reg.listing_id, error=error),
        target=url_for("trade.listing", listing_id=reg.listing_id),
    )


@bp.route("/trade/admin")
@login_required
def admin():
    """What waits for an administrator: objections to rule on, buyers to check."""
    if not svc.is_admin(current_user):
        abort(403)
    session = db()
    pending = session.exec(
        select(BuyerRegistration, SaleListing, Organization)
        .join(SaleListing, SaleListing.id == BuyerRegistration.listing_id)
        .join(Organization, Organization.id == BuyerRegistration.org_id)
        .where(BuyerRegistration.status == BuyerStatus.PENDING, SaleListing.status == ListingSaleStatus.OPEN)
        .order_by(BuyerRegistration.id)
    ).all()
    running = session.exec(select(Publicity).where(Publicity.status == PublicityStatus.RUNNING)).all()
    objections = [(p, o) for p in running for o, r in svc.objections_of(session, p.id) if r is None]
    return render_template(
        "trade/admin.html", pending=pending, objections=objections, check_form=CheckBuyerForm()
    )


# -- 竞价 ----------------------------------------------------------------------------------------


@bp.route("/trade/auctions/<int:auction_id>")
def auction(auction_id: int, error: str | None = None):
    session = db()
    item = _get(Auction, auction_id)
    listing = session.get(SaleListing, item.listing_id)
    bids = list(reversed(svc.bid_log(session, item.id)))[:50]
    names = _names_for_viewer(session, [*bids, item])
    mine = (
        svc.qualified_registration(session, listing_id=listing.id, org_id=current_user.organization_id)
        if current_user.is_authenticated
        else None
    )
    return render_template(
        "trade/auction.html",
        item=item,
        listing=listing,
        bids=[(b, _bidder(b, names)) for b in bids],
        best=_bidder(item, names),
        state=svc.auction_state(item),
        can_bid=mine is not None,
        my_paddle=mine.paddle if mine else None,
        deal=svc.deal_for(session, auction_id=item.id),
        form=BidForm(),
        error=error,
    )


@bp.route("/trade/auctions/<int:auction_id>/bids", methods=["POST"])
@login_required
@reads_first
def bid(auction_id: int):
    """A bid from the page's form (redirect back) or its script (JSON: 201, or 409 with the new best).

    Checked first on the request's read (most bids under contention are refused there, without the
    write lock), then decided again under the auction's lock in a write transaction of its own."""
    price = request.form.get("price_wan", "")
    try:
        svc.precheck_bid(db(), actor=current_user, auction_id=auction_id, price_wan=price)
        with write_transaction() as session:
            placed, after = svc.accept_bid(
                session, actor=current_user, auction_id=auction_id, price_wan=price
            )
            state = svc.auction_state(after)
    except DomainError as exc:
        if wants_json():
            return jsonify(exc.as_json()), exc.status
        return auction(auction_id, error=exc.message), exc.status
    if wants_json():
        return jsonify(
            {
                "accepted": True,
                "seq": placed.seq,
                "price_wan": rules.from_units(placed.price_units),
                "hash": placed.hash,
                "auction": state,
            }
        ), 201
    flash(f"出价成功：{rules.fmt_wan(placed.price_units)} 万元（第 {placed.seq} 次出价）", "success")
    return redirect(url_for("trade.auction", auction_id=auction_id))


def _names_for_viewer(session, entries) -> dict[int, str]:
    """Bidders' names, for administrators only."""
    if not svc.is_admin(current_user):
        return {}
    return svc.org_names(
        session, [e.best_org_id if isinstance(e, Auction) else e.bidder_org_id for e in entries]
    )


def _bidder(entry: Bid | Auction, names: dict[int, str]) -> str:
    """A bid's (or an auction's best bid's) bidder as this viewer may see it: the 竞买号, marked when
    it is the viewer's own; administrators (`names`) also see the organisation. Names stay hidden from
    everyone else, the seller included, until the deal names the buyer."""
    if isinstance(entry, Auction):
        paddle, org_id = entry.best_paddle, entry.best_org_id
        label = f"竞买号 {paddle}" if paddle is not None else f"机构 #{org_id}"
    else:
        paddle, org_id, label = entry.paddle, entry.bidder_org_id, svc.bidder_label(entry)
    if current_user.is_authenticated and current_user.organization_id == org_id:
        return f"{label}（我）"
    if org_id in names:
        return f"{label}（{names[org_id]}）"
    return label


@api_bp.route("/auctions/<int:auction_id>")
def auction_json(auction_id: int):
    """The auction as the bidding page polls it, with the last bids."""
    session = db()
    item = _get(Auction, auction_id)
    state = svc.auction_state(item)
    recent = session.exec(
        select(Bid).where(Bid.auction_id == item.id).order_by(Bid.seq.desc()).limit(10)
    ).all()
    names = _names_for_viewer(session, [*recent, item])
    state["best_bidder"] = _bidder(item, names) if item.best_units is not None else None
    state["recent"] = [
        {
            "seq": b.seq,
            "price_wan": rules.from_units(b.price_units),
            "bidder": _bidder(b, names),
            "paddle": b.paddle,
            "at": b.at,
        }
        for b in recent
    ]
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.route("/auctions/<int:auction_id>/log")
def auction_log(auction_id: int):
    """The whole hash-chained bid log, for anyone to verify."""
    item = _get(Auction, auction_id)
    body = svc.log_json(db(), item)
    check_result = svc.verify_auction(db(), item)
    body["verification"] = {
        "ok": check_result.ok,
        "entries": check_result.entries,
        "broken_at": check_result.broken_at,
        "reason": check_result.reason,
    }
    return jsonify(body)


# -- 成交, confirmation, evidence, contract -------------------------------------------------------


def _deal_reader(deal: TradeDeal) -> bool:
    return current_user.is_authenticated and (
        svc.is_admin(current_user) or current_user.organization_id in (deal.seller_org_id, deal.buyer_org_id)
    )


@bp.route("/trade/deals/<int:deal_id>")
def deal(deal_id: int):
    """成交公示 of one deal (public); the documents and the contract for the parties."""
    session = db()
    item = _get(TradeDeal, deal_id)
    contract = session.exec(select(Contract).where(Contract.deal_id == item.id)).first()
    form = ContractForm()
    form.amount_wan.data = rules.fmt_wan(rules.to_units(item.price_wan))
    form.signed_on.data = date.today()
    return render_template(
        "trade/deal.html",
        item=item,
        lines=documents.confirmation_lines(session, item),
        contract=contract,
        reader=_deal_reader(item),
        seller=current_user.is_authenticated
        and (svc.is_admin(current_user) or current_user.organization_id == item.seller_org_id),
        form=form,
    )


@bp.route("/trade/deals/<int:deal_id>/confirmation.pdf")
@login_required
def confirmation(deal_id: int):
    item = _get(TradeDeal, deal_id)
    if not _deal_reader(item):
        abort(404)
    data = documents.confirmation_pdf(db(), item)
    return send_file(
        _buffer(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"成交确认书-{item.id}.pdf",
    )


@bp.route("/trade/deals/<int:deal_id>/evidence.zip")
@login_required
def evidence(deal_id: int):
    item = _get(TradeDeal, deal_id)
    if not _deal_reader(item):
        abort(404)
    data = documents.evidence_zip(db(), item)
    return send_file(
        _buffer(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"证据包-成交{item.id}.zip",
    )


def _buffer(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def _contract_kwargs(form: ContractForm) -> dict:
    return {
        "contract_type": form.contract_type.data,
        "amount_wan": form.amount_wan.data,
        "non_tech_cost_wan": form.non_tech_cost_wan.data,
        "signed_on": form.signed_on.data,
        "seller_uscc": form.seller_uscc.data or "",
        "buyer_uscc": form.buyer_uscc.data or "",
        "seller_region_code": form.seller_region_code.data or "",
        "buyer_region_code": form.buyer_region_code.data or "",
        "instalments": form.instalments.data,
    }


@bp.route("/trade/deals/<int:deal_id>/contract", methods=["POST"])
@login_required
def deal_contract(deal_id: int):
    session = db()
    item = _get(TradeDeal, deal_id)
    form = ContractForm()
    try:
        contract = registration.contract_for_deal(
            session, actor=current_user, deal=item, **_contract_kwargs(form)
        )
        session.commit()
        flash("技术合同已录入，可在登记页记录认定登记号", "success")
        return redirect(url_for("trade.contract_registration", contract_id=contract.id))
    except DomainError as exc:
        _undo(exc)
        apply_to_form(form, exc)
    return render_template(
        "trade/deal.html",
        item=item,
        lines=documents.confirmation_lines(session, item),
        contract=None,
        reader=_deal_reader(item),
        seller=True,
        form=form,
    ), 400


@bp.route("/contracts/<int:contract_id>/registration", methods=["GET", "POST"])
@login_required
def contract_registration(contract_id: int):
    """技术合同认定登记: the registration data, the office's number and date, instalments and receipts."""
    session = db()
    contract = _get(Contract, contract_id)
    if not registration.can_manage(current_user, contract):
        abort(404)
    form, reg_form = ContractForm(), RegistrationForm()
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("what") == "registration":
                registration.record_registration(
                    session,
                    actor=current_user,
                    contract=contract,
                    registration_no=reg_form.registration_no.data,
                    registered_on=reg_form.registered_on.data,
                )
                message = f"已记录认定登记号 {contract.registration_no}"
            else:
                registration.update_registration_data(
                    session, actor=current_user, contract=contract, **_contract_kwargs(form)
                )
                message = "登记信息已保存"
            session.commit()
            flash(message, "success")
            return redirect(url_for("trade.contract_registration", contract_id=contract.id))
        except DomainError as exc:
            _undo(exc)
            apply_to_form(reg_form if request.form.get("what") == "registration" else form, exc)
            status = 400
    else:
        form.process(
            data={
                "contract_type": contract.contract_type,
                "amount_wan": rules.fmt_wan(rules.to_units(contract.amount_wan)),
                # a contract recorded from a match has 技术交易额 but no cost yet: the difference is it
                "non_tech_cost_wan": rules.fmt_wan(
                    rules.to_units(contract.non_tech_cost_wan)
                    if contract.non_tech_cost_wan is not None
                    else rules.to_units(contract.amount_wan) - rules.to_units(contract.tech_amount_wan)
                ),
                "signed_on": contract.signed_on,
                "seller_uscc": contract.seller_uscc,
                "buyer_uscc": contract.buyer_uscc,
                "seller_region_code": contract.seller_region_code,
                "buyer_region_code": contract.buyer_region_code,
                "instalments": "\n".join(
                    f"{i.amount_wan:g} {i.due_on}" for i in registration.instalments(session, contract.id)
                ),
            }
        )
    names = svc.org_names(session, [contract.seller_org_id, contract.buyer_org_id])
    return render_template(
        "trade/registration.html",
        contract=contract,
        form=form,
        reg_form=reg_form,
        plan=registration.instalments(session, contract.id),
        names=names,
        today=date.today(),
    ), status


@bp.route("/contracts/<int:contract_id>/instalments/<int:instalment_id>/paid", methods=["POST"])
@login_required
def paid(contract_id: int, instalment_id: int):
    session = db()
    contract = _get(Contract, contract_id)
    if not registration.can_manage(current_user, contract):
        abort(404)
    item = _get(ContractInstalment, instalment_id)
    try:
        raw = request.form.get("paid_on") or ""
        paid_on = date.fromisoformat(raw) if raw else None
    except ValueError:
        paid_on = None
        flash("收款日期格式应为 YYYY-MM-DD", "error")
        return redirect(url_for("trade.contract_registration", contract_id=contract_id))
    try:
        registration.mark_paid(
            session, actor=current_user, contract=contract, instalment=item, paid_on=paid_on
        )
        session.commit()
        flash(f"第 {item.seq} 期已记录收款", "success")
    except DomainError as exc:
        _undo(exc)
        return render_template(
            "errors/error.html", code=exc.status, message="无法记录收款", detail=exc.message
        ), exc.status
    return redirect(url_for("trade.contract_registration", contract_id=contract_id))


@bp.route("/trade/registration.xlsx")
@login_required
def registration_export():
    """The registration office's table: all contracts (admins) or the organisation's own."""
    if svc.is_admin(current_user):
        rows = registration.export_rows(db())
    elif current_user.organization_id:
        rows = registration.export_rows(db(), org_id=current_user.organization_id)
    else:
        abort(403)
    return send_file(
        _buffer(registration.export_xlsx(rows)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"技术合同登记-{date.today():%Y%m%d}.xlsx",
    )
