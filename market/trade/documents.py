"""The 成交确认书 (PDF) and the evidence pack (ZIP) of a deal.

The PDF uses ReportLab's built-in Adobe CID font STSong-Light for Chinese, so no font file ships with
the site and none is embedded. Both documents are rebuilt from the stored, append-only records on
each download, so they always show exactly what the database holds.
"""

from __future__ import annotations

import io
import json
import zipfile

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from sqlmodel import Session, select

from market.accounts.models import Organization
from market.deals import service as deals
from market.deals.models import Contract
from market.trade import closing
from market.trade import registration as reg
from market.trade import service as svc
from market.trade.models import Auction, Publicity, Route, SaleListing, TradeDeal

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

#: the five parts of an evidence pack, in order
PARTS = (
    "1-公示或挂牌记录.json",
    "2-异议与裁定.json",
    "3-竞价日志.json",
    "4-成交确认书.pdf",
    "5-技术合同.json",
)


def confirmation_lines(session: Session, deal: TradeDeal) -> list[tuple[str, str]]:
    seller = session.get(Organization, deal.seller_org_id)
    buyer = session.get(Organization, deal.buyer_org_id)
    basis = {
        Route.AGREED_PUBLICITY: f"协议定价，经公示 #{deal.publicity_id} 期满无异议",
        Route.LISTED_AGREED: f"挂牌 #{deal.listing_id} 公告期满，仅一家合格意向受让方，按挂牌价协议成交",
        Route.LISTED_AUCTION: f"挂牌 #{deal.listing_id} 经网络竞价 #{deal.auction_id}，最高有效出价成交",
    }.get(deal.route, deal.route)
    hash_label = "竞价日志链头哈希（SHA-256）" if deal.auction_id else "公示/挂牌记录哈希（SHA-256）"
    return [
        ("成交编号", f"#{deal.id}"),
        ("成果名称", deal.title),
        ("转让方（成果方）", seller.name if seller else ""),
        ("受让方", buyer.name if buyer else ""),
        ("转化方式", deal.mode),
        ("成交价格", f"{deal.price_wan:g} 万元"),
        ("定价方式", deal.route),
        ("定价依据", basis),
        ("成交时间", svc._iso(deal.created_at) or ""),
        (hash_label, deal.record_hash),
    ]


def confirmation_pdf(session: Session, deal: TradeDeal) -> bytes:
    """成交确认书: the parties, the price, the route taken and the hash of the record that priced it."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"成交确认书 #{deal.id}")
    pdf.setAuthor("科技成果转化交易平台")
    width, height = A4
    y = height - 30 * mm
    pdf.setFont(FONT, 20)
    pdf.drawCentredString(width / 2, y, "成交确认书")
    y -= 16 * mm
    for label, value in confirmation_lines(session, deal):
        pdf.setFont(FONT, 11)
        pdf.drawString(25 * mm, y, f"{label}：")
        text = str(value)
        # hashes and long names wrap at a fixed width (CID fonts measure every character alike enough)
        chunk = 32 if len(text) == 64 else 30
        pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)] or [""]
        for piece in pieces:
            pdf.drawString(70 * mm, y, piece)
            y -= 7 * mm
        y -= 2 * mm
    y -= 6 * mm
    pdf.setFont(FONT, 10)
    for line in (
        "本确认书依据平台按服务器时间记录、只增不改的公示、异议裁定、挂牌与竞价记录生成。",
        "依《促进科技成果转化法》第十八条，上述定价方式为法定定价方式之一；",
        "双方应据此签订技术合同，并向卖方所在地技术合同登记机构申请认定登记。",
        "平台只记录保证金到账情况，不代收、不保管任何款项。",
    ):
        pdf.drawString(25 * mm, y, line)
        y -= 6 * mm
    y -= 14 * mm
    pdf.setFont(FONT, 11)
    pdf.drawString(25 * mm, y, "转让方（盖章）：")
    pdf.drawString(110 * mm, y, "受让方（盖章）：")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


def evidence_parts(session: Session, deal: TradeDeal) -> dict[str, bytes]:
    """The five parts: 公示/挂牌 record, objections and rulings, bid log, confirmation, contract."""
    parts: dict[str, bytes] = {}
    if deal.publicity_id:
        pub = session.get(Publicity, deal.publicity_id)
        record = svc.publicity_record(session, pub)
        objections = {"公示编号": pub.id, "异议与裁定": record["异议"]}
        record = {"定价方式": deal.route, "公示记录": record, "记录哈希（SHA-256）": deal.record_hash}
    else:
        listing = session.get(SaleListing, deal.listing_id) if deal.listing_id else None
        record = {
            "定价方式": deal.route,
            "挂牌记录": closing.listing_record(session, listing) if listing else None,
            "记录哈希（SHA-256）": deal.record_hash,
        }
        objections = {
            "说明": "本成交经挂牌交易定价，未经协议定价公示，故无公示异议；资格审核结果见第 1 部分",
            "异议与裁定": [],
        }
    parts[PARTS[0]] = _json(record)
    parts[PARTS[1]] = _json(objections)
    auction = session.get(Auction, deal.auction_id) if deal.auction_id else None
    if auction is not None:
        check = svc.verify_auction(session, auction)
        log = svc.log_json(session, auction)
        log["verification"] = {"ok": check.ok, "entries": check.entries, "broken_at": check.broken_at}
        parts[PARTS[2]] = _json(log)
    else:
        parts[PARTS[2]] = _json(
            {"说明": "本成交未经竞价（协议定价公示或挂牌协议成交），竞价日志为空", "entries": []}
        )
    parts[PARTS[3]] = confirmation_pdf(session, deal)
    contract = session.exec(select(Contract).where(Contract.deal_id == deal.id)).first()
    if contract is None:
        parts[PARTS[4]] = _json({"说明": "尚未录入技术合同", "成交编号": deal.id})
    else:
        parts[PARTS[4]] = _json(
            {
                "合同编号": contract.id,
                "合同名称": contract.title,
                "合同类型": contract.contract_type,
                "签订日期": contract.signed_on,
                "成交额（万元）": contract.amount_wan,
                "非技术性费用（万元）": contract.non_tech_cost_wan,
                "技术交易额（万元）": contract.tech_amount_wan,
                "卖方统一社会信用代码": contract.seller_uscc,
                "买方统一社会信用代码": contract.buyer_uscc,
                "卖方行政区划代码": contract.seller_region_code,
                "买方行政区划代码": contract.buyer_region_code,
                "认定登记号": contract.registration_no,
                "登记日期": contract.registered_on,
                "分期付款": [
                    {"期次": i.seq, "金额（万元）": i.amount_wan, "到期日": i.due_on, "收款日": i.paid_on}
                    for i in reg.instalments(session, contract.id)
                ],
            }
        )
        pdf = deals.pdf_bytes(contract)
        if pdf is not None:
            parts["5-技术合同文本.pdf"] = pdf
    return parts


def evidence_zip(session: Session, deal: TradeDeal) -> bytes:
    parts = evidence_parts(session, deal)
    manifest = {
        "成交编号": deal.id,
        "成果名称": deal.title,
        "定价方式": deal.route,
        "成交价格（万元）": deal.price_wan,
        "记录哈希（SHA-256）": deal.record_hash,
        "内容": list(parts),
        "校验方法": "竞价日志每条的 hash 为其规范 JSON 的 SHA-256，含前一条的 hash；"
        "可用 flask trade verify <竞价编号> 或 GET /api/v1/auctions/<编号>/log 复核",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("清单.json", _json(manifest))
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()
