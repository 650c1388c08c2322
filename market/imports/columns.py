"""The import columns of each kind, header recognition, and the template and hints shown to users.

Headers are recognised in Chinese or English, ignoring case, spaces, full/half width, a leading or
trailing * and a trailing note in brackets such as （必填） or （万元）.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import partial
from typing import Any

from market.listings.labels import FIELDS


@dataclass(frozen=True)
class Column:
    """One import column: `key` is the importer's name for it (mostly the schema field)."""

    key: str
    zh: str
    en: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    example: str = ""
    #: accepted but not in the template (the fuller listing fields)
    extra: bool = False
    unit: str = ""


def _column(
    kind: str,
    key: str,
    *,
    field: str | None = None,
    en: str | None = None,
    required: bool = False,
    aliases: tuple[str, ...] = (),
    example: str = "",
    extra: bool = False,
) -> Column:
    """A column named as the listing field it fills is named everywhere (`market.listings.labels`)."""
    name = FIELDS[field or key]
    return Column(key, name.of(kind), en or key, required, aliases, example, extra, name.unit)


def _contact(kind: str) -> tuple[Column, ...]:
    column = partial(_column, kind)
    return (
        column("contact_name", aliases=("联系人姓名",), example="王老师"),
        column("contact_phone", aliases=("电话", "手机", "phone"), example="022-27400000"),
        column("contact_email", aliases=("邮箱", "电子邮箱", "email"), example="wang@example.edu.cn"),
        column("external_id", aliases=("成果编号", "需求编号", "id"), example="TJU-2024-001"),
    )


_result = partial(_column, "result")
RESULT_COLUMNS: tuple[Column, ...] = (
    _result("title", required=True, aliases=("名称", "项目名称"), example="宽温域锂离子电池电解液"),
    _result(
        "summary",
        required=True,
        aliases=("简介", "成果介绍"),
        example="一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。",
    ),
    _result("field", aliases=("领域",), example="储能"),
    _result("keywords", example="锂电、低温、电解液"),
    _result("maturity", example="中试"),
    _result("ip_type", aliases=("知识产权",), example="发明专利"),
    _result("patent_numbers", aliases=("专利申请号",), example="ZL202310000001.X"),
    _result("transfer_modes", example="技术许可、技术转让"),
    _result("price", field="price_wan", aliases=("转让价格",), example="120"),
    _result("organization", aliases=("单位", "所属机构", "成果单位")),
    *_contact("result"),
    # optional schema fields a fuller sheet may carry
    _result("problem", aliases=("解决问题",), extra=True),
    _result("advantage", aliases=("技术优势",), extra=True),
    _result("trl", aliases=("技术就绪度",), extra=True),
    _result("inventors", aliases=("发明人", "团队", "发明人/团队"), extra=True),
    _result("rights_note", aliases=("赋权情况",), extra=True),
    _result("appraised_wan", en="appraised", aliases=("appraised_wan",), extra=True),
)

_need = partial(_column, "need")
NEED_COLUMNS: tuple[Column, ...] = (
    _need("title", required=True, aliases=("名称",), example="电池包冬季续航衰减严重"),
    _need(
        "description",
        required=True,
        aliases=("需求内容", "描述"),
        example="物流车电池包冬天续航掉得厉害，需要改善低温性能，兼容现有电芯产线。",
    ),
    _need("field", aliases=("领域",), example="新能源汽车"),
    _need("keywords", example="低温、电池包、续航"),
    _need("cooperation_modes", example="合作开发"),
    _need("budget", aliases=("预算金额",), example="50-150"),
    _need("deadline", aliases=("截止时间",), example="2027-06-30"),
    _need("is_challenge", aliases=("是否揭榜挂帅",), example="否"),
    _need("reward_wan", en="reward", aliases=("reward_wan", "揭榜金额")),
    _need("organization", aliases=("单位", "企业名称", "所属单位")),
    *_contact("need"),
    _need("requirements", extra=True),
    _need("target_metrics", extra=True),
    _need("eligibility", extra=True),
)

COLUMNS: dict[str, tuple[Column, ...]] = {"result": RESULT_COLUMNS, "need": NEED_COLUMNS}

_NOTE = re.compile(r"[(\[【（][^)\]】）]*[)\]】）]$")


def normalize_header(value: Any) -> str:
    """The comparable form of a header cell: NFKC, lower case, no spaces, no * and no bracketed note."""
    text = unicodedata.normalize("NFKC", str(value or "")).lower()
    text = "".join(text.split()).replace("\ufeff", "").replace("_", "").replace("-", "")
    previous = None
    while text != previous:
        previous = text
        text = text.strip("*＊")
        text = _NOTE.sub("", text)
    return text


def header_index(kind: str) -> dict[str, Column]:
    """Normalised header -> column."""
    out: dict[str, Column] = {}
    for col in COLUMNS[kind]:
        for name in (col.zh, col.en, col.key, *col.aliases):
            out.setdefault(normalize_header(name), col)
    return out


def template_columns(kind: str) -> list[Column]:
    """The columns of the downloadable template (the fuller fields are accepted but not listed)."""
    return [c for c in COLUMNS[kind] if not c.extra]


def template_header(kind: str) -> list[str]:
    """Chinese headers for the template, required ones marked with *."""
    out = []
    for c in template_columns(kind):
        unit = f"（{c.unit}）" if c.unit else ""
        out.append(c.zh + unit + ("*" if c.required else ""))
    return out


#: what to write in each column, shown on the upload page
HINTS: dict[str, str] = {
    "title": "一句话说清是什么技术（至少 2 个字，建议 4 个字以上）；同一机构内按“编号”或名称识别同一条记录",
    "summary": "至少 5 个字，建议 10 个字以上",
    "description": "至少 5 个字（建议 10 个字以上）：现在遇到了什么问题、必须满足的条件、目标指标",
    "field": "二级领域，如“储能”“人工智能”；可写“新能源/储能”；留空时系统根据内容推断，请导入后确认",
    "keywords": "多个用顿号、逗号或分号分隔，最多 10 个",
    "maturity": "实验室阶段、小试、中试、产业化",
    "ip_type": "发明专利、实用新型专利、计算机软件著作权等",
    "patent_numbers": "多个用顿号或分号分隔",
    "transfer_modes": "技术转让、技术许可、作价投资、合作开发、委托开发、技术服务、技术咨询，可多选",
    "cooperation_modes": "同转化方式，另可选“揭榜挂帅”，可多选",
    "price": "数字（万元），或“面议”；留空视为面议",
    "budget": "数字或区间（万元），如 100、50-100、50～100、50至100",
    "deadline": "如 2027-06-30、2027/6/30、2027年6月30日，或 Excel 日期",
    "is_challenge": "是 / 否（揭榜挂帅需填写悬赏金额）",
    "reward_wan": "数字（万元）",
    "organization": "留空即本机构；网页上传只能导入本机构的内容",
    "contact_name": "联系方式受保护，只有平台运营、技术经纪人和经对接的合作方可见",
    "external_id": "本单位的内部编号（可选），重复导入时用它识别同一条记录",
}
