"""Through the API, a material edit of a published listing says that it went to review: 202 with the
published content unchanged and the edit in `pending_revision`; the owner's GET shows it (others never
see the key); the OpenAPI document describes it, and every write operation's request body."""

from __future__ import annotations

import re

from market.api.openapi import openapi_document
from tests.factories import RESULT, publish
from tests.test_api import API_RESULT, bearer, make_token

NEW_TITLE = "宽温域锂离子电池电解液（第二代）"


def _body(listing, **changes) -> dict:
    return {**API_RESULT, "title": listing.title, "version": listing.version, **changes}


def _same_body(current: dict, **changes) -> dict:
    """The listing as read, as a PUT body (the writable fields only), with `changes`."""
    allowed = openapi_document()["components"]["schemas"]["ResultInUpdate"]["properties"]
    return {k: v for k, v in current.items() if k in allowed and v is not None} | changes


def test_a_material_api_edit_answers_202_with_the_pending_revision(app, session, people, clients) -> None:
    listing = publish(app, session, people, data={**RESULT})
    token = bearer(make_token(app, people["uni"]))
    api = app.test_client()
    old = api.get(f"/api/v1/results/{listing.id}", headers=token).get_json()
    assert old["pending_revision"] is None
    assert "pending_revision" not in app.test_client().get(f"/api/v1/results/{listing.id}").get_json()

    resp = api.put(
        f"/api/v1/results/{listing.id}",
        json=_body(listing, version=old["version"], title=NEW_TITLE),
        headers=token,
    )
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["title"] == RESULT["title"]  # the published version stays
    pending = body["pending_revision"]
    assert pending["status"] == "待审核"
    assert {"field": "title", "label": "名称", "before": RESULT["title"], "after": NEW_TITLE} in pending[
        "changes"
    ]

    # the owner's GET shows it (also with the site's cookie); the public and another organisation do not
    mine = api.get(f"/api/v1/results/{listing.id}", headers=token).get_json()
    assert mine["pending_revision"]["id"] == pending["id"] and mine["title"] == RESULT["title"]
    assert (
        clients["uni2"].get(f"/api/v1/results/{listing.id}").get_json()["pending_revision"]["id"]
        == pending["id"]
    )
    public = app.test_client().get(f"/api/v1/results/{listing.id}").get_json()
    assert "pending_revision" not in public and public["title"] == RESULT["title"]
    other = bearer(make_token(app, people["other_uni"], "其他"))
    assert "pending_revision" not in api.get(f"/api/v1/results/{listing.id}", headers=other).get_json()

    # approved: the listing takes the edit, nothing pending any more
    assert (
        clients["admin"].post(f"/admin/revisions/{pending['id']}", data={"decision": "approve"}).status_code
        == 302
    )
    after = api.get(f"/api/v1/results/{listing.id}", headers=token).get_json()
    assert after["title"] == NEW_TITLE and after["pending_revision"] is None


def test_a_minor_api_edit_applies_at_once_with_200(app, session, people) -> None:
    listing = publish(app, session, people, data={**RESULT})
    token = bearer(make_token(app, people["uni"]))
    api = app.test_client()
    current = api.get(f"/api/v1/results/{listing.id}", headers=token).get_json()
    resp = api.put(
        f"/api/v1/results/{listing.id}",
        json=_same_body(current, keywords=["锂电", "低温", "电解液"]),
        headers=token,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["keywords"] == ["锂电", "低温", "电解液"]
    assert resp.get_json()["pending_revision"] is None


def test_the_document_describes_the_pending_revision() -> None:
    doc = openapi_document()
    for kinds in ("results", "needs"):
        put = doc["paths"][f"/api/v1/{kinds}/{{listing_id}}"]["put"]
        assert "202" in put["responses"] and "pending_revision" in put["description"]
    listing = doc["components"]["schemas"]["Listing"]["properties"]
    assert listing["pending_revision"]["anyOf"][0] == {"$ref": "#/components/schemas/PendingRevision"}
    assert "changes" in doc["components"]["schemas"]["PendingRevision"]["required"]


#: write operations that take no body (documented as such)
NO_BODY = {("post", "/api/v1/results/{listing_id}/submit"), ("post", "/api/v1/needs/{listing_id}/submit")}


def test_every_api_write_documents_its_request_body(app) -> None:
    doc = openapi_document()
    writes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            for kinds in ("results", "needs"):
                path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.replace("<kind:kind>", kinds))
                writes.add((method.lower(), path))
    assert writes, "the API has write routes"
    for method, path in sorted(writes):
        op = doc["paths"].get(path, {}).get(method)
        assert op is not None, f"{method.upper()} {path} is not documented"
        if (method, path) in NO_BODY:
            assert "requestBody" not in op and "无请求体" in op["description"]
            continue
        body = op.get("requestBody")
        assert body and body["required"], f"{method.upper()} {path} has no requestBody"
        ref = body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        schema = doc["components"]["schemas"][ref]
        assert schema["properties"] and all(
            "description" in p or "$ref" in p for p in schema["properties"].values()
        ), ref
    docs = app.test_client().get("/api/v1/docs").get_data(as_text=True)
    assert docs.count("请求体 ResultIn") == 2 and docs.count("请求体 NeedIn") == 2
