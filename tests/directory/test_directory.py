"""Agency and broker directories: filters, pagination (on each database the suite runs on), profiles,
protected contacts, and bad filter values refused with the field named."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlmodel import select

from market.directory import service
from market.directory.models import AgencyProfile, BrokerCertificate, BrokerRequest
from market.errors import DomainError
from tests.directory.conftest import make_agency, make_broker
from tests.factories import login, make_listing, make_org


def names(page) -> list[str]:
    return [card.org.name for card in page.items]


def listed(session, **args) -> list[str]:
    return names(service.list_agencies(session, service.DirectoryFilters.parse(args)))


def test_only_verified_agencies_are_listed(session, agencies):
    found = listed(session)
    assert "未认证的技术转移机构" not in found
    assert len(found) == 4


@pytest.mark.parametrize(
    ("subtype", "name"),
    [
        ("区域", "滨海新区技术转移中心"),
        ("高校院所", "南开大学技术转移中心"),
        ("行业", "京津冀新能源汽车产业技术转移联盟"),
        ("服务", "河北知识产权运营服务中心"),
    ],
)
def test_subtype_filter(session, agencies, subtype, name):
    assert listed(session, subtype=subtype) == [name]


def test_region_filter_by_province_and_district(session, agencies):
    assert sorted(listed(session, region="120000")) == ["南开大学技术转移中心", "滨海新区技术转移中心"]
    assert listed(session, region="120104") == ["南开大学技术转移中心"]
    assert listed(session, region="130100") == ["河北知识产权运营服务中心"]
    assert listed(session, region="130000") == ["河北知识产权运营服务中心"]


def test_region_filter_uses_coarse_region_without_a_profile(session, agencies):
    make_agency(session, name="没有填写资料的北京机构", region="北京")
    assert "没有填写资料的北京机构" in listed(session, region="110000")
    assert "没有填写资料的北京机构" not in listed(session, region="110108")


def test_field_filter_second_level_matches_its_first_level_and_back(session, agencies):
    assert listed(session, field="储能") == ["滨海新区技术转移中心"]
    # the industry alliance lists the whole first level: it serves every second-level field in it
    assert listed(session, field="智能网联车") == ["京津冀新能源汽车产业技术转移联盟"]
    assert listed(session, field="新能源") == ["滨海新区技术转移中心"]


def test_filters_combine(session, agencies):
    assert listed(session, field="储能", region="120000", subtype="区域") == ["滨海新区技术转移中心"]
    assert listed(session, field="储能", region="110000") == []


def test_pagination_is_stable_and_complete(session, agencies):
    for i in range(45):
        make_agency(session, name=f"分页测试机构{i:02d}", region_code="120101", fields=["人工智能"])
    session.commit()
    seen: list[str] = []
    f = service.DirectoryFilters.parse({"field": "人工智能"})
    first = service.list_agencies(session, f)
    assert first.total == 45
    assert first.pages == 3
    for page in (1, 2, 3):
        f = service.DirectoryFilters.parse({"field": "人工智能", "page": str(page)})
        seen += names(service.list_agencies(session, f))
    assert seen == sorted(f"分页测试机构{i:02d}" for i in range(45))


def test_pagination_through_the_page(client, session, agencies):
    for i in range(25):
        make_agency(session, name=f"翻页机构{i:02d}", subtype="服务", region_code="120102")
    session.commit()
    page2 = client.get("/agencies?subtype=服务&page=2").get_data(as_text=True)
    assert "翻页机构24" in page2
    assert "翻页机构00" not in page2
    assert "第 2 / 2 页" in page2


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        ({"region": "999999"}, "region", "999999"),
        ({"region": "天津"}, "region", "GB/T 2260"),
        ({"region": "120199"}, "region", "120199"),
        ({"subtype": "投资"}, "subtype", "区域、高校院所、行业、服务"),
        ({"field": "炼金术"}, "field", "炼金术"),
        ({"page": "0"}, "page", "页码"),
        ({"page": "abc"}, "page", "页码"),
    ],
)
def test_bad_filter_values_are_refused_with_the_field_named(session, client, agencies, args, field, words):
    f = service.DirectoryFilters.parse(args)
    with pytest.raises(DomainError) as exc:
        service.list_agencies(session, f)
    assert [name for name, _ in exc.value.errors] == [field]
    assert words in exc.value.message
    for path in ("/agencies", "/brokers"):
        resp = client.get(path, query_string=args)
        assert resp.status_code == 400
        body = resp.get_data(as_text=True)
        assert f"参数 {field}" in body
        assert words in body


def test_agency_profile_shows_services_fields_and_brokers(client, session, agencies):
    org = agencies["regional"]
    make_broker(session, org=org, name="李储能")
    session.commit()
    body = client.get(f"/agencies/{org.id}").get_data(as_text=True)
    assert "技术评估、对接" in body
    assert "储能" in body
    assert "李储能" in body
    assert "天津市滨海新区" in body


def test_unverified_or_non_agency_profiles_are_404(client, session, agencies):
    assert client.get(f"/agencies/{agencies['unverified'].id}").status_code == 404
    uni = make_org(session, name="某大学", kind="高校")
    session.commit()
    assert client.get(f"/agencies/{uni.id}").status_code == 404


def test_agency_contact_is_protected(app, session, agencies, people):
    org = agencies["regional"]
    profile = session.exec(select(AgencyProfile).where(AgencyProfile.organization_id == org.id)).one()
    profile.contact_phone, profile.contact_email = "022-88880001", "contact@binhai-tt.example.cn"
    session.add(profile)
    session.commit()
    visitor = app.test_client().get(f"/agencies/{org.id}").get_data(as_text=True)
    assert "022-88880001" not in visitor
    ent = app.test_client()
    login(ent, people["ent"])
    assert "022-88880001" not in ent.get(f"/agencies/{org.id}").get_data(as_text=True)
    # once the agency accepted a request from the enterprise, the enterprise sees how to reach it
    need = make_listing(session, kind="need", org=session.get(type(org), people["ent"].organization_id))
    session.add(
        BrokerRequest(
            kind="need", listing_id=need.id, sender_id=people["ent"].id,
            sender_org_id=people["ent"].organization_id, agency_id=org.id, note="请帮忙", status="已接受",
        )
    )  # fmt: skip
    session.commit()
    assert "022-88880001" in ent.get(f"/agencies/{org.id}").get_data(as_text=True)


def test_agency_brokers_edit_its_profile_and_others_cannot(app, session, agencies, people):
    org = agencies["academic"]
    broker = make_broker(session, org=org)
    session.commit()
    c = app.test_client()
    login(c, broker)
    data = {"region_code": "120104", "fields": ["创新药物", "中药"], "services": "新药项目评估、许可谈判"}
    assert c.post(f"/agencies/{org.id}/edit", data=data).status_code == 302
    assert "新药项目评估" in c.get(f"/agencies/{org.id}").get_data(as_text=True)
    assert listed(session, field="中药") == ["南开大学技术转移中心"]
    other = app.test_client()
    login(other, people["agent"])  # a broker of another agency
    assert other.post(f"/agencies/{org.id}/edit", data=data).status_code == 403


def test_agency_profile_refuses_an_unknown_region_code(app, session, agencies):
    org = agencies["academic"]
    broker = make_broker(session, org=org)
    session.commit()
    c = app.test_client()
    login(c, broker)
    resp = c.post(f"/agencies/{org.id}/edit", data={"region_code": "129999", "fields": ["中药"]})
    assert resp.status_code == 400
    assert "129999" in resp.get_data(as_text=True)


def test_broker_list_filters_by_field_region_and_agency(session, agencies):
    a = make_broker(session, org=agencies["regional"], name="甲", fields=["储能"], region_code="120116")
    b = make_broker(session, org=agencies["academic"], name="乙", fields=["创新药物"], region_code="120104")
    make_broker(session, org=agencies["unverified"], name="丙", fields=["储能"])
    session.commit()

    def brokers(**args):
        page = service.list_brokers(session, service.DirectoryFilters.parse(args))
        return [card.user.id for card in page.items]

    assert brokers(field="储能") == [a.id]
    assert brokers(region="120104") == [b.id]
    assert brokers(agency=str(agencies["academic"].id)) == [b.id]
    assert set(brokers(region="120000")) == {a.id, b.id}


def test_certificates_show_only_once_an_admin_checked_them(app, session, agencies, people):
    broker = make_broker(session, org=agencies["regional"], name="证书经纪人")
    session.commit()
    c = app.test_client()
    login(c, broker)
    data = {"name": "技术经理人（中级）", "number": "TJ-2026-0042", "issuer": "中国技术市场协会"}
    assert c.post("/brokers/me/certificates", data=data).status_code == 302
    visitor = app.test_client()
    assert "TJ-2026-0042" not in visitor.get(f"/brokers/{broker.id}").get_data(as_text=True)
    assert "待核验" in c.get(f"/brokers/{broker.id}").get_data(as_text=True)  # the broker sees their own
    cert = session.exec(select(BrokerCertificate).where(BrokerCertificate.number == "TJ-2026-0042")).one()
    admin = app.test_client()
    login(admin, people["admin"])
    assert "TJ-2026-0042" in admin.get("/admin/certificates").get_data(as_text=True)
    refused = admin.post(f"/admin/certificates/{cert.id}", data={"verdict": "reject", "note": ""})
    assert refused.status_code == 303
    assert admin.post(f"/admin/certificates/{cert.id}", data={"verdict": "ok"}).status_code == 302
    page = visitor.get(f"/brokers/{broker.id}").get_data(as_text=True)
    assert "TJ-2026-0042" in page
    assert "平台已核验" in page
    session.expire_all()
    with pytest.raises(DomainError):  # a checked certificate is not checked again
        service.check_certificate(
            session, actor=people["admin"], cert=session.get(BrokerCertificate, cert.id), verdict="ok"
        )


@contextmanager
def counted(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_the_directory_lists_cost_the_same_queries_whatever_their_length(client, session, engine, agencies):
    def queries(path: str) -> int:
        with counted(engine) as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    make_broker(session, org=agencies["regional"], fields=["储能"])
    session.commit()
    few = (queries("/agencies"), queries("/brokers"))
    for i in range(15):
        org = make_agency(session, name=f"计数机构{i:02d}", region_code="120101", fields=["人工智能", "储能"])
        make_broker(session, org=org, fields=["储能"], region_code="120101")
    session.commit()
    assert (queries("/agencies"), queries("/brokers")) == few


def test_an_agency_page_costs_the_same_queries_with_more_brokers(client, session, engine, agencies):
    org = agencies["regional"]
    make_broker(session, org=org)
    session.commit()
    with counted(engine) as one:
        assert client.get(f"/agencies/{org.id}").status_code == 200
    for _ in range(6):
        make_broker(session, org=org)
    session.commit()
    with counted(engine) as seven:
        body = client.get(f"/agencies/{org.id}").get_data(as_text=True)
    assert body.count("对接 0 次") == 7
    assert len(seven) == len(one)
