"""Demo pictures, a PDF attachment and a message thread: generated images (Pillow, no downloads) on a few
results, a generated PDF (ReportLab, invariant mode: the same bytes every time) on the first of them, and
a conversation on the first introduced match between members of its two sides. Idempotent."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from sqlmodel import Session, select

from market.accounts.models import User
from market.listings.models import ResearchResult
from market.matches.models import Match
from market.matches.queries import one
from market.media import attachments
from market.media import service as media
from market.media.models import ListingFile, ListingImage
from market.messages import service as messages
from market.messages.models import Message
from vocab.taxonomy import ListingStatus, Role

PALETTE = ((24, 90, 160), (200, 90, 40), (40, 140, 90), (120, 60, 150))
CAPTIONS = ("实验装置照片（演示图）", "样品与测试曲线（演示图）")
FONT = "STSong-Light"  # ReportLab's built-in Adobe CID font: Chinese without a font file
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
ATTACHMENT = ("成果简介与测试数据摘要（演示文件）", "演示用的 PDF 附件：成果概况、主要指标和中试数据摘要。")
PDF_LINES = (
    "成果简介与测试数据摘要",
    "（演示数据，由平台演示程序生成，内容为虚构）",
    "",
    "一、成果概况：面向新能源汽车的宽温域储能材料，已完成中试。",
    "二、主要指标：零下 30 ℃ 容量保持率 85%，循环 2000 次后容量保持率 90%。",
    "三、合作方式：技术许可、联合开发；可提供 5 公斤样品用于测试。",
)
THREAD = (
    ("result", "您好，我们是成果方。附上中试数据摘要，欢迎提出测试需求。"),
    ("need", "谢谢！我们想先拿 5 公斤样品做装车前的低温测试，方便吗？"),
    ("result", "可以，两周内寄出，测试报告请同步给我们。"),
)


def picture(seed: int, size=(960, 640)) -> bytes:
    """A deterministic demo picture: bands and circles in one of four colours, as PNG."""
    colour = PALETTE[seed % len(PALETTE)]
    img = Image.new("RGB", size, tuple(min(255, c + 120) for c in colour))
    draw = ImageDraw.Draw(img)
    for i in range(6):
        y = 40 + i * 95
        draw.rectangle((40, y, size[0] - 40, y + 50), fill=tuple(max(0, c - i * 12) for c in colour))
    draw.ellipse((size[0] - 300, 120, size[0] - 80, 340), outline=(255, 255, 255), width=8)
    out = BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def demo_pdf(title: str = PDF_LINES[0]) -> bytes:
    """A deterministic one-page demo PDF (ReportLab's invariant mode fixes its dates and ids)."""
    out = BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle(title)
    pdf.setFont(FONT, 18)
    pdf.drawString(72, 770, PDF_LINES[0])
    pdf.setFont(FONT, 11)
    for i, line in enumerate(PDF_LINES[1:]):
        pdf.drawString(72, 740 - i * 22, line)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _owner(session: Session, result: ResearchResult) -> User | None:
    return session.exec(
        select(User).where(User.organization_id == result.organization_id, User.role == Role.UNIVERSITY)
    ).first()


def load(session: Session) -> dict[str, int]:
    added = {"images": 0, "files": 0, "messages": 0}
    if session.exec(select(ListingImage.id).limit(1)).first() is None:
        results = session.exec(
            select(ResearchResult)
            .where(ResearchResult.status == ListingStatus.PUBLISHED)
            .order_by(ResearchResult.id)
            .limit(3)
        ).all()
        for n, result in enumerate(results):
            owner = session.exec(
                select(User).where(
                    User.organization_id == result.organization_id, User.role == Role.UNIVERSITY
                )
            ).first()
            if owner is None:
                continue
            for k, caption in enumerate(CAPTIONS):
                media.add(session, actor=owner, listing=result, data=picture(n * 2 + k), alt=caption)
                added["images"] += 1
    if session.exec(select(ListingFile.id).limit(1)).first() is None:
        for result in session.exec(
            select(ResearchResult)
            .where(ResearchResult.status == ListingStatus.PUBLISHED)
            .order_by(ResearchResult.id)
            .limit(3)
        ).all():
            owner = _owner(session, result)
            if owner is None:
                continue
            title, description = ATTACHMENT
            attachments.add(
                session,
                actor=owner,
                listing=result,
                data=demo_pdf(),
                name="成果简介.pdf",
                title=title,
                description=description,
            )
            added["files"] += 1
            break
    if session.exec(select(Message.id).limit(1)).first() is None:
        for match_id in session.exec(
            select(Match.id).where(Match.introduced_at.is_not(None)).order_by(Match.id).limit(20)
        ).all():
            row = one(session, match_id)
            sides = {
                "result": session.exec(
                    select(User).where(
                        User.organization_id == row.result.organization_id, User.role == Role.UNIVERSITY
                    )
                ).first(),
                "need": session.exec(
                    select(User).where(
                        User.organization_id == row.need.organization_id, User.role == Role.ENTERPRISE
                    )
                ).first(),
            }
            if None in sides.values():
                continue
            for side, text in THREAD:
                messages.send(session, actor=sides[side], row=row, body=text)
                added["messages"] += 1
            break
    session.flush()
    return added
