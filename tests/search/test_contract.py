"""The engine contract: every engine (FTS5 always, Meilisearch with MEILI_URL) passes the same tests.

Expected values are computed by hand from the fixture documents, never from an engine.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search.base import FACETS, QueryError, SearchEngine, SearchQuery, SearchResults
from tests.search.conftest import settle
from tests.search.fixtures import fixture_docs, searchable_text
from vocab.analyzer import tokenize

DOCS = fixture_docs()
BY_ID = {d["id"]: d for d in DOCS}


def run(engine: SearchEngine, **kwargs: Any) -> SearchResults:
    kwargs.setdefault("per_page", 100)
    return engine.query(SearchQuery(**kwargs))


def hit_ids(engine: SearchEngine, **kwargs: Any) -> list[str]:
    return [h.id for h in run(engine, **kwargs).hits]


def scan(text: str) -> set[str]:
    """The substring oracle: documents whose searchable text contains `text`."""
    return {d["id"] for d in DOCS if any(text.lower() in t.lower() for t in searchable_text(d))}


def facet_counts(docs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Facet counts computed by hand, in the engines' format."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
    for d in docs:
        for f in ("field_top", "field", "maturity", "region", "kind"):
            if d[f] is not None:
                counts[f][d[f]] += 1
        counts["modes"].update(d["modes"])
        counts["is_challenge"]["true" if d["is_challenge"] else "false"] += 1
    return {f: dict(c) for f, c in counts.items()}


# -- writes -------------------------------------------------------------------------------------


def test_upsert_count_and_idempotent_upsert(engine: SearchEngine) -> None:
    settle(engine, engine.upsert(DOCS))
    expected = {"total": len(DOCS), "result": sum(d["kind"] == "result" for d in DOCS)}
    expected["need"] = expected["total"] - expected["result"]
    assert engine.count() == expected
    settle(engine, engine.upsert(DOCS[:10]))
    assert engine.count() == expected
    assert run(engine).total == len(DOCS)


def test_upsert_replaces_by_id(engine: SearchEngine) -> None:
    settle(engine, engine.upsert(DOCS))
    changed = dict(DOCS[0], title="磁悬浮轴承高速电机", body="全新的描述文字。", keywords=["磁悬浮"])
    settle(engine, engine.upsert([changed]))
    assert engine.count()["total"] == len(DOCS)
    assert DOCS[0]["id"] in hit_ids(engine, text="磁悬浮")
    assert DOCS[0]["id"] not in hit_ids(engine, text="高镍")


def test_delete_and_clear(engine: SearchEngine) -> None:
    settle(engine, engine.upsert(DOCS))
    gone = [DOCS[0]["id"], DOCS[-1]["id"]]
    settle(engine, engine.delete([*gone, "result-999999"]))
    assert engine.count()["total"] == len(DOCS) - 2
    remaining = set(hit_ids(engine, text="锂电池"))
    assert not remaining & set(gone)
    settle(engine, engine.clear())
    assert engine.count() == {"total": 0, "result": 0, "need": 0}
    assert run(engine).hits == []


def test_contact_keys_never_indexed(engine: SearchEngine) -> None:
    doc = dict(DOCS[0], contact_phone="13800138000", contact_email="li@example.com", contact="李老师")
    settle(engine, engine.upsert([doc]))
    result = run(engine, text="13800138000")
    assert result.total == 0
    (hit,) = run(engine).hits
    assert not any(k.startswith("contact") for k in hit.fields)
    assert "13800138000" not in repr(hit)


def test_rebuild_swaps_in_the_new_set(engine: SearchEngine) -> None:
    settle(engine, engine.upsert(DOCS[:20]))
    report = engine.rebuild(iter(DOCS[10:]))
    assert report["indexed"] == len(DOCS) - 10
    assert engine.count()["total"] == len(DOCS) - 10
    assert not set(hit_ids(engine)) & {d["id"] for d in DOCS[:10]}
    assert hit_ids(engine, text=DOCS[15]["title"])[0] == DOCS[15]["id"]
    # the engine keeps taking writes after a swap
    settle(engine, engine.upsert(DOCS[:1]))
    assert engine.count()["total"] == len(DOCS) - 9


# -- filters, facets, sort, pagination ----------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "predicate"),
    [
        ({"field": ["储能"]}, lambda d: d["field"] == "储能"),
        ({"field": ["储能", "氢能"]}, lambda d: d["field"] in ("储能", "氢能")),
        ({"field_top": ["新能源"]}, lambda d: d["field_top"] == "新能源"),
        ({"maturity": ["中试"]}, lambda d: d["maturity"] == "中试"),
        ({"modes": ["揭榜挂帅"]}, lambda d: "揭榜挂帅" in d["modes"]),
        ({"modes": ["技术许可", "作价投资"]}, lambda d: bool({"技术许可", "作价投资"} & set(d["modes"]))),
        ({"region": ["河北"]}, lambda d: d["region"] == "河北"),
        (
            {"region": ["天津"], "field_top": ["新能源"]},
            lambda d: d["region"] == "天津" and d["field_top"] == "新能源",
        ),
        ({"field": ["不存在的领域"]}, lambda d: False),
    ],
)
def test_each_filter(loaded: SearchEngine, filters: dict[str, list[str]], predicate: Any) -> None:
    expected = {d["id"] for d in DOCS if predicate(d)}
    result = run(loaded, filters=filters)
    assert {h.id for h in result.hits} == expected
    assert result.total == len(expected)


def test_kind_and_challenge_filters(loaded: SearchEngine) -> None:
    assert set(hit_ids(loaded, kind="need")) == {d["id"] for d in DOCS if d["kind"] == "need"}
    assert set(hit_ids(loaded, kind="result")) == {d["id"] for d in DOCS if d["kind"] == "result"}
    assert set(hit_ids(loaded, challenge=True)) == {d["id"] for d in DOCS if d["is_challenge"]}
    assert set(hit_ids(loaded, challenge=False)) == {d["id"] for d in DOCS if not d["is_challenge"]}


@pytest.mark.parametrize(("low", "high"), [(100.0, 300.0), (None, 50.0), (1000.0, None), (55.0, 55.0)])
def test_price_filter_is_range_overlap(loaded: SearchEngine, low: float | None, high: float | None) -> None:
    def overlaps(d: dict[str, Any]) -> bool:
        if d["price_low"] is None:
            return False
        return (low is None or d["price_high"] >= low) and (high is None or d["price_low"] <= high)

    expected = {d["id"] for d in DOCS if overlaps(d)}
    assert expected  # the fixture covers each case
    assert set(hit_ids(loaded, price_min=low, price_max=high)) == expected


def test_facets_over_everything(loaded: SearchEngine) -> None:
    result = run(loaded, per_page=1)
    assert result.facets == facet_counts(DOCS)
    assert result.total == len(DOCS)


def test_facets_over_the_filtered_set(loaded: SearchEngine) -> None:
    chosen = [d for d in DOCS if d["region"] == "天津" and "技术服务" in d["modes"]]
    result = run(loaded, filters={"region": ["天津"], "modes": ["技术服务"]}, per_page=1)
    assert result.facets == facet_counts(chosen)
    assert result.total == len(chosen)


def test_facets_over_a_text_query(loaded: SearchEngine) -> None:
    matched = [BY_ID[i] for i in scan("氢能")]
    result = run(loaded, text="氢能", per_page=1)
    assert result.facets == facet_counts(matched)


def test_only_requested_facets(loaded: SearchEngine) -> None:
    result = run(loaded, facets=("region",))
    assert set(result.facets) == {"region"}
    assert run(loaded, facets=()).facets == {}


def test_sort_newest(loaded: SearchEngine) -> None:
    expected = [d["id"] for d in sorted(DOCS, key=lambda d: -d["published_at"])]
    assert hit_ids(loaded, sort="newest") == expected
    # with no words there is nothing to rank by: relevance means newest
    assert hit_ids(loaded) == expected


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_sort_by_price_puts_unpriced_last(loaded: SearchEngine, sort: str) -> None:
    hits = run(loaded, sort=sort).hits
    prices = [h.fields["price_low"] for h in hits]
    priced = [p for p in prices if p is not None]
    assert prices[: len(priced)] == priced, "listings without a price come last"
    assert priced == sorted(priced, reverse=sort == "price_desc")
    assert len(prices) == len(DOCS)
    # also with words
    hits = run(loaded, text="电池", sort=sort).hits
    priced = [h.fields["price_low"] for h in hits if h.fields["price_low"] is not None]
    assert priced == sorted(priced, reverse=sort == "price_desc")


def test_pagination(loaded: SearchEngine) -> None:
    everything = hit_ids(loaded, sort="newest")
    pages = [hit_ids(loaded, sort="newest", page=p, per_page=7) for p in range(1, 10)]
    assert [len(p) for p in pages] == [7] * 8 + [len(DOCS) - 56]
    assert [i for p in pages for i in p] == everything
    beyond = run(loaded, page=50, per_page=10)
    assert beyond.hits == [] and beyond.total == len(DOCS)
    assert beyond.pages == 6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page": 0},
        {"per_page": 0},
        {"per_page": 101},
        {"page": 1001, "per_page": 10},
        {"sort": "price"},
        {"kind": "x"},
    ],
)
def test_bad_paging_and_options_are_query_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(QueryError):
        SearchQuery(**kwargs)


# -- text: highlights, recall, ranking, synonyms ------------------------------------------------


def test_highlights_are_escaped(loaded: SearchEngine) -> None:
    (hit,) = [h for h in run(loaded, text="网页 过滤").hits if "script" in h.title]
    assert "<script>" not in hit.title and "&lt;script&gt;" in hit.title
    assert "<mark>" in hit.title
    assert hit.title_text == "<script>alert('x')</script>网页安全过滤组件"
    # the same document without words: still escaped
    (plain,) = [h for h in run(loaded, filters={"field": ["网络安全"]}).hits]
    assert "<script>" not in plain.title and "&lt;script&gt;" in plain.title


def test_snippet_marks_the_match(loaded: SearchEngine) -> None:
    hits = run(loaded, text="梯次利用").hits
    # an engine may mark a phrase word by word: adjacent marks count as one
    assert hits and "<mark>梯次利用</mark>" in hits[0].snippet.replace("</mark><mark>", "")


@pytest.mark.parametrize(
    "text", ["电池", "氢能", "储能", "检测", "智能", "锂电池", "蓄电池", "电解质", "复合材料", "固废资源化"]
)
def test_substring_recall(loaded: SearchEngine, text: str, request: pytest.FixtureRequest) -> None:
    if loaded.name == "meilisearch" and len(text) > 2:
        # Meilisearch segments a query of three or more characters with its own jieba; the grams
        # attribute guarantees two-character recall only. Reported, not hidden: XPASS when it works.
        request.applymarker(
            pytest.mark.xfail(strict=False, reason="Meilisearch segments long queries itself")
        )
    expected = scan(text)
    assert expected, f"fixture should contain {text}"
    found = set(hit_ids(loaded, text=text))
    assert expected <= found, f"missed {sorted(expected - found)}"
    if len(text) == 2 and loaded.name == "fts5":
        # a two-character query that has no synonyms finds exactly its substring matches
        assert found == expected


def test_battery_inside_longer_words(loaded: SearchEngine) -> None:
    found = set(hit_ids(loaded, text="电池"))
    for word in ("锂电池", "蓄电池", "燃料电池", "钠离子电池"):
        holders = {d["id"] for d in DOCS if word in d["title"] + d["body"]}
        assert holders and holders <= found, word


def test_whole_word_and_title_matches_rank_first(
    loaded: SearchEngine, request: pytest.FixtureRequest
) -> None:
    if loaded.name == "meilisearch":
        request.applymarker(pytest.mark.xfail(strict=False, reason="Meilisearch ranks by its own rules"))
    query = "电池"
    ranked = hit_ids(loaded, text=query)

    def strong(doc: dict[str, Any]) -> bool:
        whole_word = query in tokenize(doc["title"]) or query in tokenize(doc["body"])
        return query in doc["title"] or whole_word

    positions = {doc_id: i for i, doc_id in enumerate(ranked)}
    strong_pos = [positions[i] for i in ranked if strong(BY_ID[i])]
    weak_pos = [positions[i] for i in ranked if not strong(BY_ID[i])]
    assert strong_pos and weak_pos
    assert max(strong_pos) < min(weak_pos)


def test_title_match_beats_body_match(loaded: SearchEngine) -> None:
    ranked = hit_ids(loaded, text="固态电池")
    assert ranked[0] == next(d["id"] for d in DOCS if d["title"].startswith("固态电池"))


@pytest.mark.parametrize("doc", DOCS, ids=[d["id"] for d in DOCS])
def test_known_item_in_top_five(loaded: SearchEngine, doc: dict[str, Any]) -> None:
    words = [t for t in dict.fromkeys(tokenize(doc["title"])) if len(t) >= 2][:3]
    if len(words) < 2:
        words = [t for t in dict.fromkeys(tokenize(doc["title"], search_mode=True)) if len(t) >= 2][:3]
    query = " ".join(words[:3])
    assert doc["id"] in hit_ids(loaded, text=query, per_page=5), query


@pytest.mark.parametrize(
    ("text", "must_find"),
    [
        ("AI", {"人工智能"}),
        ("人工智能", {"AI"}),
        ("锂电", {"锂离子电池", "锂电池"}),
        ("锂离子电池", {"锂电池", "锂电"}),
    ],
)
def test_synonyms(loaded: SearchEngine, text: str, must_find: set[str]) -> None:
    found = set(hit_ids(loaded, text=text))
    for variant in must_find:
        holders = {d["id"] for d in DOCS if variant.lower() in (d["title"] + d["body"]).lower()}
        assert holders and holders <= found, variant


def test_multiword_query_with_no_joint_match_falls_back(loaded: SearchEngine) -> None:
    # no document has both words; the engine still answers with documents having either
    result = run(loaded, text="钙钛矿 小麦")
    assert {"result-7", "result-29"} <= {h.id for h in result.hits}


# -- hostile input ------------------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    '"',
    '"锂电池',
    "AND OR NOT",
    "电池 NEAR(储能, 2)",
    "电池*",
    "-电池",
    "^电池",
    "(电池",
    "title:电池",
    "{title_w}: 电池",
    '电池 " OR 1=1 --',
    "🔋🔋 电池 🚗",
    "\x00\x01\u202e",
    "电池" * 1000,
    "a" * 2000,
    "'; DROP TABLE docs; --",
    "*",
    "NEAR",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_returns_results(loaded: SearchEngine, text: str) -> None:
    result = run(loaded, text=text)
    assert isinstance(result, SearchResults)
    assert result.total >= len(result.hits)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
@example(text='"')
@example(text="x" * 2000)
def test_any_text_never_raises_but_query_error(loaded: SearchEngine, text: str) -> None:
    try:
        result = run(loaded, text=text, per_page=5)
    except QueryError:
        return
    assert result.total >= len(result.hits)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "kind",
                "sort",
                "page",
                "per_page",
                "challenge",
                "price_min",
                "price_max",
                "facets",
                "field",
                "modes",
                "region",
            ]
        ),
        st.one_of(st.text(max_size=40), st.lists(st.text(max_size=20), max_size=3)),
    )
)
def test_any_request_arguments_never_raise_but_query_error(
    loaded: SearchEngine, params: dict[str, Any]
) -> None:
    try:
        result = loaded.query(SearchQuery.from_params(params))
    except QueryError:
        return
    assert result.total >= len(result.hits)
