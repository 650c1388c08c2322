"""Contract page and its PDF (parties, the agent and admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlmodel import select

from market.accounts.models import User
from market.accounts.permissions import admin_required, is_admin
from market.db import db
from market.deals import credit, service
from market.deals.models import Contract
from market.errors import DomainError
from market.matches import queries
from vocab.taxonomy import Role

bp = Blueprint("deals", __name__)


def _load(contract_id: int) -> Contract:
    contract = db().get(Contract, contract_id)
    if contract is None or not service.can_read_contract(current_user, contract):
        abort(404)
    return contract


@bp.route("/contracts/<int:contract_id>")
@login_required
def detail(contract_id: int):
    session = db()
    contract = _load(contract_id)
    row = queries.one(session, contract.match_id) if contract.match_id else None
    agents = []
    if is_admin(current_user):
        agents = session.exec(
            select(User).where(User.role == Role.AGENT, User.active.is_(True)).order_by(User.display_name)
        ).all()
    credited = session.get(User, contract.agent_id) if contract.agent_id else None
    return render_template(
        "deals/detail.html", contract=contract, row=row, credited=credited, agents=agents, form=FlaskForm()
    )


@bp.route("/contracts/<int:contract_id>/credit", methods=["POST"])
@admin_required
def reassign_credit(contract_id: int):
    """An administrator credits the contract to another broker, with a reason (业绩归属调整)."""
    session = db()
    contract = _load(contract_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    raw = (request.form.get("agent") or "").strip()
    agent = session.get(User, int(raw)) if raw.isdigit() and int(raw) < 2**31 else None
    try:
        if agent is None:
            raise DomainError(("agent", "请选择技术经纪人"))
        credit.reassign(
            session, actor=current_user, contract=contract, agent=agent, reason=request.form.get("reason")
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("deals.detail", contract_id=contract_id)), 303
    session.commit()
    flash(f"业绩已归属 {agent.display_name}，调整记录在对接时间线上", "success")
    return redirect(url_for("deals.detail", contract_id=contract_id))


@bp.route("/contracts/<int:contract_id>/pdf")
@login_required
def pdf(contract_id: int):
    contract = _load(contract_id)
    response = service.pdf_response(contract)
    if response is None:
        abort(404)
    return response
