"""Statistics count registered 技术交易额 by default and say so; 成交额 and unregistered are separate."""

from __future__ import annotations

from datetime import date

from market.stats import sections, service
from market.trade import registration
from tests.factories import login
from tests.trade.test_registration_documents import CONTRACT, sold_deal


def test_default_series_is_registered_tech_amount(app, session, trade):
    registered = registration.contract_for_deal(
        session, actor=trade["seller"], deal=sold_deal(session, trade), **CONTRACT
    )
    registration.record_registration(
        session,
        actor=trade["admin"],
        contract=registered,
        registration_no="2026120104000777",
        registered_on=date.today(),
    )
    registration.contract_for_deal(
        session,
        actor=trade["seller"],
        deal=sold_deal(session, trade),
        **{**CONTRACT, "amount_wan": "50", "non_tech_cost_wan": "10", "instalments": ""},
    )
    session.commit()
    totals = service.totals(session)
    assert (totals.registered_contracts, totals.registered_tech_amount_wan) == (1, 100)
    assert totals.unregistered_tech_amount_wan == 40 and totals.amount_wan == 170
    month = service.contracts_by_month(session)[-1]
    chart = sections.SECTIONS["month"].chart([month])
    series = {s["name"]: s["data"] for s in chart["series"]}
    assert series[sections.REGISTERED_TECH] == [100]
    assert series[sections.UNREGISTERED_TECH] == [40] and series[sections.DEAL_AMOUNT] == [170]
    assert "默认口径" in chart["series"][1]["name"]  # the first money series is the registered one
    c = app.test_client()
    login(c, trade["admin"])
    html = c.get("/stats/public").get_data(as_text=True)
    assert "技术交易额（已认定登记合同，默认口径）" in html and "100.00" in html and "0.0100 亿元" in html
    assert "未登记合同技术交易额 40.00 万元" in html
