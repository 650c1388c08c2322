"""互联互通's part of the security matrix's World: a partner platform, one record harvested from it, and
an introduction it asked of the university's published result."""

from __future__ import annotations

from market.federation.models import IncomingIntroduction, LinkedRecord, Partner


def federation_world(session, *, result) -> dict:
    partner = Partner(name="矩阵合作平台", base_url="http://127.0.0.1:9", prefix="MXP", harvest_token="t")
    session.add(partner)
    session.flush()
    record = LinkedRecord(
        partner_id=partner.id,
        identifier="MXP.result.1",
        kind="result",
        title="合作平台的矩阵成果",
        summary="关联展示",
        provider="北京某大学",
        url="https://bj.example.cn/results/1",
    )
    session.add(record)
    session.flush()
    incoming = IncomingIntroduction(
        partner_id=partner.id,
        request_id="matrix-request-0001",
        kind="result",
        listing_id=result.id,
        from_identifier="MXP.need.9",
        from_title="合作平台的矩阵需求",
        message="请引荐双方对接",
    )
    session.add(incoming)
    session.flush()
    return {"partner": partner.id, "linked": record.id, "incoming": incoming.id}
