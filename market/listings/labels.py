"""One name for each listing field, read by the forms, the validation messages, the import columns, the
showcase export and the revision diff — so a field is called the same everywhere it is shown.

`label(name)` is the field's name in a sentence ("价格不能…"), `heading(name, kind)` its name over a
column or beside an input, with the unit ("价格（万元）") and, where the two kinds differ, the kind's own
word ("成果名称" / "需求名称").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    text: str
    unit: str = ""
    #: the name where the kind must be said (a column of a sheet that holds one kind)
    result: str | None = None
    need: str | None = None
    #: a confirmation's box is labelled with the statement it confirms
    statement: str | None = None

    def of(self, kind: str | None = None) -> str:
        own = {"result": self.result, "need": self.need}.get(kind or "")
        return own or self.text

    def heading(self, kind: str | None = None) -> str:
        return self.of(kind) + (f"（{self.unit}）" if self.unit else "")


WAN = "万元"

FIELDS: dict[str, Label] = {
    # both kinds
    "title": Label("名称", result="成果名称", need="需求名称"),
    "field": Label("技术领域"),
    "keywords": Label("关键词"),
    "contact_name": Label("联系人"),
    "contact_phone": Label("联系电话"),
    "contact_email": Label("联系邮箱"),
    "external_id": Label("编号"),
    # results
    "summary": Label("成果简介"),
    "problem": Label("解决的问题"),
    "advantage": Label("量化优势"),
    "maturity": Label("成熟度"),
    "trl": Label("技术就绪度（TRL）"),
    "ip_type": Label("知识产权类型"),
    "patent_numbers": Label("专利号"),
    "transfer_modes": Label("转化方式"),
    "price_negotiable": Label("价格面议"),
    "price_wan": Label("价格", WAN),
    "appraised_wan": Label("评估价值", WAN),
    "inventors": Label("发明人/团队"),
    "rights_note": Label("职务成果赋权"),
    # needs
    "description": Label("需求描述"),
    "requirements": Label("必备要求"),
    "target_metrics": Label("目标指标"),
    "cooperation_modes": Label("合作方式"),
    "budget_min_wan": Label("预算下限", WAN),
    "budget_max_wan": Label("预算上限", WAN),
    "budget": Label("预算", WAN),
    "deadline": Label("截止日期"),
    "is_challenge": Label("揭榜挂帅"),
    "reward_wan": Label("悬赏金额", WAN),
    "eligibility": Label("揭榜条件"),
    "no_secret_confirmed": Label("不含商业秘密确认", statement="我确认以上内容不含本企业的商业秘密"),
    # shown beside a listing, not entered with it
    "id": Label("平台编号"),
    "organization": Label("所属单位", need="需求单位"),
    "field_parent": Label("一级领域"),
    "region": Label("地区"),
    "published_at": Label("发布日期"),
    "link": Label("链接"),
}

#: field -> its name in a sentence (the validation messages' prefix)
LABELS: dict[str, str] = {name: entry.text for name, entry in FIELDS.items()}


def label(name: str, kind: str | None = None) -> str:
    return FIELDS[name].of(kind)


def heading(name: str, kind: str | None = None) -> str:
    return FIELDS[name].heading(kind)


def statement(name: str) -> str:
    """The sentence a confirmation box of field `name` is labelled with."""
    return FIELDS[name].statement or FIELDS[name].text
