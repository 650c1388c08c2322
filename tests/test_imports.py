"""Bulk import from CSV / XLSX (service, CLI, web upload), field inference, and safe export."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import defusedxml  # noqa: F401 - a dependency, so openpyxl parses XLSX with it
import openpyxl
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from market.accounts.models import Organization
from market.imports import cells, reader
from market.imports import columns as cols
from market.imports.infer import infer_field
from market.imports.service import FileRefused, import_listings
from market.imports.tabular import safe_cell, write_csv, write_xlsx
from market.listings import service as listings_service
from market.listings.models import ListingEvent, ResearchResult, TechNeed
from market.outbox.models import OutboxEntry
from tests.factories import login, make_org, make_user

RESULT_HEADER = [
    "成果名称*", "成果简介*", "技术领域", "关键词", "成熟度", "知识产权类型", "专利号", "转化方式",
    "价格（万元）", "所属单位", "联系人", "联系电话", "联系邮箱", "编号",
]  # fmt: skip
NEED_HEADER = [
    "需求名称", "需求描述", "技术领域", "关键词", "合作方式", "预算", "截止日期", "揭榜挂帅", "悬赏金额",
    "需求单位", "联系人", "联系电话", "联系邮箱", "编号",
]  # fmt: skip
SUMMARY = "一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。"


def result_row(n: int, **kw) -> list:
    row = {
        "成果名称*": f"宽温域锂离子电池电解液第{n}号",
        "成果简介*": SUMMARY,
        "技术领域": "储能",
        "关键词": "锂电、低温；电解液",
        "成熟度": "中试",
        "知识产权类型": "发明专利",
        "专利号": f"ZL2023100000{n:02d}.X",
        "转化方式": "技术许可，技术转让",
        "价格（万元）": "120",
        "所属单位": "",
        "联系人": "王老师",
        "联系电话": "022-27400000",
        "联系邮箱": "wang@tju.edu.cn",
        "编号": f"TJU-{n:03d}",
    }
    row.update(kw)
    return [row[h] for h in RESULT_HEADER]


def need_row(n: int, **kw) -> list:
    row = {
        "需求名称": f"电池包冬季续航衰减严重问题{n}",
        "需求描述": "我司物流车电池包冬天续航掉得厉害，北方客户投诉多，需要改善低温性能。",
        "技术领域": "新能源汽车",
        "关键词": "低温、续航",
        "合作方式": "合作开发",
        "预算": "50-150",
        "截止日期": "2027-06-30",
        "揭榜挂帅": "否",
        "悬赏金额": "",
        "需求单位": "",
        "联系人": "李工",
        "联系电话": "13800000000",
        "联系邮箱": "li@haihe.cn",
        "编号": f"N-{n}",
    }
    row.update(kw)
    return [row[h] for h in NEED_HEADER]


def csv_bytes(header: list, rows: list[list], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(header: list, rows: list[list], *, before: list[list] | None = None, sheets=()) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for title, content in sheets:  # extra sheets before the data sheet
        extra = wb.create_sheet(title, 0)
        for line in content:
            extra.append(line)
    for line in before or []:
        ws.append(line)
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(session, kind: str, data: bytes, filename: str = "list.csv", **kw):
    report = import_listings(session, kind=kind, filename=filename, data=data, **kw)
    session.commit()
    session.expire_all()
    return report


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def by_title(session, model, title: str):
    return session.exec(select(model).where(model.title == title)).first()


def statuses(report) -> dict[int, str]:
    return {r.row: r.status for r in report.rows}


# --- parsing -----------------------------------------------------------------------------------------


def test_defusedxml_is_active():

    assert openpyxl.xml.DEFUSEDXML is True
    assert reader.DEFUSEDXML is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("成果名称", "成果名称"),
        (" 成果名称 * ", "成果名称"),
        ("*成果名称", "成果名称"),
        ("成果名称（必填）", "成果名称"),
        ("价格(万元)", "价格"),
        ("Title*", "title"),
        ("Contact Name", "contactname"),
        ("\ufeff编号", "编号"),
    ],
)
def test_header_normalisation(raw, expected):
    assert cols.normalize_header(raw) == expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_good_csv_in_any_encoding(session, encoding):
    rows = [
        result_row(1),
        result_row(2, **{"价格（万元）": "面议"}),
        result_row(3, **{"价格（万元）": "1,200万元"}),
    ]
    report = run(session, "result", csv_bytes(RESULT_HEADER, rows, encoding), default_org="天津大学")
    assert report.counts == {"imported": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert [r.row for r in report.rows] == [2, 3, 4]
    org = session.exec(select(Organization).where(Organization.name == "天津大学")).one()
    assert org.kind == "高校" and not org.verified and report.orgs_created == ["天津大学"]
    first = by_title(session, ResearchResult, "宽温域锂离子电池电解液第1号")
    assert first.organization_id == org.id and first.status == "草稿" and first.created_by_id is None
    assert first.price_wan == 120 and not first.price_negotiable
    assert first.keywords == ["锂电", "低温", "电解液"] and first.transfer_modes == ["技术许可", "技术转让"]
    assert first.field == "储能" and not first.field_inferred and first.external_id == "TJU-001"
    assert by_title(session, ResearchResult, "宽温域锂离子电池电解液第2号").price_negotiable
    assert by_title(session, ResearchResult, "宽温域锂离子电池电解液第3号").price_wan == 1200


def test_xlsx_with_english_headers_title_row_and_an_instructions_sheet(session):
    header = ["Title*", "summary （必填）", "Field", "Price", "External_ID", "Organization", "备注"]
    rows = [
        [
            "基于深度学习的工业缺陷检测",
            "利用卷积神经网络识别产品表面缺陷，准确率 99%。",
            "人工智能",
            80,
            1001,
            "南开大学",
            "x",
        ],
        [
            "激光雷达点云感知算法平台",
            "用于自动驾驶车辆的多传感器感知融合算法。",
            None,
            55.5,
            1002,
            "南开大学",
            None,
        ],
    ]
    data = xlsx_bytes(
        header,
        rows,
        before=[["2024 年南开大学科技成果汇总"]],
        sheets=[("填写说明", [["本表用于导入"], ["请勿修改表头"]])],
    )
    report = run(session, "result", data, filename="成果.xlsx")
    assert report.format == "xlsx" and report.sheet == "Sheet"
    assert [(r.row, r.status) for r in report.rows] == [(3, "imported"), (4, "imported")]
    assert any("备注" in w for w in report.warnings)
    first = by_title(session, ResearchResult, "基于深度学习的工业缺陷检测")
    assert first.external_id == "1001" and first.price_wan == 80
    second = by_title(session, ResearchResult, "激光雷达点云感知算法平台")
    assert second.price_wan == 55.5 and second.field == "智能网联车" and second.field_inferred


def test_needs_budgets_dates_and_challenges(session):
    rows = [
        need_row(1, 预算="50-100", 截止日期="2027/6/30"),
        need_row(2, 预算="50～100", 截止日期="2027年6月30日"),
        need_row(3, 预算="50至100", 截止日期=date(2027, 6, 30)),
        need_row(4, 预算=80, 截止日期=datetime(2027, 6, 30), 揭榜挂帅="是", 悬赏金额=200),
        need_row(5, 预算="100万以上", 截止日期=None, 揭榜挂帅="Y", 悬赏金额="300万元"),
        need_row(6, 预算="", 揭榜挂帅="也许"),
    ]
    report = run(session, "need", xlsx_bytes(NEED_HEADER, rows), "needs.xlsx", default_org="海河新能源科技")
    assert report.counts["imported"] == 6, report.rows
    needs = {n.external_id: n for n in session.exec(select(TechNeed)).all()}
    for n in ("N-1", "N-2", "N-3"):
        assert (needs[n].budget_min_wan, needs[n].budget_max_wan, needs[n].deadline) == (
            50,
            100,
            date(2027, 6, 30),
        )
    assert needs["N-4"].budget_min_wan == needs["N-4"].budget_max_wan == 80
    assert needs["N-4"].is_challenge and needs["N-4"].reward_wan == 200
    assert "揭榜挂帅" in needs["N-4"].cooperation_modes
    assert (needs["N-5"].budget_min_wan, needs["N-5"].budget_max_wan, needs["N-5"].reward_wan) == (
        100,
        None,
        300,
    )
    assert needs["N-6"].budget_min_wan is None and not needs["N-6"].is_challenge
    assert "揭榜挂帅“也许”无法识别" in report.rows[5].message
    assert all(n.no_secret_confirmed for n in needs.values())
    org = session.get(Organization, needs["N-1"].organization_id)
    assert org.name == "海河新能源科技" and org.kind == "企业"


def test_short_is_not_invalid_only_warned(session):
    """Real rows: a need titled 车门锁, one described in nine characters. Both are imported, with a
    warning in the report; one character of title or four of description is still refused."""
    rows = [
        need_row(1, 需求名称="车门锁"),
        need_row(2, 需求描述="如何去除花椒中苦味"),
        need_row(3, 需求名称="锁"),
        need_row(4, 需求描述="去苦味"),
    ]
    report = run(session, "need", csv_bytes(NEED_HEADER, rows), default_org="海河新能源科技")
    assert statuses(report) == {2: "imported", 3: "imported", 4: "rejected", 5: "rejected"}
    reasons = {r.row: r.message for r in report.rows}
    assert "名称只有 3 个字，比通常短" in reasons[2]
    assert "需求描述只有 9 个字，比通常短" in reasons[3]
    assert "名称至少 2 个字" in reasons[4]
    assert "需求描述至少 5 个字" in reasons[5]
    assert by_title(session, TechNeed, "车门锁") is not None


def test_partly_bad_file_imports_the_good_rows(session):
    rows = [
        result_row(1),
        result_row(2, **{"成果名称*": "电"}),
        result_row(3, **{"价格（万元）": "一百万"}),
        result_row(4, 联系邮箱="not-an-email"),
        result_row(5, 成熟度="快成熟了", 转化方式="技术许可、白送"),
        result_row(6, **{"成果简介*": ""}),
        result_row(7),
    ]
    header = [*RESULT_HEADER, "备注"]
    data = csv_bytes(header, [[*r, "内部备注"] for r in rows])
    calls: list[tuple[int, int]] = []
    report = run(session, "result", data, default_org="天津大学", progress=lambda *a: calls.append(a))
    assert calls == [(n, 7) for n in range(1, 8)]
    assert statuses(report) == {
        2: "imported",
        3: "rejected",
        4: "rejected",
        5: "rejected",
        6: "imported",
        7: "rejected",
        8: "imported",
    }
    reasons = {r.row: r.message for r in report.rows}
    assert "名称至少 2 个字" in reasons[3]
    assert "价格“一百万”无法识别" in reasons[4]
    assert "联系邮箱格式不正确" in reasons[5]
    assert "成果简介" in reasons[7] and "必填" in reasons[7]
    assert "成熟度“快成熟了”无法识别，已忽略" in reasons[6] and "转化方式“白送”无法识别" in reasons[6]
    assert report.warnings == ["以下列无法识别，已忽略：备注"]
    dropped = by_title(session, ResearchResult, "宽温域锂离子电池电解液第5号")
    assert dropped.maturity is None and dropped.transfer_modes == ["技术许可"]
    assert count(session, ResearchResult) == 3


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


UNREADABLE = {
    "garbage": (bytes(range(256)) * 40, {}, "不是文本表格"),
    "renamed png": (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200), {}, "PNG 图片"),
    "empty": (b"", {}, "文件是空的"),
    "blank text": (b"\xef\xbb\xbf \r\n\r\n", {}, "文件是空的"),
    "old xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), {}, "另存为"),
    "corrupt zip": (b"PK\x03\x04" + b"\x14\x00" * 300, {}, "XLSX 文件已损坏"),
    "docx": (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), {}, "不是 XLSX"),
    "zip bomb": (
        _zip({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": bytes(30 * 1024 * 1024)}),
        {},
        "解压后过大",
    ),
    "no header": (csv_bytes(["名字", "备注"], [["电池", "1"]]), {}, "没有找到表头行"),
    "missing required": (csv_bytes(["成果名称", "价格"], [["宽温域电池", "1"]]), {}, "缺少必填列：成果简介"),
    "too many rows": (
        csv_bytes(RESULT_HEADER, [result_row(i) for i in range(6)]),
        {"max_rows": 5},
        "超过 5 行",
    ),
    "too big": (csv_bytes(RESULT_HEADER, [result_row(1)]), {"max_bytes": 100}, "超过上限"),
    "too many rows xlsx": (
        xlsx_bytes(RESULT_HEADER, [result_row(i) for i in range(6)]),
        {"max_rows": 5},
        "超过 5 行",
    ),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_unreadable_files_are_refused_whole(session, case):
    data, limits, message = UNREADABLE[case]
    orgs_before = count(session, Organization)
    with pytest.raises(FileRefused) as caught:
        import_listings(
            session, kind="result", filename=f"{case}.csv", data=data, default_org="天津大学", **limits
        )
    assert message in caught.value.message
    session.commit()
    assert count(session, ResearchResult) == 0 and count(session, Organization) == orgs_before


# --- idempotence and updates -------------------------------------------------------------------------


def test_reimport_is_idempotent_and_a_changed_row_updates(session):
    rows = [result_row(1), result_row(2), result_row(3)]
    first = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    assert first.imported == 3
    again = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    assert again.counts == {"imported": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert count(session, ResearchResult) == 3

    rows[1] = result_row(2, **{"价格（万元）": "150", "成熟度": "产业化"})
    changed = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    assert statuses(changed) == {2: "unchanged", 3: "updated", 4: "unchanged"}
    listing = by_title(session, ResearchResult, "宽温域锂离子电池电解液第2号")
    assert listing.price_wan == 150 and listing.maturity == "产业化" and listing.version == 2
    actions = session.exec(
        select(ListingEvent.action).where(
            ListingEvent.kind == "result", ListingEvent.listing_id == listing.id
        )
    ).all()
    assert actions == ["create", "edit"]

    # a renamed row keyed by 编号 updates in place rather than creating a second listing
    rows[2] = result_row(3, **{"成果名称*": "宽温域锂离子电池电解液（改进型）"})
    renamed = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    assert renamed.updated == 1 and count(session, ResearchResult) == 3


def test_rows_without_external_id_are_keyed_by_title(session):
    header = ["成果名称", "成果简介", "技术领域"]
    rows = [["高效污水处理膜组件", "用于印染废水的反渗透膜组件，通量提高 30%。", "水污染防治"]]
    assert run(session, "result", csv_bytes(header, rows), default_org="天津大学").imported == 1
    assert run(session, "result", csv_bytes(header, rows), default_org="天津大学").unchanged == 1
    # the same title with a 编号 added is the same listing, which now gets the number
    with_id = run(
        session, "result", csv_bytes([*header, "编号"], [[*rows[0], "W-1"]]), default_org="天津大学"
    )
    assert with_id.updated == 1 and count(session, ResearchResult) == 1
    assert by_title(session, ResearchResult, "高效污水处理膜组件").external_id == "W-1"


def test_reimport_keeps_what_the_file_does_not_carry(session):
    run(session, "result", csv_bytes(RESULT_HEADER, [result_row(1)]), default_org="天津大学")
    listing = by_title(session, ResearchResult, "宽温域锂离子电池电解液第1号")
    listing.advantage = "-30℃ 容量保持率 85%"
    session.add(listing)
    session.commit()
    header = ["成果名称", "成果简介", "编号"]
    rows = [["宽温域锂离子电池电解液第1号", SUMMARY + "已完成中试。", "TJU-001"]]
    report = run(session, "result", csv_bytes(header, rows), default_org="天津大学")
    assert report.updated == 1
    listing = by_title(session, ResearchResult, "宽温域锂离子电池电解液第1号")
    assert listing.summary.endswith("已完成中试。") and listing.advantage == "-30℃ 容量保持率 85%"
    assert (
        listing.keywords == ["锂电", "低温", "电解液"]
        and listing.price_wan == 120
        and listing.field == "储能"
    )


def test_pending_and_closed_listings_are_not_changed(session):
    rows = [result_row(1), result_row(2), result_row(3)]
    run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    for n, status in ((1, "待审核"), (2, "已成交")):
        listing = by_title(session, ResearchResult, f"宽温域锂离子电池电解液第{n}号")
        listing.status = status
        session.add(listing)
    session.commit()
    changed = [result_row(n, **{"价格（万元）": "99"}) for n in (1, 2, 3)]
    report = run(session, "result", csv_bytes(RESULT_HEADER, changed), default_org="天津大学")
    assert statuses(report) == {2: "rejected", 3: "rejected", 4: "updated"}
    assert "正在审核中" in report.rows[0].message and "已成交" in report.rows[1].message
    assert by_title(session, ResearchResult, "宽温域锂离子电池电解液第1号").price_wan == 120


def test_duplicate_rows_in_one_file(session):
    rows = [result_row(1), result_row(1, **{"价格（万元）": "99"})]
    report = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    assert statuses(report) == {2: "imported", 3: "rejected"}
    assert "与第 2 行重复" in report.rows[1].message


def test_a_row_the_database_refuses_is_rejected_alone(session, monkeypatch):
    make_org(session, name="已存在的机构")
    session.commit()
    original = listings_service.create_listing

    def failing(session, **kw):
        listing = original(session, **kw)
        if "第2号" in listing.title:  # a database-level failure inside this row's SAVEPOINT
            session.add(Organization(name="已存在的机构", kind="高校"))
            session.flush()
        return listing

    monkeypatch.setattr(listings_service, "create_listing", failing)
    rows = [result_row(1), result_row(2), result_row(3)]
    report = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    assert statuses(report) == {2: "imported", 3: "rejected", 4: "imported"}
    assert "数据库拒绝写入" in report.rows[1].message and IntegrityError.__name__ in report.rows[1].message
    assert by_title(session, ResearchResult, "宽温域锂离子电池电解液第2号") is None
    assert count(session, ResearchResult) == 2


# --- field inference ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "keywords", "body", "expected"),
    [
        ("宽温域锂离子电池电解液", ["锂电"], SUMMARY, "储能"),
        ("基于深度学习的工业缺陷检测系统", [], "利用卷积神经网络对产品表面缺陷进行识别", "人工智能"),
        ("高效污水处理膜组件", [], "用于印染废水的反渗透膜", "水污染防治"),
        ("质子交换膜燃料电池催化剂", [], "低铂催化剂，提高耐久性", "氢能"),
        ("中药材有效成分提取工艺", [], "黄芪皂苷的高效提取", "中药"),
        ("一种新型的管理办法", [], "提高工作效率的通用方法", None),
    ],
)
def test_infer_field(title, keywords, body, expected):
    assert infer_field(title, keywords, body) == expected


def test_infer_field_on_the_seed_listings():
    """Quality guard on the 492 seed listings, whose fields are known: mostly right, rarely wrong."""

    data = Path(__file__).resolve().parent.parent / "seed" / "data"
    outcomes = {"exact": 0, "none": 0, "wrong": 0}
    for name, body in (
        ("results.jsonl", ("summary", "problem", "advantage")),
        ("needs.jsonl", ("description",)),
    ):
        for line in (data / name).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            text = "\n".join(str(item.get(k) or "") for k in (*body, "requirements", "target_metrics"))
            guess = infer_field(item["title"], item.get("keywords") or [], text)
            outcomes["none" if guess is None else "exact" if guess == item["field"] else "wrong"] += 1
    total = sum(outcomes.values())
    assert total > 400
    assert outcomes["exact"] / total > 0.45 and outcomes["wrong"] / total < 0.25, outcomes


def test_field_inference_marks_field_inferred(session):
    rows = [
        result_row(1, 技术领域=""),
        result_row(2, 技术领域="新能源/储能"),
        result_row(
            3,
            技术领域="AI",
            **{"成果名称*": "一种新型的管理办法", "成果简介*": "提高工作效率的通用方法和流程"},
        ),
        result_row(
            4,
            技术领域="乱写的领域",
            关键词="",
            **{"成果名称*": "一种新型的管理办法二", "成果简介*": "通用流程"},
        ),
    ]
    vague = "本单位内部的一般性办法说明，内容较为宽泛"
    report = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    assert report.imported == 3 and report.rejected == 1  # row 5: 成果简介 shorter than 10 characters
    inferred = by_title(session, ResearchResult, "宽温域锂离子电池电解液第1号")
    assert inferred.field == "储能" and inferred.field_inferred
    assert "推断为“储能”" in report.rows[0].message and "置信度" in report.rows[0].message
    given = by_title(session, ResearchResult, "宽温域锂离子电池电解液第2号")
    assert given.field == "储能" and not given.field_inferred
    assert by_title(session, ResearchResult, "一种新型的管理办法").field == "人工智能"  # AI is a synonym

    rows[3] = result_row(
        4, 技术领域="乱写的领域", 关键词="", **{"成果名称*": "一种新型的办法二", "成果简介*": vague}
    )
    report = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学")
    assert statuses(report) == {2: "unchanged", 3: "unchanged", 4: "unchanged", 5: "imported"}
    unknown = by_title(session, ResearchResult, "一种新型的办法二")
    assert unknown.field is None and not unknown.field_inferred and unknown.field_confidence is None
    assert "技术领域“乱写的领域”不在分类中" in report.rows[3].message
    assert "技术领域未能可靠推断" in report.rows[3].message and "已留空" in report.rows[3].message
    # an inferred field carries the classifier's confidence, shown in the report
    assert 0.1 <= inferred.field_confidence <= 1.0


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_publish_creates_the_org_and_publishes(app, session, tmp_path):
    rows = [
        result_row(1, 所属单位="滨海新型研究院"),
        result_row(2),
        result_row(3, **{"成果名称*": "=1+2 电池技术"}),
    ]
    path = tmp_path / "results.csv"
    path.write_bytes(csv_bytes(RESULT_HEADER, rows))
    out = tmp_path / "report.csv"
    runner = app.test_cli_runner()
    args = ["import", "results", str(path), "--org", "天津理工大学", "--publish", "--report", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "imported=3 updated=0 unchanged=0 rejected=0" in result.output
    session.expire_all()
    orgs = {o.name: o for o in session.exec(select(Organization)).all()}
    assert orgs["滨海新型研究院"].verified and orgs["滨海新型研究院"].kind == "高校"
    assert orgs["天津理工大学"].verified
    listings = session.exec(select(ResearchResult)).all()
    assert {item.status for item in listings} == {"已发布"} and all(item.published_at for item in listings)
    events = session.exec(select(ListingEvent).where(ListingEvent.action == "publish")).all()
    assert len(events) == 3 and {e.reason for e in events} == {"批量导入直接发布"}
    assert session.exec(select(func.count()).select_from(OutboxEntry)).one() >= 3
    report_text = out.read_bytes()
    assert report_text.startswith(b"\xef\xbb\xbf") and "行号,结果,说明" in report_text.decode("utf-8-sig")
    assert "'=1+2 电池技术" in report_text.decode("utf-8-sig")  # neutralised in the report too

    again = runner.invoke(args=["import", "results", str(path), "--org", "天津理工大学", "--publish"])
    assert again.exit_code == 0 and "imported=0 updated=0 unchanged=3 rejected=0" in again.output


def test_cli_without_org_rejects_rows_and_refuses_unreadable_files(app, session, tmp_path):
    make_org(session, name="海河科技有限公司", kind="企业")
    session.commit()
    path = tmp_path / "results.csv"
    path.write_bytes(csv_bytes(RESULT_HEADER, [result_row(1), result_row(2, 所属单位="海河科技有限公司")]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "results", str(path)])
    assert result.exit_code == 0
    assert "第 2 行未导入：未填写所属单位，也未指定默认机构" in result.output
    assert "第 3 行未导入：机构“海河科技有限公司”是企业，不能发布科技成果" in result.output
    assert "rejected=2" in result.output

    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    refused = runner.invoke(args=["import", "needs", str(png), "--org", "海河科技有限公司"])
    assert refused.exit_code != 0 and "文件未导入" in refused.output and "PNG 图片" in refused.output
    session.expire_all()
    assert count(session, ResearchResult) == 0 and count(session, TechNeed) == 0


# --- web upload --------------------------------------------------------------------------------------


@pytest.fixture
def members(session):
    ent_org = make_org(session, name="海河新能源科技股份有限公司", kind="企业")
    uni_org = make_org(session, name="天津大学", kind="高校")
    people = {
        "ent": make_user(session, role="enterprise", org=ent_org),
        "ent2": make_user(session, role="enterprise", org=ent_org),
        "uni": make_user(session, role="university", org=uni_org),
        "agent": make_user(session, role="agent"),
        "admin": make_user(session, role="admin"),
    }
    session.commit()
    return people


def upload(client, data: bytes, filename: str):
    return client.post(
        "/import", data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def test_web_upload_as_enterprise_member_imports_into_own_org_only(app, client, session, members):
    orgs_before = count(session, Organization)
    login(client, members["ent"])
    page = client.get("/import")
    assert (
        page.status_code == 200
        and "批量导入技术需求" in page.data.decode()
        and "不含商业秘密" in page.data.decode()
    )
    rows = [
        need_row(1),
        need_row(2, 需求单位="海河新能源科技股份有限公司"),
        need_row(3, 需求单位="别家公司"),
        need_row(4, 预算="很多"),
    ]
    resp = upload(client, xlsx_bytes(NEED_HEADER, rows), "needs.xlsx")
    html = resp.data.decode()
    assert resp.status_code == 200
    assert "新增 2 条" in html and "未导入 2 条" in html
    assert "只能导入本机构（海河新能源科技股份有限公司）的内容" in html and "预算“很多”无法识别" in html
    session.expire_all()
    needs = session.exec(select(TechNeed)).all()
    assert len(needs) == 2
    org_id = members["ent"].organization_id
    assert {n.organization_id for n in needs} == {org_id} and {n.created_by_id for n in needs} == {
        members["ent"].id
    }
    assert all(n.status == "草稿" and n.no_secret_confirmed for n in needs)
    assert count(session, Organization) == orgs_before  # nothing created for “别家公司”

    token = re.search(r"/import/report/([A-Za-z0-9_-]+)\.csv", html).group(1)
    report = client.get(f"/import/report/{token}.csv")
    assert report.status_code == 200 and report.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(report.data.decode("utf-8-sig"))))
    assert lines[0] == ["行号", "结果", "说明", "记录编号", "名称"]
    assert [line[:2] for line in lines[1:]] == [
        ["2", "新增"],
        ["3", "新增"],
        ["4", "未导入"],
        ["5", "未导入"],
    ]
    other = app.test_client()
    login(other, members["ent2"])
    assert other.get(f"/import/report/{token}.csv").status_code == 404  # only the uploader

    again = upload(client, xlsx_bytes(NEED_HEADER, rows), "needs.xlsx")
    assert "新增 0 条" in again.data.decode() and "未变化 2 条" in again.data.decode()


def test_web_upload_for_university_members_imports_results(client, session, members):
    login(client, members["uni"])
    assert "批量导入科技成果" in client.get("/import").data.decode()
    resp = upload(client, csv_bytes(RESULT_HEADER, [result_row(1, 所属单位="天津大学")], "gbk"), "成果.csv")
    assert resp.status_code == 200 and "新增 1 条" in resp.data.decode()
    session.expire_all()
    assert (
        by_title(session, ResearchResult, "宽温域锂离子电池电解液第1号").organization_id
        == members["uni"].organization_id
    )


@pytest.mark.parametrize(("who", "code"), [(None, 302), ("agent", 403), ("admin", 403)])
def test_web_upload_is_for_owners_only(app, members, who, code):
    c = app.test_client()
    if who:
        login(c, members[who])
    assert c.get("/import").status_code == code
    assert upload(c, csv_bytes(RESULT_HEADER, [result_row(1)]), "a.csv").status_code == code


def test_web_upload_refuses_unreadable_files_whole(client, session, members):
    login(client, members["ent"])
    resp = upload(client, b"\x89PNG\r\n\x1a\n" + bytes(64), "needs.csv")
    assert resp.status_code == 400 and "文件未导入" in resp.data.decode() and "PNG 图片" in resp.data.decode()
    resp = upload(client, b"title\n", "needs.txt")
    assert resp.status_code == 400 and "只支持 CSV 或 XLSX" in resp.data.decode()
    resp = client.post("/import", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "请选择要上传的表格文件" in resp.data.decode()
    session.expire_all()
    assert count(session, TechNeed) == 0


def test_web_upload_checks_csrf(app, client, members):
    login(client, members["ent"])
    app.config["WTF_CSRF_ENABLED"] = True
    assert 'name="csrf_token"' in client.get("/import").data.decode()
    assert upload(client, csv_bytes(NEED_HEADER, [need_row(1)]), "needs.csv").status_code == 400


def test_upload_page_has_no_inline_script_or_style(client, members):
    login(client, members["ent"])
    html = client.get("/import").data.decode()
    assert "style=" not in html and "<script>" not in html and "onclick" not in html


@pytest.mark.parametrize(("kinds", "kind"), [("results", "result"), ("needs", "need")])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_templates_download_and_import_cleanly(client, session, kinds, kind, fmt):
    resp = client.get(f"/import/template/{kinds}.{fmt}")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    if fmt == "csv":
        assert resp.data.startswith(b"\xef\xbb\xbf")
        header = next(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
        assert header[:2] == (["成果名称*", "成果简介*"] if kind == "result" else ["需求名称*", "需求描述*"])
    report = run(session, kind, resp.data, f"template.{fmt}", default_org="示例单位")
    assert report.counts["imported"] == 1 and not report.warnings, report.rows


# --- export ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("普通文字", "普通文字"),
        (-5, -5),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_write_csv_and_xlsx_neutralise_formulas():
    rows = [["=1+1", 3, date(2027, 6, 30), ["a", "b"], True, "ok\x01"]]
    text = write_csv(rows, ["A", "B", "C", "D", "E", "F"]).decode("utf-8-sig")
    assert text.splitlines()[1] == "'=1+1,3,2027-06-30,a、b,是,ok\x01"
    wb = openpyxl.load_workbook(io.BytesIO(write_xlsx(rows, ["=A", "B", "C", "D", "E", "F"])))
    cells = list(wb.active.iter_rows(values_only=False))
    assert all(c.data_type != "f" for row in cells for c in row)
    assert cells[0][0].value == "'=A" and cells[1][0].value == "'=1+1" and cells[1][5].value == "ok"


DANGEROUS = [
    '=HYPERLINK("http://evil.example","点击")成果',
    "+1+2 电池技术",
    "@SUM(A1) 储能材料",
    "-2+3 新型材料",
]


@pytest.fixture
def published(session):
    rows = [result_row(i, **{"成果名称*": title}) for i, title in enumerate(DANGEROUS, 1)]
    rows.append(result_row(9, 技术领域="人工智能", **{"成果名称*": "深度学习缺陷检测平台"}))
    report = run(session, "result", csv_bytes(RESULT_HEADER, rows), default_org="天津大学", publish=True)
    assert report.published == 5
    draft = [result_row(20, **{"成果名称*": "尚未发布的草稿成果"})]
    run(session, "result", csv_bytes(RESULT_HEADER, draft), default_org="天津大学")
    needs = [
        need_row(1),
        need_row(2, 揭榜挂帅="是", 悬赏金额="200", **{"需求名称": "=cmd|' /C calc'!A0 需求"}),
    ]
    run(session, "need", csv_bytes(NEED_HEADER, needs), default_org="海河新能源科技", publish=True)


def test_export_csv_neutralises_formulas_and_hides_contacts(client, published):
    resp = client.get("/export/results.csv")
    assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")
    text = resp.data.decode("utf-8-sig")
    assert "022-27400000" not in text and "wang@tju.edu.cn" not in text and "王老师" not in text
    lines = list(csv.reader(io.StringIO(text)))
    titles = {line[2] for line in lines[1:]}
    assert titles == {"'" + t for t in DANGEROUS} | {"深度学习缺陷检测平台"}
    assert "尚未发布的草稿成果" not in text
    assert lines[0][:3] == ["平台编号", "编号", "成果名称"] and lines[1][-1].startswith(
        "http://localhost/results/"
    )
    filtered = client.get("/export/results.csv?field=人工智能").data.decode("utf-8-sig")
    assert "深度学习缺陷检测平台" in filtered and "电池技术" not in filtered


def test_export_xlsx_has_no_formulas(client, published):
    resp = client.get("/export/needs.xlsx?challenge=1")
    assert resp.status_code == 200 and resp.headers["X-Export-Rows"] == "1"
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    rows = list(wb.active.iter_rows(values_only=False))
    assert all(cell.data_type != "f" for row in rows for cell in row)
    assert rows[1][2].value == "'=cmd|' /C calc'!A0 需求" and rows[1][10].value == "是"
    values = [cell.value for row in rows for cell in row]
    assert "13800000000" not in values and "li@haihe.cn" not in values
    assert client.get("/export/results.xlsx").status_code == 200
    assert client.get("/export/results.pdf").status_code == 404


# --- a thousand rows ---------------------------------------------------------------------------------


def test_thousand_rows_publish_then_reimport(app, session, tmp_path, record_property, capsys):
    rows = []
    for i in range(1000):
        row = result_row(i, **{"成果名称*": f"批量导入测试成果第{i:04d}号", "编号": f"BULK-{i:04d}"})
        if i % 10 == 0:
            row[2] = ""  # every tenth row leaves the field to inference
        rows.append(row)
    path = tmp_path / "thousand.csv"
    path.write_bytes(csv_bytes(RESULT_HEADER, rows))
    runner = app.test_cli_runner()
    args = ["import", "results", str(path), "--org", "批量导入大学", "--publish"]

    started = time.perf_counter()
    first = runner.invoke(args=args)
    first_seconds = time.perf_counter() - started
    assert first.exit_code == 0, first.output
    assert "imported=1000 updated=0 unchanged=0 rejected=0" in first.output and "导入中" in first.output

    started = time.perf_counter()
    second = runner.invoke(args=args)
    second_seconds = time.perf_counter() - started
    assert second.exit_code == 0 and "imported=0 updated=0 unchanged=1000 rejected=0" in second.output

    session.expire_all()
    assert count(session, ResearchResult) == 1000
    published = session.exec(
        select(func.count()).select_from(ResearchResult).where(ResearchResult.status == "已发布")
    ).one()
    assert published == 1000
    record_property("first_import_seconds", round(first_seconds, 2))
    record_property("reimport_seconds", round(second_seconds, 2))
    with capsys.disabled():
        print(f"\n1,000-row import: first {first_seconds:.2f}s, re-import {second_seconds:.2f}s")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("100", (100, 100)),
        (80.5, (80.5, 80.5)),
        ("50-100", (50, 100)),
        ("50～100", (50, 100)),
        ("50~100万元", (50, 100)),
        ("50至100", (50, 100)),
        ("50万到100万", (50, 100)),
        ("100万以上", (100, None)),
        ("200以内", (None, 200)),
        ("面议", (None, None)),
        ("", (None, None)),
    ],
)
def test_budget_cells(raw, expected):
    assert cells.budget(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2027-06-30", date(2027, 6, 30)),
        ("2027/6/30", date(2027, 6, 30)),
        ("2027.6.30", date(2027, 6, 30)),
        ("2027年6月30日", date(2027, 6, 30)),
        (datetime(2027, 6, 30, 0, 0), date(2027, 6, 30)),
        (46568, date(2027, 6, 30)),  # an Excel date serial without its date format
        (None, None),
    ],
)
def test_deadline_cells(raw, expected):
    assert cells.deadline(raw) == expected


def test_bad_cells_say_what_to_write():
    with pytest.raises(cells.CellError, match="2027-06-30"):
        cells.deadline("明年六月")
    with pytest.raises(cells.CellError, match="万元"):
        cells.money("一百", "价格")
    assert cells.yes_no("Y") is True and cells.yes_no("否") is False and cells.yes_no(1) is True
    assert (
        cells.enum_value("maturity", "中试阶段") == "中试"
        and cells.enum_value("ip_type", "软著") == "计算机软件著作权"
    )
    assert cells.read_field("新能源/储能") == ("储能", None) and cells.read_field("新能源") == (
        None,
        "新能源",
    )
    assert (
        cells.text("'=1+1") == "=1+1" and cells.text(1001.0) == "1001"
    )  # a safe export re-imports as it was


def test_reviewer_confirms_or_changes_an_inferred_field_in_one_click(app, session, people):

    report = run(
        session, "result", csv_bytes(RESULT_HEADER, [result_row(1, 技术领域="")]), default_org="天津大学"
    )
    listing = by_title(session, ResearchResult, "宽温域锂离子电池电解液第1号")
    assert report.imported == 1 and listing.field_inferred and listing.field_confidence is not None
    session.commit()
    admin = app.test_client()
    login(admin, people["admin"])
    page = admin.get("/admin/review").data.decode()
    assert "系统推断的技术领域待确认" in page and "宽温域锂离子电池电解液第1号" in page
    assert f"系统推断：<strong>{listing.field}</strong>（置信度" in page
    assert admin.post(f"/admin/fields/results/{listing.id}", data={"field": "氢能"}).status_code == 302
    session.expire_all()
    changed = session.get(ResearchResult, listing.id)
    assert changed.field == "氢能" and not changed.field_inferred and changed.field_confidence is None
    assert "没有待确认的推断领域" in admin.get("/admin/review").data.decode()
