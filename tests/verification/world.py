"""The verification part of tests/security/support.py's world: a pending application with its file."""

from __future__ import annotations

from pathlib import Path

from market.verification.models import OrgVerification
from tests.factories import make_org, make_user
from tests.verification.conftest import ENT_CODE, PDF


def verification_world(app, session) -> dict[str, int]:
    org = make_org(session, name="矩阵中待认证的科技公司", kind="企业", verified=False)
    member = make_user(session, role="enterprise", org=org)
    folder = Path(app.config["UPLOAD_DIR"]) / "verifications"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matrix-licence.pdf").write_bytes(PDF)
    row = OrgVerification(
        organization_id=org.id,
        submitted_by_id=member.id,
        credit_code=ENT_CODE,
        document_kind="营业执照",
        document_key="verifications/matrix-licence.pdf",
        document_mimetype="application/pdf",
        document_name="营业执照.pdf",
        document_bytes=len(PDF),
    )
    session.add(row)
    session.flush()
    return {"verification": row.id}
