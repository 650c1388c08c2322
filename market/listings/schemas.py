"""Input schemas (non-table SQLModel): every listing is validated here before a table model is built.

Forms, the bulk import and the JSON API all pass through `validate_listing`, so the rules and the
Chinese messages are the same everywhere.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from pydantic import ValidationError, field_validator, model_validator
from sqlmodel import SQLModel

from market.errors import DomainError
from vocab.taxonomy import (
    CHALLENGE_MODE,
    COOPERATION_MODES,
    SUBFIELDS,
    IPType,
    Maturity,
    RightsNote,
    TransferMode,
    values,
)
from vocab.values import MAX_WAN, format_wan, split_list

#: a challenge's deadline is a calendar day in Tianjin (UTC+8)
_LOCAL_TZ = timezone(timedelta(hours=8))

#: shortest valid title and main text (车门锁 is a real need's whole title, 如何去除花椒中苦味 a whole
#: description): short is not invalid
TITLE_MIN = 2
TEXT_MIN = 5
#: below these an import row is still accepted, with a warning in the report
TITLE_USUAL = 4
TEXT_USUAL = 10

PHONE = re.compile(r"^[0-9+()\- ]{5,30}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

LABELS: dict[str, str] = {
    "title": "名称",
    "summary": "成果简介",
    "problem": "解决的问题",
    "advantage": "量化优势",
    "description": "需求描述",
    "requirements": "必备要求",
    "target_metrics": "目标指标",
    "field": "技术领域",
    "keywords": "关键词",
    "maturity": "成熟度",
    "trl": "技术就绪度（TRL）",
    "ip_type": "知识产权类型",
    "patent_numbers": "专利号",
    "transfer_modes": "转化方式",
    "cooperation_modes": "合作方式",
    "price_negotiable": "面议",
    "price_wan": "价格",
    "appraised_wan": "评估价值",
    "inventors": "发明人/团队",
    "rights_note": "赋权情况",
    "budget_min_wan": "预算下限",
    "budget_max_wan": "预算上限",
    "deadline": "截止日期",
    "reward_wan": "悬赏金额",
    "eligibility": "揭榜条件",
    "no_secret_confirmed": "不含商业秘密确认",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "contact_email": "联系邮箱",
    "external_id": "编号",
}


def split_multi(value: Any) -> list[str]:
    """A list from a list or from a cell such as "技术转让、技术许可；合作开发"."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        return split_list(str(value))
    items = value
    out: list[str] = []
    for item in items:
        text = " ".join(str(item).split())
        if text and text not in out:
            out.append(text)
    return out


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _check_enum(items: list[str], allowed: tuple[str, ...], label: str) -> list[str]:
    bad = [i for i in items if i not in allowed]
    if bad:
        raise ValueError(f"{label}“{'、'.join(bad)}”不在可选范围内（可选：{'、'.join(allowed)}）")
    return items


class ListingIn(SQLModel):
    """Fields shared by results and needs."""

    title: str
    field: str | None = None
    keywords: list[str] = []
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    external_id: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < TITLE_MIN:
            raise ValueError(f"名称至少 {TITLE_MIN} 个字，请写清是什么技术")
        if len(value) > 200:
            raise ValueError("名称不能超过 200 个字")
        return value

    @field_validator("field")
    @classmethod
    def _field(cls, value: str | None) -> str | None:
        if value is not None and value not in SUBFIELDS:
            raise ValueError(f"技术领域“{value}”不在分类中，请从列表中选择二级领域")
        return value

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> list[str]:
        items = split_multi(value)
        if len(items) > 10:
            raise ValueError("关键词最多 10 个")
        if any(len(k) > 30 for k in items):
            raise ValueError("每个关键词不超过 30 个字")
        return items

    @field_validator("contact_name")
    @classmethod
    def _contact_name(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 60:
            raise ValueError("联系人不能超过 60 个字")
        return value

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not PHONE.match(value):
            raise ValueError("联系电话格式不正确（只能包含数字、空格、+、-、括号）")
        return value

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 254 or not EMAIL.match(value)):
            raise ValueError("联系邮箱格式不正确")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 64:
            raise ValueError("编号不能超过 64 个字符")
        return value


def _long_text(value: str | None, label: str, minimum: int = 0, maximum: int = 5000) -> str | None:
    if value is None:
        return None
    if len(value) < minimum:
        raise ValueError(f"{label}至少 {minimum} 个字")
    if len(value) > maximum:
        raise ValueError(f"{label}不能超过 {maximum} 个字")
    return value


def _money(value: float | None, label: str) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value):  # NaN passes every comparison below; forms and XLSX cells can carry it
        raise ValueError(f"{label}必须是具体的数字（单位：万元），不能是 NaN 或无穷大")
    if value < 0 or value > MAX_WAN:
        raise ValueError(f"{label}应在 0 到 {format_wan(MAX_WAN)}之间（单位：万元）")
    return round(float(value), 2)


class ResultIn(ListingIn):
    """A research result as submitted."""

    summary: str
    problem: str | None = None
    advantage: str | None = None
    maturity: str | None = None
    trl: int | None = None
    ip_type: str | None = None
    patent_numbers: list[str] = []
    transfer_modes: list[str] = []
    price_negotiable: bool = True
    price_wan: float | None = None
    appraised_wan: float | None = None
    inventors: list[str] = []
    rights_note: str | None = None

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str) -> str:
        return _long_text(value, "成果简介", TEXT_MIN)

    @field_validator("problem", "advantage")
    @classmethod
    def _texts(cls, value: str | None) -> str | None:
        return _long_text(value, "说明", 0, 3000)

    @field_validator("maturity")
    @classmethod
    def _maturity(cls, value: str | None) -> str | None:
        return value if value is None else _check_enum([value], values(Maturity), "成熟度")[0]

    @field_validator("trl")
    @classmethod
    def _trl(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 9:
            raise ValueError("技术就绪度（TRL）应为 1–9")
        return value

    @field_validator("ip_type")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        return value if value is None else _check_enum([value], values(IPType), "知识产权类型")[0]

    @field_validator("patent_numbers", "inventors", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> list[str]:
        items = split_multi(value)
        if len(items) > 50:
            raise ValueError("最多 50 项")
        return items

    @field_validator("transfer_modes", mode="before")
    @classmethod
    def _modes(cls, value: Any) -> list[str]:
        return _check_enum(split_multi(value), values(TransferMode), "转化方式")

    @field_validator("price_wan")
    @classmethod
    def _price(cls, value: float | None) -> float | None:
        return _money(value, "价格")

    @field_validator("appraised_wan")
    @classmethod
    def _appraised(cls, value: float | None) -> float | None:
        return _money(value, "评估价值")

    @field_validator("rights_note")
    @classmethod
    def _rights(cls, value: str | None) -> str | None:
        return value if value is None else _check_enum([value], values(RightsNote), "赋权情况")[0]

    @model_validator(mode="after")
    def _price_or_negotiable(self) -> ResultIn:
        if self.price_wan is not None:
            self.price_negotiable = False
        elif not self.price_negotiable:
            raise ValueError("price_wan:未选择“面议”时请填写价格（万元）")
        return self


class NeedIn(ListingIn):
    """A technology need as submitted."""

    description: str
    requirements: str | None = None
    target_metrics: str | None = None
    cooperation_modes: list[str] = []
    budget_min_wan: float | None = None
    budget_max_wan: float | None = None
    deadline: date | None = None
    is_challenge: bool = False
    reward_wan: float | None = None
    eligibility: str | None = None
    no_secret_confirmed: bool = False

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _long_text(value, "需求描述", TEXT_MIN)

    @field_validator("requirements", "target_metrics", "eligibility")
    @classmethod
    def _texts(cls, value: str | None) -> str | None:
        return _long_text(value, "说明", 0, 3000)

    @field_validator("cooperation_modes", mode="before")
    @classmethod
    def _modes(cls, value: Any) -> list[str]:
        return _check_enum(split_multi(value), COOPERATION_MODES, "合作方式")

    @field_validator("budget_min_wan", "budget_max_wan")
    @classmethod
    def _budget(cls, value: float | None) -> float | None:
        return _money(value, "预算")

    @field_validator("reward_wan")
    @classmethod
    def _reward(cls, value: float | None) -> float | None:
        return _money(value, "悬赏金额")

    @model_validator(mode="after")
    def _rules(self) -> NeedIn:
        if self.is_challenge and CHALLENGE_MODE not in self.cooperation_modes:
            self.cooperation_modes = [*self.cooperation_modes, CHALLENGE_MODE]
        elif CHALLENGE_MODE in self.cooperation_modes:
            self.is_challenge = True
        problems = need_rule_problems(self.__dict__)
        if problems:
            raise ValueError(RULES_SEPARATOR.join(f"{field}:{message}" for field, message in problems))
        return self


#: joins several model-level problems in one ValueError (each "field:message")
RULES_SEPARATOR = "\n"


def _day(value: Any) -> date | None:
    """A date from a validated value or the raw input ("2027-06-30"); None when there is none."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None  # a value that is not a number is reported by its own field


def need_rule_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    """The rules across a need's fields, every one that fails. Reads validated values, or the raw input
    when some fields failed (so the form shows these problems together with the fields' own)."""
    out: list[tuple[str, str]] = []
    lo, hi = _number(values.get("budget_min_wan")), _number(values.get("budget_max_wan"))
    if lo is not None and hi is not None and lo > hi:
        out.append(("budget_max_wan", "预算上限不能小于下限"))
    modes = values.get("cooperation_modes") or []
    challenge = bool(values.get("is_challenge")) or CHALLENGE_MODE in (
        split_multi(modes) if isinstance(modes, str) else modes
    )
    if challenge and _number(values.get("reward_wan")) is None and not values.get("reward_wan"):
        out.append(("reward_wan", "揭榜挂帅需求请填写悬赏金额（万元）"))
    deadline = _day(values.get("deadline"))
    if challenge and deadline is not None and deadline <= datetime.now(_LOCAL_TZ).date():
        out.append(("deadline", "揭榜截止日期应晚于今天（已过去的日期不能张榜）"))
    if not values.get("no_secret_confirmed"):
        out.append(("no_secret_confirmed", "请确认需求内容不含商业秘密"))
    return out


SCHEMAS: dict[str, type[ResultIn] | type[NeedIn]] = {"result": ResultIn, "need": NeedIn}

_PYDANTIC_MESSAGES = {
    "missing": "此项必填",
    "string_type": "应为文字",
    "float_parsing": "应为数字（单位：万元）",
    "float_type": "应为数字（单位：万元）",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为“是”或“否”",
    "date_from_datetime_parsing": "日期格式应为 2027-06-30",
    "date_parsing": "日期格式应为 2027-06-30",
    "list_type": "应为列表",
}


def _errors(exc: ValidationError) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else None
        if err["type"] == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
            *more, message = message.split(RULES_SEPARATOR)
            for extra in more:  # a model-level rule reporting several problems
                name, _, text = extra.partition(":")
                out.append((name, _labelled(name, text)))
            if ":" in message and message.split(":", 1)[0] in LABELS:  # model-level rule naming a field
                field, message = message.split(":", 1)
        elif err.get("input") is None:
            message = "此项必填"
        else:
            message = _PYDANTIC_MESSAGES.get(err["type"], "格式不正确")
        out.append((field, _labelled(field, message)))
    return out


def _labelled(field: str | None, message: str) -> str:
    label = LABELS.get(field or "", "")
    return message if not label or label in message else f"{label}：{message}"


#: the main text of each kind (the one with a minimum length)
MAIN_TEXT = {"result": "summary", "need": "description"}


def shorter_than_usual(kind: str, listing: ResultIn | NeedIn) -> list[str]:
    """Warnings for a valid listing whose title or main text is shorter than most (not an error)."""
    out = []
    if len(listing.title) < TITLE_USUAL:
        out.append(f"名称只有 {len(listing.title)} 个字，比通常短，建议补充写清是什么技术")
    text = getattr(listing, MAIN_TEXT[kind]) or ""
    if len(text) < TEXT_USUAL:
        out.append(f"{LABELS[MAIN_TEXT[kind]]}只有 {len(text)} 个字，比通常短，补充后更容易被匹配")
    return out


def validate_listing(kind: str, data: dict[str, Any]) -> ResultIn | NeedIn:
    """Validate raw input for a listing of `kind`, raising DomainError with Chinese (field, reason) pairs."""
    try:
        return SCHEMAS[kind].model_validate(data)
    except ValidationError as exc:
        errors = _errors(exc)
        if kind == "need" and isinstance(data, dict):
            # Field errors stop pydantic before the rules across fields: check those on the raw input,
            # so every problem is reported at once.
            seen = {field for field, _ in errors}
            errors += [
                (field, _labelled(field, message))
                for field, message in need_rule_problems(data)
                if field not in seen
            ]
        raise DomainError(*errors) from None
