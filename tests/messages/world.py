"""The 消息 part of tests/security/support.py's world: a message with a PDF on the introduced match
(uni ↔ ent), and a report on the signed one (so administrators may read that thread)."""

from __future__ import annotations

from pathlib import Path

from market.messages.models import Message, ThreadReport

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def messages_world(app, session, people, *, introduced, signed) -> dict[str, int]:
    folder = Path(app.config["UPLOAD_DIR"]) / "messages"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matrix-message.pdf").write_bytes(PDF)
    uni = people["uni"]
    message = Message(
        match_id=introduced.id,
        sender_id=uni.id,
        sender_org_id=uni.organization_id,
        body="矩阵中的对接消息",
        file_key="messages/matrix-message.pdf",
        file_name="技术方案.pdf",
        file_mimetype="application/pdf",
        file_size=len(PDF),
    )
    session.add(message)
    session.add(ThreadReport(match_id=signed.id, reporter_id=people["ent"].id, reason="矩阵中的举报"))
    session.flush()
    return {"message": message.id}
