"""Contract page and its PDF (parties, the agent and admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from market.db import db
from market.deals import service
from market.deals.models import Contract
from market.matches import queries

bp = Blueprint("deals", __name__)


def _load(contract_id: int) -> Contract:
    contract = db().get(Contract, contract_id)
    if contract is None or not service.can_read_contract(current_user, contract):
        abort(404)
    return contract


@bp.route("/contracts/<int:contract_id>")
@login_required
def detail(contract_id: int):
    contract = _load(contract_id)
    row = queries.one(db(), contract.match_id) if contract.match_id else None
    return render_template("deals/detail.html", contract=contract, row=row)


@bp.route("/contracts/<int:contract_id>/pdf")
@login_required
def pdf(contract_id: int):
    contract = _load(contract_id)
    response = service.pdf_response(contract)
    if response is None:
        abort(404)
    return response
