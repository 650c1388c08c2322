"""The exact requests the Meilisearch engine sends, checked against a fake server.

`RecordingFakeMeili` is NOT Meilisearch: it is a tiny HTTP server on 127.0.0.1 that records every
request and answers with canned, Meilisearch-shaped responses, so these tests pin down the payloads
(settings, documents, search, swap, keys) without a live server. Behaviour against a real server is
covered by the contract suite when MEILI_URL is set.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from search import make_engine
from search.base import EngineUnavailable, QueryError, SearchQuery
from search.meili import POST, PRE, MeiliEngine, filter_expression, index_settings
from tests.search.fixtures import fixture_docs
from vocab.analyzer import SYNONYMS

STAMP = "2024-05-01T00:00:00.000000Z"
TASK = {
    "taskUid": 41,
    "indexUid": "listings",
    "status": "enqueued",
    "type": "x",
    "enqueuedAt": "2024-05-01T00:00:00.000000Z",
}
SEARCH_RESPONSE = {
    "hits": [
        {
            "id": "result-34",
            "kind": "result",
            "db_id": 34,
            "external_id": "R2024034",
            "title": "<script>alert('x')</script>网页安全过滤组件",
            "body": "一种防止跨站脚本攻击的网页输入过滤组件",
            "keywords": ["网络安全"],
            "org_name": "天津大学",
            "field": "网络安全",
            "field_top": "新一代信息技术",
            "maturity": "产业化",
            "modes": ["技术许可"],
            "region": "天津",
            "is_challenge": False,
            "price_low": 20.0,
            "price_high": 20.0,
            "published_at": 1700000000,
            "_formatted": {
                "title": f"<script>alert('x')</script>{PRE}网页{POST}安全过滤组件",
                "body": f"…防止跨站<b>脚本</b>攻击的{PRE}网页{POST}输入{PRE}过滤…",
            },
            "_rankingScore": 0.87,
        }
    ],
    "query": "网页",
    "processingTimeMs": 1,
    "hitsPerPage": 20,
    "page": 1,
    "totalPages": 1,
    "totalHits": 1,
    "facetDistribution": {"region": {"天津": 1}, "is_challenge": {"false": 1}},
}


class RecordingFakeMeili(ThreadingHTTPServer):
    """A fake Meilisearch: records (method, path, body) and returns canned responses."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, Any]] = []
        self.indexes: set[str] = set()
        self.keys: list[dict[str, Any]] = []
        self.search_response: dict[str, Any] = SEARCH_RESPONSE
        self.fail_with: tuple[int, dict[str, Any]] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def bodies(self, method: str, pattern: str) -> list[Any]:
        return [body for m, path, body in self.requests if m == method and re.fullmatch(pattern, path)]


class _Handler(BaseHTTPRequestHandler):
    server: RecordingFakeMeili

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        path = self.path.split("?")[0]
        self.server.requests.append((method, path, body))
        if self.server.fail_with is not None:
            self._answer(*self.server.fail_with)
            return
        index = re.fullmatch(r"/indexes/([^/]+)", path)
        if path == "/health":
            self._answer(200, {"status": "available"})
        elif method == "GET" and path == "/indexes":
            results = [{"uid": uid, "primaryKey": "id"} for uid in sorted(self.server.indexes)]
            self._answer(200, {"results": results, "offset": 0, "limit": 1000, "total": len(results)})
        elif method == "GET" and index:
            if index.group(1) in self.server.indexes:
                self._answer(
                    200, {"uid": index.group(1), "primaryKey": "id", "createdAt": STAMP, "updatedAt": STAMP}
                )
            else:
                self._answer(
                    404,
                    {
                        "message": "not found",
                        "code": "index_not_found",
                        "type": "invalid_request",
                        "link": "x",
                    },
                )
        elif method == "POST" and path == "/indexes":
            self.server.indexes.add(body["uid"])
            self._answer(202, TASK)
        elif method == "DELETE" and index:
            self.server.indexes.discard(index.group(1))
            self._answer(202, TASK)
        elif method == "GET" and (m := re.fullmatch(r"/tasks/(\d+)", path)):
            self._answer(200, {**TASK, "uid": int(m.group(1)), "status": "succeeded"})
        elif method == "POST" and path.endswith("/search"):
            self._answer(200, self.server.search_response)
        elif method == "GET" and path == "/keys":
            self._answer(
                200, {"results": self.server.keys, "offset": 0, "limit": 1000, "total": len(self.server.keys)}
            )
        elif method == "POST" and path == "/keys":
            key = {
                "uid": "k-1", "key": "search-only-123", "name": None, "createdAt": "2024-05-01T00:00:00.000000Z",
                "updatedAt": None, **body,
            }  # fmt: skip
            self.server.keys.append(key)
            self._answer(201, key)
        else:
            self._answer(202, TASK)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


@pytest.fixture
def fake() -> Iterator[RecordingFakeMeili]:
    server = RecordingFakeMeili()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def meili(fake: RecordingFakeMeili) -> MeiliEngine:
    engine = make_engine(fake.url, api_key="master-key", timeout=2)
    assert isinstance(engine, MeiliEngine)
    return engine


def test_settings_payload(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    assert meili.apply_settings() == 41
    assert meili.apply_settings() == 41  # the second time the index exists: settings only
    (created,) = fake.bodies("POST", "/indexes")
    assert created == {"uid": "listings", "primaryKey": "id"}
    settings, again = fake.bodies("PATCH", "/indexes/listings/settings")
    assert settings == again
    assert settings == index_settings()
    assert settings["searchableAttributes"][0] == "title"
    assert settings["searchableAttributes"].index("keywords") < settings["searchableAttributes"].index("body")
    assert set(settings["filterableAttributes"]) >= {
        "kind",
        "field",
        "field_top",
        "maturity",
        "modes",
        "region",
        "is_challenge",
        "price_low",
        "price_high",
    }
    assert set(settings["sortableAttributes"]) == {"published_at", "price_low", "stale"}
    # lapsed listings (待更新) break relevance ties last, through a custom ranking rule
    assert settings["rankingRules"][-1] == "stale:asc"
    assert settings["localizedAttributes"] == [
        {"attributePatterns": settings["searchableAttributes"], "locales": ["zho"]}
    ]
    assert settings["typoTolerance"]["minWordSizeForTypos"]["oneTypo"] >= 5
    assert "grams" not in settings["displayedAttributes"]
    assert not any(a.startswith("contact") for a in settings["displayedAttributes"])
    # index creation is enqueued before the settings, the settings before any document
    order = [(m, p) for m, p, _ in fake.requests]
    assert order[:3] == [
        ("GET", "/indexes/listings"),
        ("POST", "/indexes"),
        ("PATCH", "/indexes/listings/settings"),
    ]


def test_synonyms_go_both_ways(meili: MeiliEngine) -> None:
    synonyms = index_settings()["synonyms"]
    assert "人工智能" in synonyms["ai"] and "ai" in synonyms["人工智能"]
    assert "锂离子电池" in synonyms["锂电"] and "锂电" in synonyms["锂离子电池"]
    for word, others in synonyms.items():
        for other in others:
            assert word in synonyms[other], (word, other)
    for variant, canon in SYNONYMS.items():
        if variant != canon:
            assert canon in synonyms[variant]


def test_document_payload_has_no_contact_keys(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    doc = dict(fixture_docs()[4], contact_phone="13800138000", contact_name="王工", secret_note="内部")
    assert meili.upsert([doc]) == 41
    ((path_body),) = fake.bodies("POST", "/indexes/listings/documents")
    (sent,) = path_body
    assert not any(k.startswith("contact") for k in sent)
    assert "secret_note" not in sent
    assert "13800138000" not in json.dumps(sent, ensure_ascii=False)
    assert sent["id"] == "result-5" and sent["kind"] == "result"
    # a listing without a price has no price keys at all, so sorting by price puts it last
    assert "price_low" not in sent and "price_high" not in sent
    assert "电池" in sent["grams"].split()


def test_delete_and_clear_payloads(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    assert meili.delete(["result-1", "need-2"]) == 41
    assert fake.bodies("POST", "/indexes/listings/documents/delete-batch") == [["result-1", "need-2"]]
    assert meili.delete([]) is None
    assert meili.clear() == 41
    assert [(m, p) for m, p, _ in fake.requests][-1] == ("DELETE", "/indexes/listings/documents")
    assert meili.task_status(41) == "succeeded"


def test_search_payload(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    q = SearchQuery(
        text="锂电池 储能",
        kind="result",
        filters={"field": ['储能"或 1=1', "氢能"], "modes": ["技术许可"], "region": ["天津\\"]},
        challenge=False,
        price_min=10,
        price_max=99.5,
        sort="price_asc",
        page=3,
        per_page=15,
        facets=("field", "region"),
    )
    meili.query(q)
    (body,) = fake.bodies("POST", "/indexes/listings/search")
    assert body["q"] == "锂电池 储能"
    assert body["filter"] == (
        'kind = "result" AND field IN ["储能\\"或 1=1", "氢能"] AND modes IN ["技术许可"] '
        'AND region IN ["天津\\\\"] AND is_challenge = false AND price_high >= 10 AND price_low <= 99.5'
    )
    assert body["facets"] == ["field", "region"]
    assert body["sort"] == ["price_low:asc"]
    assert body["page"] == 3 and body["hitsPerPage"] == 15
    assert "limit" not in body and "offset" not in body
    assert body["attributesToHighlight"] == ["title"]
    assert body["attributesToCrop"] == ["body"]
    assert body["highlightPreTag"] == PRE and body["highlightPostTag"] == POST
    assert body["matchingStrategy"] == "all"


def test_empty_text_sorts_newest(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    meili.query(SearchQuery())
    (body,) = fake.bodies("POST", "/indexes/listings/search")
    assert body["q"] == "" and body["sort"] == ["stale:asc", "published_at:desc"] and "filter" not in body


def test_zero_hits_retries_with_fewer_words(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    fake.search_response = {**SEARCH_RESPONSE, "hits": [], "totalHits": 0, "facetDistribution": {}}
    meili.query(SearchQuery(text="钙钛矿 小麦"))
    strategies = [b["matchingStrategy"] for b in fake.bodies("POST", "/indexes/listings/search")]
    assert strategies == ["all", "last"]


def test_filter_expression_escapes_quotes_and_backslashes() -> None:
    q = SearchQuery(filters={"region": ['a"b\\c']})
    assert filter_expression(q) == 'region IN ["a\\"b\\\\c"]'
    assert filter_expression(SearchQuery()) is None


def test_results_are_html_safe(meili: MeiliEngine) -> None:
    result = meili.query(SearchQuery(text="网页"))
    (hit,) = result.hits
    assert hit.title == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<mark>网页</mark>安全过滤组件"
    assert hit.snippet == "…防止跨站&lt;b&gt;脚本&lt;/b&gt;攻击的<mark>网页</mark>输入<mark>过滤…</mark>"
    assert hit.db_id == 34 and hit.score == 0.87 and hit.fields["region"] == "天津"
    assert result.facets["region"] == {"天津": 1}
    assert result.facets["field"] == {}  # requested by default, absent from the response
    assert result.total == 1 and result.engine == "meilisearch"


def test_rebuild_builds_new_index_then_swaps(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    fake.indexes.update({"listings", "listings_rebuild_1"})  # the live index and an old leftover
    report = meili.rebuild(iter(fixture_docs()), batch_size=25)
    assert report["indexed"] == 60
    created = fake.bodies("POST", "/indexes")
    tmp = created[0]["uid"]
    assert tmp.startswith("listings_rebuild_")
    assert fake.bodies("PATCH", f"/indexes/{tmp}/settings") == [index_settings()]
    batches = fake.bodies("POST", f"/indexes/{tmp}/documents")
    assert [len(b) for b in batches] == [25, 25, 10]
    assert fake.bodies("POST", "/swap-indexes") == [[{"indexes": ["listings", tmp]}]]
    paths = [(m, p) for m, p, _ in fake.requests]
    assert paths.index(("POST", "/swap-indexes")) < paths.index(("DELETE", f"/indexes/{tmp}"))
    assert not fake.bodies("POST", "/indexes/listings/documents"), "the live index is never written directly"
    assert ("DELETE", "/indexes/listings_rebuild_1") in paths  # the leftover is cleaned up
    assert [c["uid"] for c in created] == [tmp]  # the live index existed: not created again
    assert fake.indexes == {"listings"}


def test_first_rebuild_creates_the_live_index(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    meili.rebuild(iter(fixture_docs()[:3]))
    created = [c["uid"] for c in fake.bodies("POST", "/indexes")]
    assert created[1] == "listings" and created[0].startswith("listings_rebuild_")


def test_search_only_key(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    key = meili.search_only_key()
    assert key == "search-only-123" and key != "master-key"
    (created,) = fake.bodies("POST", "/keys")
    assert created["actions"] == ["search"] and created["indexes"] == ["listings"]
    # the second call reuses the key instead of creating another
    assert meili.search_only_key() == key
    assert len(fake.bodies("POST", "/keys")) == 1


def test_errors_are_mapped(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    fake.fail_with = (
        400,
        {"message": "bad filter", "code": "invalid_search_filter", "type": "invalid_request", "link": "x"},
    )
    with pytest.raises(QueryError):
        meili.query(SearchQuery(text="电池"))
    fake.fail_with = (500, {"message": "boom", "code": "internal", "type": "internal", "link": "x"})
    with pytest.raises(EngineUnavailable):
        meili.upsert(fixture_docs()[:1])
    assert meili.health()["status"] == "down"


def test_unreachable_server_is_engine_unavailable() -> None:
    engine = MeiliEngine("http://127.0.0.1:9", timeout=1)
    with pytest.raises(EngineUnavailable):
        engine.query(SearchQuery(text="电池"))
    assert engine.health()["status"] == "down"


def test_health(meili: MeiliEngine, fake: RecordingFakeMeili) -> None:
    fake.search_response = {**SEARCH_RESPONSE, "facetDistribution": {"kind": {"result": 3, "need": 2}}}
    health = meili.health()
    assert health["status"] == "ok" and health["documents"] == 5
    assert meili.count() == {"total": 5, "result": 3, "need": 2}
