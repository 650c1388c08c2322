"""Contracts that register, the registration export, the 成交确认书 and the evidence pack."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from market.deals.models import Contract
from market.errors import DomainError
from market.trade import closing, documents, registration
from market.trade import service as svc
from market.trade.models import TradeDeal
from tests.factories import login
from tests.trade.conftest import BUYER_USCC, SELLER_USCC, open_auction

CONTRACT = {
    "contract_type": "技术许可",
    "amount_wan": "120",
    "non_tech_cost_wan": "20",
    "signed_on": date.today(),
    "seller_uscc": SELLER_USCC,
    "buyer_uscc": BUYER_USCC,
    "seller_region_code": "120104",
    "buyer_region_code": "120116",
    "instalments": "60 2027-01-31\n60 2027-06-30",
}


def sold_deal(session, trade) -> TradeDeal:
    _listing, auction = open_auction(session, trade)
    a, b = trade["buyers"][:2]
    svc.place_bid(session, actor=a, auction_id=auction.id, price_wan="100")
    svc.place_bid(session, actor=b, auction_id=auction.id, price_wan="120")
    closing.close_auction(session, auction.id, now=svc.aware(auction.ends_at))
    return session.exec(svc.select(TradeDeal).where(TradeDeal.auction_id == auction.id)).one()


def test_uscc_with_a_wrong_check_character_is_refused_naming_the_field(session, trade):
    deal = sold_deal(session, trade)
    bad = {
        **CONTRACT,
        "buyer_uscc": BUYER_USCC[:-1] + "H",
        "seller_region_code": "129999",
        "non_tech_cost_wan": "130",
    }
    with pytest.raises(DomainError) as exc:
        registration.contract_for_deal(session, actor=trade["seller"], deal=deal, **bad)
    errors = dict(exc.value.errors)
    assert "买方的统一社会信用代码校验位不正确" in errors["buyer_uscc"]
    assert "卖方" in errors["seller_region_code"]
    assert errors["non_tech_cost_wan"] == "非技术性费用不能超过成交额"


def test_contract_from_a_deal_registers(session, trade):
    deal = sold_deal(session, trade)
    contract = registration.contract_for_deal(session, actor=trade["seller"], deal=deal, **CONTRACT)
    assert contract.tech_amount_wan == 100 and contract.non_tech_cost_wan == 20 and contract.match_id is None
    plan = registration.instalments(session, contract.id)
    assert [(i.seq, i.amount_wan) for i in plan] == [(1, 60), (2, 60)]
    with pytest.raises(DomainError) as exc:
        registration.record_registration(
            session, actor=trade["seller"], contract=contract, registration_no="", registered_on=None
        )
    assert {f for f, _ in exc.value.errors} == {"registration_no", "registered_on"}
    registration.record_registration(
        session,
        actor=trade["seller"],
        contract=contract,
        registration_no="2026120104000123",
        registered_on=date.today(),
    )
    assert contract.is_registered
    with pytest.raises(DomainError):
        registration.update_registration_data(session, actor=trade["seller"], contract=contract, **CONTRACT)
    registration.mark_paid(
        session, actor=trade["seller"], contract=contract, instalment=plan[0], paid_on=date.today()
    )
    with pytest.raises(DomainError):
        registration.mark_paid(
            session, actor=trade["seller"], contract=contract, instalment=plan[0], paid_on=date.today()
        )
    with pytest.raises(DomainError):
        registration.contract_for_deal(session, actor=trade["seller"], deal=deal, **CONTRACT)


def test_registration_export_opens_with_the_office_columns(app, session, trade):
    deal = sold_deal(session, trade)
    contract = registration.contract_for_deal(session, actor=trade["seller"], deal=deal, **CONTRACT)
    registration.record_registration(
        session,
        actor=trade["admin"],
        contract=contract,
        registration_no="2026120104000999",
        registered_on=date.today(),
    )
    session.commit()
    c = app.test_client()
    login(c, trade["admin"])
    r = c.get("/trade/registration.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(r.data)).active
    header = [cell.value for cell in ws[1]]
    assert header == list(registration.EXPORT_COLUMNS)
    row = dict(zip(header, [cell.value for cell in ws[2]], strict=True))
    assert row["认定登记号"] == "2026120104000999"
    assert row["卖方统一社会信用代码"] == SELLER_USCC and row["买方行政区划代码"] == "120116"
    assert (
        row["成交额（万元）"] == 120
        and row["技术交易额（万元）"] == 100
        and row["非技术性费用（万元）"] == 20
    )
    assert row["成交方式"] == "挂牌交易（竞价）"


def test_registration_page_shows_field_named_errors(app, session, trade):
    deal = sold_deal(session, trade)
    contract = registration.contract_for_deal(session, actor=trade["seller"], deal=deal, **CONTRACT)
    session.commit()
    c = app.test_client()
    login(c, trade["seller"])
    data = {k: v for k, v in CONTRACT.items() if k != "signed_on"}
    data.update({"signed_on": date.today().isoformat(), "buyer_uscc": BUYER_USCC[:-1] + "H", "what": "data"})
    r = c.post(f"/contracts/{contract.id}/registration", data=data)
    assert r.status_code == 400 and "买方的统一社会信用代码校验位不正确" in r.get_data(as_text=True)
    r = c.post(
        f"/contracts/{contract.id}/registration",
        data={
            "what": "registration",
            "registration_no": "2026-TJ-0001",
            "registered_on": date.today().isoformat(),
        },
    )
    assert r.status_code == 302
    assert "已登记 2026-TJ-0001" in c.get(r.headers["Location"]).get_data(as_text=True)
    other = app.test_client()
    login(other, trade["buyers"][2])
    assert other.get(f"/contracts/{contract.id}/registration").status_code == 404


def test_confirmation_and_evidence_pack_have_the_five_parts(app, session, trade):
    deal = sold_deal(session, trade)
    registration.contract_for_deal(session, actor=trade["seller"], deal=deal, **CONTRACT)
    session.commit()
    pdf = documents.confirmation_pdf(session, deal)
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]
    c = app.test_client()
    login(c, trade["buyers"][1])  # the winner
    r = c.get(f"/trade/deals/{deal.id}/evidence.zip")
    assert r.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    names = zf.namelist()
    assert all(part in names for part in documents.PARTS)
    log = json.loads(zf.read("3-竞价日志.json"))
    assert log["verification"]["ok"] and [e["price_wan"] for e in log["entries"]] == [100, 120]
    assert log["head_hash"] == deal.record_hash
    assert json.loads(zf.read("5-技术合同.json"))["技术交易额（万元）"] == 100
    assert zf.read("4-成交确认书.pdf").startswith(b"%PDF-")
    outsider = app.test_client()
    login(outsider, trade["buyers"][2])
    assert outsider.get(f"/trade/deals/{deal.id}/evidence.zip").status_code == 404
    assert app.test_client().get(f"/trade/deals/{deal.id}").status_code == 200  # 成交公示 is public


def test_deal_page_records_the_contract(app, session, trade):
    deal = sold_deal(session, trade)
    session.commit()
    c = app.test_client()
    login(c, trade["seller"])
    assert "录入技术合同" in c.get(f"/trade/deals/{deal.id}").get_data(as_text=True)
    data = {k: v for k, v in CONTRACT.items() if k != "signed_on"}
    data["signed_on"] = (date.today() - timedelta(days=1)).isoformat()
    r = c.post(f"/trade/deals/{deal.id}/contract", data={**data, "seller_uscc": "123"})
    assert r.status_code == 400 and "卖方的统一社会信用代码应为 18 位" in r.get_data(as_text=True)
    r = c.post(f"/trade/deals/{deal.id}/contract", data=data)
    assert r.status_code == 302
    assert session.exec(svc.select(Contract).where(Contract.deal_id == deal.id)).one().tech_amount_wan == 100


def test_a_contract_recorded_before_registration_fields_keeps_its_tech_amount(app, session, trade):
    """A contract recorded from a match has 技术交易额 but no cost: the form starts from the difference,
    so saving the registration data does not silently change the amount that counts."""
    contract = Contract(
        result_id=trade["result"].id,
        seller_org_id=trade["uni"].id,
        buyer_org_id=trade["buyers"][0].organization_id,
        contract_type="技术许可",
        amount_wan=120,
        tech_amount_wan=100,
        signed_on=date.today(),
    )
    session.add(contract)
    session.commit()
    c = app.test_client()
    login(c, trade["seller"])
    page = c.get(f"/contracts/{contract.id}/registration").get_data(as_text=True)
    assert 'name="non_tech_cost_wan" type="text" value="20"' in page
