"""The financing part of tests/security/support.py's world: requests of 天津大学 in three states, a file."""

from __future__ import annotations

from pathlib import Path

from market.financing.models import DataRoomFile
from tests.financing.conftest import PDF, make_request


def financing_world(app, session, uni_org, uni) -> dict[str, int]:
    published = make_request(session, org=uni_org, user=uni, title="矩阵中的已发布融资需求")
    draft = make_request(session, org=uni_org, user=uni, status="草稿", title="矩阵中的融资草稿")
    pending = make_request(session, org=uni_org, user=uni, status="待审核", title="矩阵中的待审融资")
    folder = Path(app.config["UPLOAD_DIR"]) / "dataroom"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matrix-plan.pdf").write_bytes(PDF)
    file = DataRoomFile(
        request_id=published.id,
        name="商业计划书.pdf",
        category="商业计划书",
        storage_key="dataroom/matrix-plan.pdf",
        mimetype="application/pdf",
        size=len(PDF),
    )
    session.add(file)
    session.flush()
    return {"fin": published.id, "fin_draft": draft.id, "fin_pending": pending.id, "fin_file": file.id}
