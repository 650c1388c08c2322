"""How people write values in listings, spreadsheets and the API: lists, 万元 amounts and ranges, and
the words for 面议. One definition, read by import, listing validation and matching.

Plain functions over text: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

#: between list items (keywords, modes, inventors): 、，,；; | and line breaks, full- or half-width.
#: "/" is not one: it is part of names such as TCP/IP, 5G/6G and I/O.
LIST_SEPARATORS = re.compile(r"[、，,；;|｜\n\r\t]+")

#: what people write instead of a price or a budget when there is none to state
NEGOTIABLE_WORDS = frozenset({"面议", "议价", "协商", "面谈", "待定", "negotiable"})

_NUMBER = r"\d+(?:\.\d+)?"
_UNIT = r"(?:万元|万|w)?"
_DASH = r"(?:-|~|～|至|到|—|–|－)"
_AMOUNT = re.compile(rf"^({_NUMBER}){_UNIT}$")
_RANGE = re.compile(rf"^({_NUMBER}){_UNIT}{_DASH}({_NUMBER}){_UNIT}$")
_ABOVE = re.compile(rf"^(?:≥|>=|>)?({_NUMBER}){_UNIT}(?:以上|起)$|^(?:≥|>=)({_NUMBER}){_UNIT}$")
_BELOW = re.compile(rf"^(?:≤|<=|<)?({_NUMBER}){_UNIT}(?:以内|以下|之内)$|^(?:≤|<=)({_NUMBER}){_UNIT}$")


def fold(text: str) -> str:
    """Full-width to half-width, lower case, no spaces: the form values are compared in."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def split_list(text: str) -> list[str]:
    """Items of a list written in one cell, spaces collapsed, in order, each once."""
    out: list[str] = []
    for item in LIST_SEPARATORS.split(text):
        item = " ".join(item.split())
        if item and item not in out:
            out.append(item)
    return out


def is_negotiable(text: str) -> bool:
    """面议 and its synonyms (any width or case)."""
    return fold(text) in NEGOTIABLE_WORDS


def parse_wan(text: str) -> float | None:
    """A 万元 amount from "120", "120万", "120万元" or "1,200"; None when the text is not one."""
    m = _AMOUNT.match(fold(text).replace(",", ""))
    return float(m.group(1)) if m else None


def parse_wan_range(text: str) -> tuple[float | None, float | None] | None:
    """(low, high) in 万元 from "50-100", "50～100万", "50至100", "50万以上" (no high) or "100以内" (no
    low); None when the text is not a range (a single amount is the caller's to read)."""
    folded = fold(text).replace(",", "")
    if m := _RANGE.match(folded):
        return float(m.group(1)), float(m.group(2))
    if m := _ABOVE.match(folded):
        return float(m.group(1) or m.group(2)), None
    if m := _BELOW.match(folded):
        return None, float(m.group(1) or m.group(2))
    return None


#: the largest amount, in 万元, that a price, budget, contract, bid or financing request may state
#: (1000 亿元); every limit message shows it through `format_wan`
MAX_WAN = 10_000_000


def format_wan(value: float | int | str | None, *, unit: bool = True) -> str:
    """An amount already in 万元 as people read it: thousands separated, at most two decimals, no
    trailing zeros, and the unit once — 120 → "120 万元", 10000000 → "10,000,000 万元" (never
    "1000 万万元" or "1e+07"). Text such as "120万元" is read first, so its unit is not doubled;
    `unit=False` gives the number alone (a column headed “（万元）”); None is "—"."""
    if value is None:
        return "—"
    if isinstance(value, str):
        parsed = parse_wan(value)
        if parsed is None:
            return value.strip()
        value = parsed
    cents = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # fen, as money is
    number = f"{cents:,.2f}".rstrip("0").rstrip(".")
    return f"{number} 万元" if unit else number
