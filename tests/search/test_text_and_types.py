"""Query/document types and the shared text helpers (grams, query terms, highlighting)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.base import (
    MAX_TEXT,
    DocumentError,
    Hit,
    QueryError,
    SearchQuery,
    SearchResults,
    clean_document,
    document_id,
    make_document,
)
from search.text import (
    QueryTerm,
    fold,
    gram_tokens,
    highlight,
    highlight_page,
    phrase_grams,
    query_terms,
    render_marked,
    snippet,
)
from vocab.analyzer import default_analyzer

# -- documents ----------------------------------------------------------------------------------


def test_make_document_derives_id_and_first_level() -> None:
    doc = make_document(kind="need", db_id=7, title="氢能需求", field="氢能", price_high=50)
    assert doc["id"] == "need-7" and doc["field_top"] == "新能源"
    assert (doc["price_low"], doc["price_high"]) == (0.0, 50.0)  # "up to 50 万元"
    assert document_id("result", 12) == "result-12"


def test_clean_document_drops_unknown_and_contact_keys() -> None:
    doc = make_document(kind="result", db_id=1, title="标题", price_low=80)
    dirty = {**doc, "contact_phone": "13800138000", "contact": "x", "owner_email": "a@b.c"}
    clean = clean_document(dirty)
    assert set(clean) == set(doc) and "contact_phone" not in clean
    assert (clean["price_low"], clean["price_high"]) == (80.0, 80.0)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "patent"},
        {"db_id": "7"},
        {"id": "result-8"},
        {"db_id": 0, "id": "result-0"},
        {"db_id": -3, "id": "result--3"},
        {"db_id": 2**31, "id": f"result-{2**31}"},  # beyond a 32-bit database key
        {"title": "  "},
        {"keywords": "锂电池"},
        {"price_low": float("nan")},
        {"published_at": "yesterday"},
    ],
)
def test_malformed_documents_are_refused(change: dict) -> None:
    doc = make_document(kind="result", db_id=7, title="标题")
    with pytest.raises(DocumentError):
        clean_document({**doc, **change})


def test_reversed_price_range_is_swapped() -> None:
    doc = clean_document({"kind": "need", "db_id": 1, "title": "t", "price_low": 90, "price_high": 10})
    assert (doc["price_low"], doc["price_high"]) == (10.0, 90.0)


# -- queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filters": {"owner": ["x"]}},
        {"filters": {"field": "储能" * 60}},
        {"filters": {"field": [1]}},
        {"price_min": -1},
        {"price_min": 10, "price_max": 5},
        {"price_max": float("inf")},
        {"facets": ("price",)},
        {"challenge": "yes"},
        {"page": True},
    ],
)
def test_query_validation(kwargs: dict) -> None:
    with pytest.raises(QueryError) as err:
        SearchQuery(**kwargs)
    assert err.value.reason


def test_query_normalises() -> None:
    q = SearchQuery(
        text="x" * 5000, filters={"field": [" 储能 ", "储能", ""], "region": []}, facets=("kind", "kind")
    )
    assert len(q.text) == MAX_TEXT
    assert q.filters == {"field": ["储能"]}
    assert q.facets == ("kind",)


def test_from_params_reads_request_arguments() -> None:
    q = SearchQuery.from_params(
        {
            "q": ["锂电池"],
            "kind": "need",
            "field": ["储能,氢能"],
            "modes": ["技术许可", "揭榜挂帅"],
            "challenge": "1",
            "price_min": "10",
            "sort": "price_asc",
            "page": "2",
            "per_page": "50",
            "facets": "region,kind",
        }
    )
    assert q.text == "锂电池" and q.kind == "need" and q.challenge is True
    assert q.filters == {"field": ["储能", "氢能"], "modes": ["技术许可", "揭榜挂帅"]}
    assert (q.price_min, q.page, q.per_page, q.sort) == (10.0, 2, 50, "price_asc")
    assert q.facets == ("region", "kind")
    assert SearchQuery.from_params({}) == SearchQuery()


@pytest.mark.parametrize(
    "params", [{"page": "x"}, {"price_max": "abc"}, {"challenge": "maybe"}, {"per_page": "1000"}]
)
def test_from_params_refuses_bad_arguments(params: dict) -> None:
    with pytest.raises(QueryError):
        SearchQuery.from_params(params)


def test_hit_title_text_and_pages() -> None:
    hit = Hit("result-1", "result", 1, None, "&lt;b&gt;<mark>电池</mark>", "", None, 1.0)
    assert hit.title_text == "<b>电池"
    assert SearchResults(45, [], {}, 1, 20, "fts5").pages == 3
    assert SearchResults(0, [], {}, 1, 20, "fts5").pages == 1
    assert SearchResults(10**6, [], {}, 1, 100, "fts5").pages == 100


# -- text ---------------------------------------------------------------------------------------


def test_gram_tokens() -> None:
    assert gram_tokens("锂电池，AI芯片") == ["锂电", "电池", "池", "ai", "芯片", "片"]
    assert gram_tokens("Ｈ２Ｏ") == ["h2o"]  # full width folds to half width
    assert phrase_grams("锂电池") == "锂电 电池"
    assert phrase_grams("电") == "电"


def test_query_terms_fold_synonyms_and_glue_stray_characters() -> None:
    assert query_terms("AI") == [QueryTerm("人工智能", ("人工智能", "ai", "a.i."))]
    lithium = query_terms("锂电")[0]
    assert lithium.word == "锂离子电池" and {"锂电", "锂电池"} <= set(lithium.surfaces)
    # jieba cuts the unknown 锂硫 into single characters: they become one substring term
    assert [t.surfaces[0] for t in query_terms("锂硫电池正极")] == ["锂硫电池", "正极"]
    # stopwords only: the query's own text is searched
    assert query_terms("系统") == [QueryTerm(None, ("系统",))]
    assert query_terms("") == [] and query_terms("！？ ") == []


@given(st.text(max_size=200))
def test_query_terms_never_carry_syntax(text: str) -> None:
    for term in query_terms(text):
        for surface in term.surfaces:
            assert surface and '"' not in surface
        assert len(query_terms(text)) <= 12


def test_highlight_escapes_and_marks() -> None:
    terms = query_terms("电池 AI")
    assert (
        highlight("<b>锂电池</b> & AI", terms)
        == "&lt;b&gt;锂<mark>电池</mark>&lt;/b&gt; &amp; <mark>AI</mark>"
    )
    # latin words are marked whole only
    assert highlight("maintain", query_terms("ai")) == "maintain"


def test_highlight_never_turns_text_into_markup() -> None:
    """The one-escape path uses private-use stand-ins for <mark>: a listing that contains them
    gets them back as text, and only the real matches are marked."""
    text = "\ue000<b>\ue001 锂电池\ue001"
    out = highlight(text, query_terms("电池"))
    assert out == "\ue000&lt;b&gt;\ue001 锂<mark>电池</mark>\ue001"
    assert out.count("<mark>") == out.count("</mark>") == 1


def test_snippet_windows_on_the_first_match() -> None:
    text = "甲" * 150 + "氢能储运" + "乙" * 150
    out = snippet(text, query_terms("氢能"))
    assert out.startswith("…") and out.endswith("…") and "<mark>氢能</mark>" in out
    assert len(out.replace("<mark>", "").replace("</mark>", "")) <= 102
    assert snippet("短文本", []) == "短文本"


def test_render_marked_is_balanced_and_escaped() -> None:
    pre, post = "\ue000", "\ue001"
    assert render_marked(f"<i>{pre}a{post}</i>", pre, post) == "&lt;i&gt;<mark>a</mark>&lt;/i&gt;"
    assert render_marked(f"{pre}{pre}a", pre, post) == "<mark>a</mark>"
    assert render_marked(f"a{post}b", pre, post) == "ab"


def _fold_by_nfkc(text: str) -> str:
    """The definition `fold` implements faster: each character on its own, NFKC + lower case when
    that is one character (lower case alone, or the character itself, otherwise)."""
    out = []
    for c in text:
        for candidate in (unicodedata.normalize("NFKC", c).lower(), c.lower(), c):
            if len(candidate) == 1:
                out.append(candidate)
                break
    return "".join(out)


@given(
    st.text(
        alphabet=st.sampled_from(
            list("锂电池，。：；（）！？　ＡＢＣａｂｃ１２３ＡＩai Ab\u0301\u00e9\u3250℃㎡ﬁ⑴Ⅻ㈱ｶﾞ\u0301Ｉ̇İ")
        ),
        max_size=40,
    )
)
def test_fold_is_nfkc_lower_case_and_keeps_length(text: str) -> None:
    assert fold(text) == _fold_by_nfkc(text)
    assert len(fold(text)) == len(text)


def test_remembered_query_terms_follow_words_added_to_the_analyzer() -> None:
    """Query terms are memoised per text; a word taught to the analyzer afterwards still counts."""
    text = "钒钛液流堆"  # a compound the dictionary does not know
    assert query_terms(text) == query_terms(text)
    assert all(t.word != text for t in query_terms(text))
    default_analyzer().add_words([text])
    assert query_terms(text) == [QueryTerm(word=text, surfaces=(text,))]


_PAGE_TEXT = st.text(
    alphabet=st.sampled_from(list("锂电池储能AI ai，（）\n\t<&>\ue000\ue001\ue002ＡｉİﬁÉ℃e\u0301")),
    max_size=30,
)


@given(
    titles=st.lists(_PAGE_TEXT, max_size=5),
    bodies=st.lists(_PAGE_TEXT, max_size=5),
    query=st.sampled_from(["电池", "锂电池 AI", "ai", "池储", "\ue002电", "<&>", "cafe", "é", "fi 电池"]),
    size=st.sampled_from([5, 100]),
)
def test_a_page_highlighted_at_once_reads_like_one_by_one(
    titles: list[str], bodies: list[str], query: str, size: int
) -> None:
    """The engine marks a page's titles and snippets in one pass over the texts joined; the result
    must be the same strings, also with the separator, stand-ins or markup in texts or query."""
    bodies = (bodies + [""] * len(titles))[: len(titles)]
    terms = query_terms(query)
    assert highlight_page(titles, bodies, terms, size) == (
        [highlight(t, terms) for t in titles],
        [snippet(b, terms, size) for b in bodies],
    )


def test_marks_stay_on_their_characters_next_to_ligatures_and_combining_marks() -> None:
    """İ and ﬁ grow under NFKC + lower case, e + U+0301 shrinks: a fold of the whole text would keep
    its length but shift every offset between them (a review found 'c<mark>afe </mark>')."""
    terms = query_terms("cafe")
    titles = ["İ cafe here", "cafe\u0301 ok", "ﬁ电池 cafe"]
    assert [highlight(t, terms) for t in titles] == [
        "İ <mark>cafe</mark> here",
        "<mark>cafe</mark>\u0301 ok",
        "ﬁ电池 <mark>cafe</mark>",
    ]
    assert highlight_page(titles, ["e\u0301 cafe"] * 3, terms)[0] == [highlight(t, terms) for t in titles]
