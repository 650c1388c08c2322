"""Reading spreadsheet cells into schema values: text, amounts in 万元, budget ranges, dates, yes/no,
and the enumerations with the variants people actually write (实验室 → 实验室阶段, 软著 → 计算机软件著作权).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from vocab.analyzer import canonical, normalize
from vocab.taxonomy import (
    CHALLENGE_MODE,
    COOPERATION_MODES,
    FIELDS,
    SUBFIELDS,
    IPType,
    Maturity,
    RightsNote,
    TransferMode,
    values,
)
from vocab.values import fold, is_negotiable, parse_wan, parse_wan_range


class CellError(ValueError):
    """A cell cannot be read; the message is Chinese and names the column."""


def text(value: Any) -> str | None:
    """A cell as trimmed text (integral numbers without “.0”), or None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    out = str(value).strip()
    if len(out) > 1 and out[0] == "'" and out[1] in "=+-@":
        out = out[1:]  # the apostrophe a safe export put before a formula character
    return out or None


_fold = fold


def money(value: Any, label: str) -> float | None:
    """An amount in 万元 from 120 / “120” / “120万元” / “1,200”; None when blank."""
    if isinstance(value, bool):
        raise CellError(f"{label}“{text(value)}”应为数字（单位：万元）")
    if isinstance(value, int | float):
        return float(value)
    raw = text(value)
    if raw is None:
        return None
    amount = parse_wan(raw)
    if amount is not None:
        return amount
    raise CellError(f"{label}“{raw[:30]}”无法识别：请填写数字（单位：万元）")


def price(value: Any) -> tuple[bool, float | None]:
    """(negotiable, amount) from a price cell: blank or 面议 means negotiable."""
    raw = text(value)
    if raw is None or is_negotiable(raw):
        return True, None
    return False, money(value, "价格")


def budget(value: Any) -> tuple[float | None, float | None]:
    """(min, max) in 万元 from 100, 50-100, 50～100, 50至100, 50万以上 or 100以内; blank / 面议: no budget."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), float(value)
    raw = text(value)
    if raw is None:
        return None, None
    if is_negotiable(raw):
        return None, None
    if (bounds := parse_wan_range(raw)) is not None:
        return bounds
    amount = money(value, "预算")
    return amount, amount


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)


def deadline(value: Any) -> date | None:
    """A date from an Excel date cell, an Excel serial number, 2027-06-30, 2027/6/30 or 2027年6月30日."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 < value < 80000:
        return _EXCEL_EPOCH + timedelta(days=int(value))  # a date cell without its date format
    raw = text(value)
    if raw is None:
        return None
    folded = _fold(raw)
    for pattern in _DATE_PATTERNS:
        if m := pattern.match(folded):
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
    raise CellError(f"截止日期“{raw[:30]}”无法识别：请写成 2027-06-30、2027/6/30 或 2027年6月30日")


_TRUE = {"是", "y", "yes", "1", "true", "t", "√", "✓", "对", "有"}
_FALSE = {"否", "n", "no", "0", "false", "f", "×", "x", "无", "不是"}


def yes_no(value: Any) -> bool | None:
    """True / False from 是/否/Y/N/1/0/true/false; None when blank; CellError when unrecognised."""
    if isinstance(value, bool):
        return value
    raw = text(value)
    if raw is None:
        return None
    folded = _fold(raw)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise CellError(f"揭榜挂帅“{raw[:20]}”无法识别（应填“是”或“否”），按“否”处理")


def integer(value: Any, label: str) -> int | None:
    raw = text(value)
    if raw is None:
        return None
    folded = _fold(raw).removeprefix("trl")
    if folded.isdigit():
        return int(folded)
    raise CellError(f"{label}“{raw[:20]}”应为整数，已忽略")


# --- enumerations, with the variants people write ----------------------------------------------------

_ALIASES: dict[str, dict[str, str]] = {
    "maturity": {
        "实验室": Maturity.LAB,
        "实验室阶段": Maturity.LAB,
        "研发阶段": Maturity.LAB,
        "小试阶段": Maturity.PILOT_SMALL,
        "中试阶段": Maturity.PILOT,
        "产业化阶段": Maturity.INDUSTRIAL,
        "已产业化": Maturity.INDUSTRIAL,
        "量产": Maturity.INDUSTRIAL,
        "批量生产": Maturity.INDUSTRIAL,
    },
    "ip_type": {
        "发明": IPType.INVENTION,
        "实用新型": IPType.UTILITY,
        "外观设计": IPType.DESIGN,
        "软件著作权": IPType.SOFTWARE,
        "软著": IPType.SOFTWARE,
        "计算机软件著作权": IPType.SOFTWARE,
        "布图设计": IPType.IC_LAYOUT,
    },
    "modes": {
        "转让": TransferMode.TRANSFER,
        "专利转让": TransferMode.TRANSFER,
        "许可": TransferMode.LICENSE,
        "专利许可": TransferMode.LICENSE,
        "许可使用": TransferMode.LICENSE,
        "作价入股": TransferMode.EQUITY,
        "技术入股": TransferMode.EQUITY,
        "入股": TransferMode.EQUITY,
        "联合开发": TransferMode.JOINT_DEV,
        "共同开发": TransferMode.JOINT_DEV,
        "委托研发": TransferMode.COMMISSIONED_DEV,
        "服务": TransferMode.SERVICE,
        "咨询": TransferMode.CONSULTING,
        "揭榜": CHALLENGE_MODE,
    },
    "rights_note": {"所有权": RightsNote.OWNERSHIP, "使用权": RightsNote.LONG_TERM_USE},
}

ENUMS: dict[str, tuple[str, ...]] = {
    "maturity": values(Maturity),
    "ip_type": values(IPType),
    "rights_note": values(RightsNote),
    "transfer_modes": values(TransferMode),
    "cooperation_modes": COOPERATION_MODES,
}


def enum_value(key: str, raw: str) -> str | None:
    """The allowed value for `raw` in enumeration `key` (exact, or a known variant), else None."""
    allowed = ENUMS[key]
    folded = _fold(raw)
    for value in allowed:
        if _fold(value) == folded:
            return value
    alias = _ALIASES.get("modes" if key.endswith("_modes") else key, {}).get(folded)
    return str(alias) if alias is not None and alias in allowed else None


_FIELD_SPLIT = re.compile(r"[/／\\>＞\-—|｜·:：,，、]+")
_FOLDED_SUBFIELDS = {_fold(s): s for s in SUBFIELDS}
_FOLDED_FIELDS = {_fold(f): f for f in FIELDS}


def read_field(raw: str) -> tuple[str | None, str | None]:
    """(second-level field, first-level field) recognised in a 技术领域 cell such as “新能源/储能”."""
    folded = _fold(raw)
    parts = [folded, *(_fold(p) for p in _FIELD_SPLIT.split(raw) if p.strip())]
    top = None
    for part in reversed(parts):  # the most specific part is usually last
        for candidate in (
            part,
            canonical(normalize(part)),
            part.removesuffix("技术"),
            part.removesuffix("领域"),
        ):
            if candidate in _FOLDED_SUBFIELDS:
                return _FOLDED_SUBFIELDS[candidate], None
            if candidate in _FOLDED_FIELDS:
                top = top or _FOLDED_FIELDS[candidate]
    return None, top
