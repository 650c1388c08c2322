"""Explanations in words: what an agent reads next to a match.

* shared key terms without filler (a reviewed list, `data/display_stopwords.txt`), acronyms as written
  in the listings (PCR, MWh, BMS), not as the analyzer's lower case;
* the field, maturity, mode, price and region parts as sentences
  ("同属储能；成果报价 50 万元在需求预算 30–80 万元之内");
* a score as 高 / 中 / 低 (the number stays available, e.g. on hover).

Plain functions over the matcher's encoded attributes (`matching.scoring.Attributes`), so the per-listing
store and the in-memory matcher explain a pair identically.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np

from vocab.taxonomy import FIELD_PARENT, FIELDS, MATURITY_ORDER, TransferMode

_DATA = Path(__file__).resolve().parent / "data"
_SUBFIELDS: tuple[str, ...] = tuple(FIELD_PARENT)
_TOPS: tuple[str, ...] = tuple(FIELDS)
_MATURITIES: tuple[str, ...] = tuple(MATURITY_ORDER)
_MODES: tuple[str, ...] = tuple(m.value for m in TransferMode)
#: a Latin word as written in a listing (PCR, MWh, Li-ion, 5G)
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+[A-Za-z]+[A-Za-z0-9]*")

#: score levels shown instead of the number: (lowest score, label), highest first
LEVELS: tuple[tuple[float, str], ...] = ((0.6, "高"), (0.45, "中"), (0.0, "低"))


@cache
def display_stopwords() -> frozenset[str]:
    """The reviewed list of words never shown as a shared key term."""
    text = (_DATA / "display_stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if (w := line.split("#", 1)[0].strip()))


def score_level(score: float | None) -> str:
    """高 / 中 / 低 for a match score in [0, 1] (低 for a missing one)."""
    if score is None or not math.isfinite(score):
        return "低"
    return next(label for floor, label in LEVELS if score >= floor)


def written_forms(texts: Iterable[str]) -> dict[str, str]:
    """lower-cased Latin word -> how the texts most often write it (pcr -> PCR, mwh -> MWh), for
    words written other than in lower case."""
    seen: dict[str, Counter[str]] = {}
    for text in texts:
        for word in _LATIN.findall(text or ""):
            lower = word.lower()
            if word != lower:
                seen.setdefault(lower, Counter())[word] += 1
    return {lower: forms.most_common(1)[0][0] for lower, forms in seen.items()}


def display_term(term: str, forms: dict[str, str]) -> str:
    """A key term as a person writes it: a Latin word in its written form, else upper case when it
    is a short letter run (an acronym the corpus never wrote: pcr -> PCR)."""
    if not term.isascii():
        return term
    if term in forms:
        return forms[term]
    return term.upper() if term.isalpha() and len(term) <= 4 else term


def _wan(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}".rstrip("0").rstrip(".")


def _modes(mask: int) -> list[str]:
    return [name for i, name in enumerate(_MODES) if mask >> i & 1]


def sentences(values: np.ndarray, need: dict, result: dict) -> list[str]:
    """The non-text parts of a match as short sentences, for parts that are known.

    `values` are the raw component values of the pair (`matching.scoring.components`, one row);
    `need` and `result` are one listing's attributes as a dict of scalars (`attributes_row`).
    """
    out: list[str] = []
    field = values[1]
    if not np.isnan(field):
        out.append(_field_sentence(float(field), need, result))
    maturity = values[2]
    if not np.isnan(maturity) and result["maturity"] >= 0:
        stage = _MATURITIES[result["maturity"]]
        if need["maturity"] >= 0:
            wish = _MATURITIES[need["maturity"]]
            verb = "达到" if result["maturity"] >= need["maturity"] else "未达到"
            out.append(f"成果处于{stage}阶段，{verb}需求要求的{wish}")
        else:
            out.append(f"成果处于{stage}阶段")
    mode = values[3]
    if not np.isnan(mode):
        shared = _modes(need["modes"] & result["modes"])
        if shared:
            out.append("合作方式一致：" + "、".join(shared))
        elif mode > 0:
            out.append(
                f"合作方式相近：需求方希望{'、'.join(_modes(need['modes']))}，成果可{'、'.join(_modes(result['modes']))}"
            )
        else:
            out.append(f"合作方式不同：成果只接受{'、'.join(_modes(result['modes']))}")
    price = values[4]
    if not np.isnan(price):
        out.append(_price_sentence(need, result))
    if not np.isnan(values[5]):
        out.append("双方都在京津冀")
    return out


def _field_sentence(value: float, need: dict, result: dict) -> str:
    names = [
        _SUBFIELDS[side["field_sub"]] if side["field_sub"] >= 0 else _TOPS[side["field_top"]]
        for side in (need, result)
        if side["field_top"] >= 0
    ]
    if value >= 1.0:
        return f"同属{names[1] if len(names) == 2 else '同一技术领域'}"
    if len(names) < 2:
        return "技术领域不同"
    if value > 0:
        return f"领域相近：同属{_TOPS[need['field_top']]}（需求为{names[0]}，成果为{names[1]}）"
    return f"技术领域不同：需求为{names[0]}，成果为{names[1]}"


def _price_sentence(need: dict, result: dict) -> str:
    price, low, high = result["high"], need["low"], need["high"]
    if not np.isnan(low) and not np.isnan(high):
        budget = f"{_wan(low)}–{_wan(high)} 万元" if low != high else f"{_wan(high)} 万元"
    elif not np.isnan(high):
        budget = f"不超过 {_wan(high)} 万元"
    else:
        budget = f"不低于 {_wan(low)} 万元"
    if not np.isnan(low) and price < low:
        return f"成果报价 {_wan(price)} 万元低于需求预算 {budget}"
    if np.isnan(high) or price <= high:
        return f"成果报价 {_wan(price)} 万元在需求预算 {budget}之内"
    return f"成果报价 {_wan(price)} 万元超出需求预算 {budget}"


def attributes_row(attrs, i: int = 0) -> dict:
    """One listing's encoded attributes (`matching.scoring.Attributes`) as a dict of scalars."""
    return {name: getattr(attrs, name)[i].item() for name in attrs.__dataclass_fields__}
