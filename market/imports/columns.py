"""The import columns of each kind, header recognition, and the template and hints shown to users.

Headers are recognised in Chinese or English, ignoring case, spaces, full/half width, a leading or
trailing * and a trailing note in brackets such as （必填） or （万元）.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any


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


_CONTACT = (
    Column("contact_name", "联系人", "contact_name", aliases=("联系人姓名",), example="王老师"),
    Column(
        "contact_phone",
        "联系电话",
        "contact_phone",
        aliases=("电话", "手机", "phone"),
        example="022-27400000",
    ),
    Column(
        "contact_email",
        "联系邮箱",
        "contact_email",
        aliases=("邮箱", "电子邮箱", "email"),
        example="wang@example.edu.cn",
    ),
    Column(
        "external_id", "编号", "external_id", aliases=("成果编号", "需求编号", "id"), example="TJU-2024-001"
    ),
)

RESULT_COLUMNS: tuple[Column, ...] = (
    Column("title", "成果名称", "title", True, ("名称", "项目名称"), "宽温域锂离子电池电解液"),
    Column(
        "summary",
        "成果简介",
        "summary",
        True,
        ("简介", "成果介绍"),
        "一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。",
    ),
    Column("field", "技术领域", "field", aliases=("领域",), example="储能"),
    Column("keywords", "关键词", "keywords", example="锂电、低温、电解液"),
    Column("maturity", "成熟度", "maturity", example="中试"),
    Column("ip_type", "知识产权类型", "ip_type", aliases=("知识产权",), example="发明专利"),
    Column("patent_numbers", "专利号", "patent_numbers", aliases=("专利申请号",), example="ZL202310000001.X"),
    Column("transfer_modes", "转化方式", "transfer_modes", example="技术许可、技术转让"),
    Column("price", "价格", "price", aliases=("转让价格",), example="120", unit="万元"),
    Column(
        "organization",
        "所属单位",
        "organization",
        aliases=("单位", "所属机构", "成果单位"),
        example="",
    ),
    *_CONTACT,
    # optional schema fields a fuller sheet may carry
    Column("problem", "解决的问题", "problem", aliases=("解决问题",), extra=True),
    Column("advantage", "量化优势", "advantage", aliases=("技术优势",), extra=True),
    Column("trl", "技术就绪度", "trl", extra=True),
    Column("inventors", "发明人", "inventors", aliases=("团队", "发明人/团队"), extra=True),
    Column("rights_note", "赋权情况", "rights_note", extra=True),
    Column("appraised_wan", "评估价值", "appraised", aliases=("appraised_wan",), extra=True),
)

NEED_COLUMNS: tuple[Column, ...] = (
    Column("title", "需求名称", "title", True, ("名称",), "电池包冬季续航衰减严重"),
    Column(
        "description",
        "需求描述",
        "description",
        True,
        ("需求内容", "描述"),
        "物流车电池包冬天续航掉得厉害，需要改善低温性能，兼容现有电芯产线。",
    ),
    Column("field", "技术领域", "field", aliases=("领域",), example="新能源汽车"),
    Column("keywords", "关键词", "keywords", example="低温、电池包、续航"),
    Column("cooperation_modes", "合作方式", "cooperation_modes", example="合作开发"),
    Column("budget", "预算", "budget", aliases=("预算金额",), example="50-150", unit="万元"),
    Column("deadline", "截止日期", "deadline", aliases=("截止时间",), example="2027-06-30"),
    Column("is_challenge", "揭榜挂帅", "is_challenge", aliases=("是否揭榜挂帅",), example="否"),
    Column("reward_wan", "悬赏金额", "reward", aliases=("reward_wan", "揭榜金额"), unit="万元"),
    Column(
        "organization",
        "需求单位",
        "organization",
        aliases=("单位", "企业名称", "所属单位"),
        example="",
    ),
    *_CONTACT,
    Column("requirements", "必备要求", "requirements", extra=True),
    Column("target_metrics", "目标指标", "target_metrics", extra=True),
    Column("eligibility", "揭榜条件", "eligibility", extra=True),
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
