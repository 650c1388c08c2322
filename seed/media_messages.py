"""Demo pictures and a message thread: generated images (Pillow, no downloads) on a few results, and a
conversation on the first introduced match between members of its two sides. Idempotent."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageDraw
from sqlmodel import Session, select

from market.accounts.models import User
from market.listings.models import ResearchResult
from market.matches.models import Match
from market.matches.queries import one
from market.media import service as media
from market.media.models import ListingImage
from market.messages import service as messages
from market.messages.models import Message
from vocab.taxonomy import ListingStatus, Role

PALETTE = ((24, 90, 160), (200, 90, 40), (40, 140, 90), (120, 60, 150))
CAPTIONS = ("实验装置照片（演示图）", "样品与测试曲线（演示图）")
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


def load(session: Session) -> dict[str, int]:
    added = {"images": 0, "messages": 0}
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
