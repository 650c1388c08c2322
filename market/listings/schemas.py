"""Input schemas (non-table SQLModel): every listing is validated here before a table model is built.

Forms, the bulk import and the JSON API all pass through `validate_listing`, so the rules and the
Chinese messages are the same everywhere.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlmodel import SQLModel

from market.errors import DomainError
from market.listings.labels import LABELS, label
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


class FieldProblems(ValueError):
    """Problems a rule across fields found, each with the field it belongs to: raised from a model
    validator (whose error pydantic places at no field), read back by `_errors` with their fields."""

    def __init__(self, *problems: tuple[str, str]) -> None:
        super().__init__("；".join(message for _, message in problems))
        self.problems = problems


# Reusable field types. Each check names its field from the registry (`info.field_name`), so one type
# serves every field it fits and the message always carries that field's own name.


def _name(info: ValidationInfo) -> str:
    return label(info.field_name or "")


def _title(value: str) -> str:
    value = " ".join(value.split())
    if len(value) < TITLE_MIN:
        raise ValueError(f"名称至少 {TITLE_MIN} 个字，请写清是什么技术")
    if len(value) > 200:
        raise ValueError("名称不能超过 200 个字")
    return value


def _text(minimum: int, maximum: int, unit: str = "个字") -> AfterValidator:
    def check(value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and len(value) < minimum:
            raise ValueError(f"{_name(info)}至少 {minimum} {unit}")
        if value is not None and len(value) > maximum:
            raise ValueError(f"{_name(info)}不能超过 {maximum} {unit}")
        return value

    return AfterValidator(check)


def _pattern(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    def check(value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not pattern.match(value):
            raise ValueError(f"{_name(info)}格式不正确{rule}")
        return value

    return AfterValidator(check)


def _money(value: float | None, info: ValidationInfo) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value):  # NaN passes every comparison below; forms and XLSX cells can carry it
        raise ValueError(f"{_name(info)}必须是具体的数字（单位：万元），不能是 NaN 或无穷大")
    if value < 0 or value > MAX_WAN:
        raise ValueError(f"{_name(info)}应在 0 到 {format_wan(MAX_WAN)}之间（单位：万元）")
    return round(float(value), 2)


def _outside(items: list[str], allowed: tuple[str, ...], info: ValidationInfo) -> list[str]:
    bad = [i for i in items if i not in allowed]
    if bad:
        raise ValueError(f"{_name(info)}“{'、'.join(bad)}”不在可选范围内（可选：{'、'.join(allowed)}）")
    return items


def _one_of(allowed: tuple[str, ...]) -> AfterValidator:
    def check(value: str | None, info: ValidationInfo) -> str | None:
        return value if value is None else _outside([value], allowed, info)[0]

    return AfterValidator(check)


def _some_of(allowed: tuple[str, ...]) -> BeforeValidator:
    def check(value: Any, info: ValidationInfo) -> list[str]:
        return _outside(split_multi(value), allowed, info)

    return BeforeValidator(check)


def _items(maximum: int, longest: int | None = None) -> BeforeValidator:
    def check(value: Any, info: ValidationInfo) -> list[str]:
        items = split_multi(value)
        if len(items) > maximum:
            raise ValueError(f"{_name(info)}最多 {maximum} 个")
        if longest is not None and any(len(item) > longest for item in items):
            raise ValueError(f"每个{_name(info)}不超过 {longest} 个字")
        return items

    return BeforeValidator(check)


def _subfield(value: str | None) -> str | None:
    if value is not None and value not in SUBFIELDS:
        raise ValueError(f"技术领域“{value}”不在分类中，请从列表中选择二级领域")
    return value


def _trl(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 9:
        raise ValueError("技术就绪度（TRL）应为 1–9")
    return value


Title = Annotated[str, AfterValidator(_title)]
MainText = Annotated[str, _text(TEXT_MIN, 5000)]
Note = Annotated[str | None, _text(0, 3000)]
Wan = Annotated[float | None, AfterValidator(_money)]
Subfield = Annotated[str | None, AfterValidator(_subfield)]
Keywords = Annotated[list[str], _items(10, 30)]
Items = Annotated[list[str], _items(50)]
Phone = Annotated[str | None, _pattern(PHONE, "（只能包含数字、空格、+、-、括号）")]
Email = Annotated[str | None, _text(0, 254), _pattern(EMAIL, "")]
Person = Annotated[str | None, _text(0, 60)]
ExternalId = Annotated[str | None, _text(0, 64, "个字符")]
Trl = Annotated[int | None, AfterValidator(_trl)]


class ListingIn(SQLModel):
    """Fields shared by results and needs."""

    title: Title
    field: Subfield = None
    keywords: Keywords = []
    contact_name: Person = None
    contact_phone: Phone = None
    contact_email: Email = None
    external_id: ExternalId = None

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return _blank_to_none(value)


class ResultIn(ListingIn):
    """A research result as submitted."""

    summary: MainText
    problem: Note = None
    advantage: Note = None
    maturity: Annotated[str | None, _one_of(values(Maturity))] = None
    trl: Trl = None
    ip_type: Annotated[str | None, _one_of(values(IPType))] = None
    patent_numbers: Items = []
    transfer_modes: Annotated[list[str], _some_of(values(TransferMode))] = []
    price_negotiable: bool = True
    price_wan: Wan = None
    appraised_wan: Wan = None
    inventors: Items = []
    rights_note: Annotated[str | None, _one_of(values(RightsNote))] = None

    @model_validator(mode="after")
    def _price_or_negotiable(self) -> ResultIn:
        if self.price_wan is not None:
            self.price_negotiable = False
        elif not self.price_negotiable:
            raise FieldProblems(("price_wan", "未选择“面议”时请填写价格（万元）"))
        return self


class NeedIn(ListingIn):
    """A technology need as submitted."""

    description: MainText
    requirements: Note = None
    target_metrics: Note = None
    cooperation_modes: Annotated[list[str], _some_of(COOPERATION_MODES)] = []
    budget_min_wan: Wan = None
    budget_max_wan: Wan = None
    deadline: date | None = None
    is_challenge: bool = False
    reward_wan: Wan = None
    eligibility: Note = None
    no_secret_confirmed: bool = False

    @model_validator(mode="after")
    def _rules(self) -> NeedIn:
        if self.is_challenge and CHALLENGE_MODE not in self.cooperation_modes:
            self.cooperation_modes = [*self.cooperation_modes, CHALLENGE_MODE]
        elif CHALLENGE_MODE in self.cooperation_modes:
            self.is_challenge = True
        problems = need_rule_problems(self.__dict__)
        if problems:
            raise FieldProblems(*problems)
        return self


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
        error = err.get("ctx", {}).get("error")
        if isinstance(error, FieldProblems):  # a rule across fields: each problem at its own field
            out += [(name, _labelled(name, message)) for name, message in error.problems]
            continue
        if err["type"] == "value_error":
            message = str(error if error is not None else err["msg"])
        elif err.get("input") is None:
            message = "此项必填"
        else:
            message = _PYDANTIC_MESSAGES.get(err["type"], "格式不正确")
        out.append((field, _labelled(field, message)))
    return out


def _labelled(field: str | None, message: str) -> str:
    name = LABELS.get(field or "", "")
    return message if not name or name in message else f"{name}：{message}"


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
