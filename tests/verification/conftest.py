"""Verification fixtures: an unverified enterprise and university with a member each, an admin, and
certificate scans (a PDF, a real PNG and JPEG drawn with Pillow, and things that only look like them)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.factories import make_org, make_user

#: valid 统一社会信用代码 (GB 32100-2015 check characters)
ENT_CODE = "91120116MA05JXXX1G"
UNI_CODE = "121200004013593211"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def orgs(session):
    ent_org = make_org(session, name="津南新材料科技有限公司", kind="企业", verified=False)
    uni_org = make_org(session, name="津门理工学院", kind="高校", verified=False)
    people = {
        "ent": make_user(session, role="enterprise", org=ent_org),
        "ent2": make_user(session, role="enterprise", org=ent_org),
        "uni": make_user(session, role="university", org=uni_org),
        "admin": make_user(session, role="admin"),
        "ent_org": ent_org,
        "uni_org": uni_org,
    }
    session.commit()
    return people
