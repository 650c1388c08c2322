"""Queries on the demo listings: short queries keep every character, traditional finds simplified.

Run against every engine of the contract suite (FTS5 always, Meilisearch with MEILI_URL). The oracle
is a plain substring scan of the folded texts, never an engine.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search.base import SearchEngine, SearchQuery, make_document
from search.fts import FtsEngine
from search.text import fold
from tests.search.conftest import ENGINES, _close, _open, settle

DATA = Path(__file__).resolve().parents[2] / "seed" / "data"
_TWO_CJK = re.compile(r"(?=([\u4e00-\u9fff]{2}))")


def _rows(name: str) -> list[dict[str, Any]]:
    with open(DATA / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def demo_docs() -> list[dict[str, Any]]:
    docs = []
    for i, row in enumerate(_rows("results.jsonl")):
        body = "\n".join(row.get(k) or "" for k in ("summary", "problem", "advantage"))
        docs.append(
            make_document(kind="result", db_id=i + 1, title=row["title"], body=body, keywords=row["keywords"])
        )
    for i, row in enumerate(_rows("needs.jsonl")):
        body = "\n".join(row.get(k) or "" for k in ("description", "requirements", "target_metrics"))
        docs.append(
            make_document(kind="need", db_id=i + 1, title=row["title"], body=body, keywords=row["keywords"])
        )
    return docs


DOCS = demo_docs()
TEXTS = {d["id"]: fold("\n".join([d["title"], d["body"], *d["keywords"]])) for d in DOCS}


@pytest.fixture(scope="module", params=ENGINES)
def demo(request, tmp_path_factory) -> Iterator[SearchEngine]:
    eng = _open(request.param, str(tmp_path_factory.mktemp("demo") / "search.sqlite3"))
    settle(eng, eng.upsert(demo_docs()))
    yield eng
    _close(eng)


def found(engine: SearchEngine, text: str) -> set[str]:
    out: set[str] = set()
    page = 1
    while True:
        res = engine.query(SearchQuery(text=text, per_page=100, page=page))
        out.update(h.id for h in res.hits)
        if page * 100 >= min(res.total, 1000):
            return out
        page += 1


def two_character_strings(n: int, seed: int = 15) -> list[str]:
    """`n` distinct two-ideograph strings drawn at random from the demo texts."""
    pool = sorted({m.group(1) for text in TEXTS.values() for m in _TWO_CJK.finditer(text)})
    return random.Random(seed).sample(pool, n)


def test_two_character_queries_keep_both_characters(demo: SearchEngine) -> None:
    """Every hit of a two-character query contains it (precision), and nothing containing it is
    missed (recall): a stop-listed character must not be dropped, leaving the other one alone."""
    relevant = returned = true_hits = 0
    misses: list[str] = []
    strays: list[str] = []
    for text in two_character_strings(200):
        expected = {doc_id for doc_id, body in TEXTS.items() if text in body}
        got = found(demo, text)
        relevant += len(expected)
        returned += len(got)
        true_hits += len(got & expected)
        if expected - got:
            misses.append(text)
        if got - expected:
            strays.append(text)
    precision = true_hits / returned
    recall = true_hits / relevant
    assert recall == 1.0, f"missed substring matches for {misses[:20]}"
    assert precision >= 0.98, f"precision {precision:.3f}; hits without the string for {strays[:20]}"


@pytest.mark.parametrize(
    ("traditional", "simplified"), [("電池", "电池"), ("鋰電池", "锂电池"), ("檢測", "检测")]
)
def test_traditional_finds_what_simplified_finds(
    demo: SearchEngine, traditional: str, simplified: str
) -> None:
    expected = found(demo, simplified)
    assert expected, f"the demo data should hold {simplified}"
    assert found(demo, traditional) == expected


def test_full_width_query_finds_ascii_text(demo: SearchEngine) -> None:
    expected = found(demo, "PLC")
    assert expected
    assert found(demo, "ＰＬＣ") == expected


def test_pinyin_query_finds_the_words_it_reads_as(demo: SearchEngine) -> None:
    expected = found(demo, "电池")
    assert found(demo, "dianchi") >= expected
    assert found(demo, "dian chi") >= expected
    assert found(demo, "chuneng") >= found(demo, "储能")


def test_pinyin_hits_rank_below_exact_hits(tmp_path) -> None:
    """A document holding the Latin string as typed comes before those found by its reading."""

    engine = FtsEngine(str(tmp_path / "s.sqlite3"))
    docs = [
        make_document(kind="result", db_id=1, title="新型锂电池正极材料", body="提高电池能量密度"),
        make_document(kind="result", db_id=2, title="Dianchi 湖泊水质在线监测", body="dianchi lake"),
        make_document(kind="need", db_id=1, title="储能电池热失控预警", body="电池包温度监测"),
    ]
    engine.upsert(docs)
    hits = [h.id for h in engine.query(SearchQuery(text="dianchi", per_page=10)).hits]
    assert hits[0] == docs[1]["id"]
    assert set(hits) == {d["id"] for d in docs}
    # with Han characters in the query there is no pinyin reading at all
    assert [h.id for h in engine.query(SearchQuery(text="dianchi 湖泊", per_page=10)).hits] == [docs[1]["id"]]
    engine.close()
