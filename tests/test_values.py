"""One value vocabulary: import cells, listing validation and the matcher read lists, 万元 amounts and
面议 the same way."""

from __future__ import annotations

import pytest

from market.imports import cells
from market.listings.schemas import split_multi
from matching.records import parse_budget, parse_result
from vocab.values import NEGOTIABLE_WORDS, is_negotiable, parse_wan, parse_wan_range, split_list

LISTS = {
    "锂电、储能，电解液": ["锂电", "储能", "电解液"],
    "TCP/IP；5G/6G": ["TCP/IP", "5G/6G"],
    "a | b\nb": ["a", "b"],
    "  电池 , ,  隔膜 ": ["电池", "隔膜"],
}


@pytest.mark.parametrize(("text", "items"), LISTS.items())
def test_lists_split_alike_everywhere(text, items):
    assert split_list(text) == items
    assert split_multi(text) == items
    record = parse_result({"id": "R1", "title": "标题", "keywords": text})
    assert list(record.keywords) == items


@pytest.mark.parametrize("word", [*sorted(NEGOTIABLE_WORDS), "面 议", "ＮＥＧＯＴＩＡＢＬＥ"])
def test_negotiable_words_mean_no_amount_everywhere(word):
    assert is_negotiable(word)
    assert cells.price(word) == (True, None)
    assert cells.budget(word) == (None, None)
    assert parse_result({"id": "R1", "title": "标题", "price": word}).price is None


@pytest.mark.parametrize(
    ("text", "amount"),
    [("120", 120.0), ("120万", 120.0), ("120万元", 120.0), ("1,200", 1200.0), ("１２０", 120.0)],
)
def test_amounts(text, amount):
    assert parse_wan(text) == amount
    assert cells.money(text, "价格") == amount


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("50-100", (50.0, 100.0)),
        ("50～100万", (50.0, 100.0)),
        ("50至100", (50.0, 100.0)),
        ("50万以上", (50.0, None)),
        ("100以内", (None, 100.0)),
        ("≤80万元", (None, 80.0)),
    ],
)
def test_ranges_read_alike_in_import_and_matching(text, bounds):
    assert parse_wan_range(text) == bounds
    assert cells.budget(text) == bounds
    assert parse_budget(text) == bounds


@pytest.mark.parametrize("text", ["大约一百", "100美元", "50-", "-50"])
def test_what_is_not_an_amount(text):
    assert parse_wan(text) is None and parse_wan_range(text) is None
    with pytest.raises(cells.CellError):
        cells.money(text, "价格")
