"""Amounts already in 万元 get the unit once, through `vocab.values.format_wan`: the limit messages of
the listing form, the API (its errors and its documentation), the contract form and the financing form
read "10,000,000 万元", never "1000 万万元"; large amounts on pages never read "1.23457e+06 万元"."""

from __future__ import annotations

import json

import pytest

from market.accounts.models import Organization
from tests.factories import NEED, RESULT, create, login, make_listing, make_match
from tests.financing.conftest import REQUEST
from tests.test_api import API_RESULT, bearer, make_token
from vocab.values import MAX_WAN, format_wan

LIMIT = "10,000,000 万元"
TOO_MUCH = str(MAX_WAN * 2)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (120, True, "120 万元"),
        (120.5, True, "120.5 万元"),
        (0.125, True, "0.13 万元"),
        (1_234_567, True, "1,234,567 万元"),
        (MAX_WAN, True, LIMIT),
        (50.0, False, "50"),
        ("120万元", True, "120 万元"),  # the unit in the text is not doubled
        ("面议", True, "面议"),
        (None, True, "—"),
    ],
)
def test_format_wan(value, unit, text) -> None:
    assert format_wan(value, unit=unit) == text


def _client(app, user):
    c = app.test_client()
    login(c, user)
    return c


def _reads_once(page: str) -> None:
    assert "万万元" not in page and "e+0" not in page


def test_listing_form_and_api_state_the_limit_once(app, session, people) -> None:
    page = create(_client(app, people["uni"]), data={**RESULT, "price_wan": TOO_MUCH}).get_data(as_text=True)
    assert f"0 到 {LIMIT}之间" in page
    _reads_once(page)
    need = create(_client(app, people["ent"]), "needs", data={**NEED, "budget_max_wan": TOO_MUCH}).get_data(
        as_text=True
    )
    assert LIMIT in need
    _reads_once(need)
    token = bearer(make_token(app, people["uni"]))
    refused = app.test_client().post(
        "/api/v1/results", json={**API_RESULT, "price_wan": MAX_WAN * 2}, headers=token
    )
    message = json.dumps(refused.get_json(), ensure_ascii=False)
    assert refused.status_code == 400 and LIMIT in message
    _reads_once(message)
    docs = app.test_client().get("/api/v1/docs").get_data(as_text=True)
    assert f"0 到 {LIMIT}" in docs
    _reads_once(docs)
    _reads_once(json.dumps(app.test_client().get("/api/v1/openapi.json").get_json(), ensure_ascii=False))


def test_contract_and_financing_forms_state_the_limit_once(app, session, people) -> None:
    uni = session.get(Organization, people["uni"].organization_id)
    ent = session.get(Organization, people["ent"].organization_id)
    match = make_match(
        session,
        result=make_listing(session, kind="result", org=uni),
        need=make_listing(session, kind="need", org=ent),
        status="已对接",
        agent_id=people["agent"].id,
    )
    session.commit()
    sign = _client(app, people["agent"]).post(
        f"/matches/{match.id}/sign",
        data={
            "contract_type": "技术转让",
            "amount_wan": TOO_MUCH,
            "tech_amount_wan": "10",
            "signed_on": "2026-05-01",
        },
    )
    assert sign.status_code == 400
    page = sign.get_data(as_text=True)
    assert f"合同金额应在 0 到 {LIMIT}之间" in page
    _reads_once(page)
    financing = _client(app, people["ent"]).post("/financing/new", data={**REQUEST, "amount_wan": TOO_MUCH})
    page = financing.get_data(as_text=True)
    assert f"不超过 {LIMIT}" in page
    _reads_once(page)


def test_large_amounts_on_pages_read_in_full(app, session, people) -> None:
    listing = make_listing(session, kind="result", price_wan=1_234_567.0)
    need = make_listing(session, kind="need", budget_min_wan=50.0, budget_max_wan=2_500_000.0)
    session.commit()
    page = app.test_client().get(f"/results/{listing.id}").get_data(as_text=True)
    assert "1,234,567 万元" in page
    _reads_once(page)
    page = app.test_client().get(f"/needs/{need.id}").get_data(as_text=True)
    assert "50–2,500,000 万元" in page
    _reads_once(page)
