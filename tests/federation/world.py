"""互联互通's part of the security matrix's World: a partner platform and one record harvested from it."""

from __future__ import annotations

from market.federation.models import LinkedRecord, Partner


def federation_world(session) -> dict:
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
    return {"partner": partner.id, "linked": record.id}
