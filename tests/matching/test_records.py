"""Loaders: both input formats, lenient values, and bad lines reported with their line numbers."""

from __future__ import annotations

import json

import pytest

from matching.records import (
    NeedRecord,
    RecordError,
    ResultRecord,
    load_needs,
    load_org_regions,
    load_pairs,
    load_results,
    parse_budget,
    parse_need,
    parse_result,
)


def test_seed_format_result_maps_every_field() -> None:
    obj = {
        "external_id": "R0001",
        "title": "标题",
        "summary": "摘要",
        "problem": "问题",
        "advantage": "优势",
        "field": "储能",
        "keywords": ["储能", "电池"],
        "maturity": "中试",
        "transfer_modes": ["技术许可"],
        "price_negotiable": False,
        "price_wan": 120,
        "organization": "天津大学",
        "inventors": ["甲"],
    }
    rec = parse_result(obj, orgs={"天津大学": "天津"})
    assert rec == ResultRecord(
        id="R0001",
        title="标题",
        summary="摘要",
        keywords=("储能", "电池"),
        field="储能",
        maturity="中试",
        transfer_modes=("技术许可",),
        price=120.0,
        region="天津",
        problem="问题",
        advantage="优势",
    )
    assert rec.body == "摘要\n问题\n优势"


def test_negotiable_price_is_none_even_with_an_amount() -> None:
    rec = parse_result({"id": "R", "title": "t", "price_wan": 50, "price_negotiable": True})
    assert rec.price is None
    assert parse_result({"id": "R", "title": "t", "price": "面议"}).price is None


def test_seed_format_need_and_body() -> None:
    rec = parse_need(
        {
            "external_id": "N1",
            "title": "需求",
            "description": "描述",
            "requirements": "要求",
            "target_metrics": "指标",
            "cooperation_modes": ["揭榜挂帅", "合作开发"],
            "budget_min_wan": 300,
            "budget_max_wan": 600,
            "is_challenge": True,
        }
    )
    assert (rec.budget_min, rec.budget_max, rec.is_challenge) == (300.0, 600.0, True)
    assert rec.cooperation_modes == ("揭榜挂帅", "合作开发")
    assert rec.body == "描述\n要求\n指标"


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (100, (None, 100.0)),
        ([50, 100], (50.0, 100.0)),
        ("50-100", (50.0, 100.0)),
        ("50～100万元", (50.0, 100.0)),
        ([100, 50], (50.0, 100.0)),
        ("面议", (None, None)),
        (None, (None, None)),
    ],
)
def test_budget_forms(budget, expected) -> None:
    assert parse_budget(budget) == expected


@pytest.mark.parametrize("budget", ["lots", [1, 2, 3], {"min": 1}, True, -5])
def test_bad_budgets_are_errors(budget) -> None:
    with pytest.raises(RecordError):
        parse_budget(budget)


def test_keywords_as_separated_string() -> None:
    rec = parse_need({"id": "N", "title": "t", "keywords": "锂电池、储能，回收,梯次；检测;储能"})
    assert rec.keywords == ("锂电池", "储能", "回收", "梯次", "检测")


def test_integer_ids_are_accepted_as_strings() -> None:
    assert parse_result({"id": 7, "title": "t"}).id == "7"


def test_region_from_organisation_only_when_not_given() -> None:
    orgs = {"燕山大学": "河北"}
    assert parse_result({"id": "R", "title": "t", "organization": "燕山大学"}, orgs=orgs).region == "河北"
    assert (
        parse_result(
            {"id": "R", "title": "t", "organization": "燕山大学", "region": "北京"}, orgs=orgs
        ).region
        == "北京"
    )


def test_bad_lines_are_reported_with_line_numbers_and_skipped() -> None:
    lines = [
        json.dumps({"id": "R1", "title": "好的"}),
        "{not json",
        "",
        json.dumps({"title": "没有编号"}),
        json.dumps({"id": "R2"}),
        json.dumps({"id": "R3", "title": "t", "keywords": 5}),
        json.dumps(["a list"]),
        json.dumps({"id": "R1", "title": "重复"}),
        json.dumps({"id": "R4", "title": "t", "price": "很贵"}),
        json.dumps({"id": "R5", "title": "t", "maturity": "概念"}),
    ]
    loaded = load_results(lines, source="r.jsonl")
    assert [r.id for r in loaded.records] == ["R1", "R5"]
    skipped = [(i.line, i.skipped) for i in loaded.issues]
    assert skipped == [
        (2, True),
        (4, True),
        (5, True),
        (6, True),
        (7, True),
        (8, True),
        (9, True),
        (10, False),
    ]
    assert str(loaded.issues[0]).startswith("r.jsonl:2: skipped: not valid JSON")
    assert loaded.records[1].maturity is None


def test_unknown_keys_are_ignored() -> None:
    loaded = load_needs([json.dumps({"id": "N1", "title": "t", "whatever": {"x": 1}})])
    assert loaded.records == [NeedRecord(id="N1", title="t")] and not loaded.issues


def test_pairs_loader_validates_grades() -> None:
    lines = [
        json.dumps({"need_id": "N1", "result_id": "R1", "grade": 3}),
        json.dumps({"need_id": "N1", "result_id": "R2", "grade": 4}),
        json.dumps({"need_id": "N1", "result_id": "R3", "grade": "high"}),
        json.dumps({"need_id": "N1", "grade": 1}),
    ]
    loaded = load_pairs(lines)
    assert len(loaded.records) == 1 and [i.line for i in loaded.issues] == [2, 3, 4]


def test_org_regions_skip_bad_lines() -> None:
    lines = ['{"name": "南开大学", "region": "天津"}', "oops", '{"name": 1}']
    assert load_org_regions(lines) == {"南开大学": "天津"}
