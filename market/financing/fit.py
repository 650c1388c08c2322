"""How well a financing request fits an investor: field, stage, ticket size and text, with reasons.

Plain data in and out (no Flask, no database), so it is tested directly. The text part uses the
matching library's word tokens (the shared jieba analyzer with the domain dictionary and synonyms).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from matching.text import DISPLAY_STOPWORDS, word_tokens
from vocab.taxonomy import field_parent

WEIGHTS = {"field": 0.35, "stage": 0.25, "ticket": 0.25, "text": 0.15}


@dataclass(frozen=True)
class Ask:
    """The matchable side of a financing request."""

    id: int
    field: str | None
    stage: str
    amount_wan: float
    text: str


@dataclass(frozen=True)
class Focus:
    """The matchable side of an investor profile."""

    id: int
    fields: Sequence[str] = ()
    stages: Sequence[str] = ()
    ticket_min_wan: float | None = None
    ticket_max_wan: float | None = None
    text: str = ""


@dataclass
class Fit:
    ask_id: int
    focus_id: int
    score: float
    components: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


def _terms(text: str) -> set[str]:
    return {t for t in word_tokens(text) if len(t) > 1 and t not in DISPLAY_STOPWORDS and not t.isdigit()}


def field_fit(ask_field: str | None, fields: Sequence[str]) -> tuple[float, str | None]:
    if not ask_field or not fields:
        return 0.0, None
    if ask_field in fields:
        return 1.0, f"关注领域：{ask_field}"
    parent = field_parent(ask_field)
    if parent and any(field_parent(f) == parent for f in fields):
        return 0.5, f"同属{parent}"
    return 0.0, None


def ticket_fit(amount: float, low: float | None, high: float | None) -> tuple[float, str | None]:
    """1 inside the ticket range; falling off with the ratio outside it; 0 when no range is set."""
    if low is None and high is None:
        return 0.0, None
    low = low or 0.0
    if amount >= low and (high is None or amount <= high):
        span = f"{low:g}–{high:g}" if high is not None else f"{low:g} 以上"
        return 1.0, f"金额 {amount:g} 万元在单笔投资范围（{span} 万元）内"
    ratio = amount / high if high is not None and amount > high else (amount / low if low else 0.0)
    ratio = ratio if ratio <= 1 else 1 / ratio
    return (0.5 * ratio, "金额接近单笔投资范围") if ratio >= 0.5 else (0.0, None)


def fit(ask: Ask, focus: Focus, *, ask_terms: set[str] | None = None) -> Fit:
    """The weighted fit of one request to one investor with the reasons behind it."""
    components: dict[str, float] = {}
    reasons: list[str] = []
    components["field"], why = field_fit(ask.field, focus.fields)
    if why:
        reasons.append(why)
    components["stage"] = 1.0 if ask.stage in focus.stages else 0.0
    if components["stage"]:
        reasons.append(f"投资阶段：{ask.stage}")
    components["ticket"], why = ticket_fit(ask.amount_wan, focus.ticket_min_wan, focus.ticket_max_wan)
    if why:
        reasons.append(why)
    a = ask_terms if ask_terms is not None else _terms(ask.text)
    b = _terms(focus.text)
    shared = sorted(a & b, key=lambda t: (-len(t), t))
    components["text"] = min(1.0, len(shared) / 4) if shared else 0.0
    if shared:
        reasons.append("共同关键词：" + "、".join(shared[:5]))
    score = round(sum(WEIGHTS[k] * v for k, v in components.items()), 4)
    return Fit(ask.id, focus.id, score, components, reasons)


def rank_focuses(ask: Ask, focuses: Iterable[Focus], *, k: int = 10, floor: float = 0.25) -> list[Fit]:
    """推荐投资机构: the investors that fit a request best."""
    terms = _terms(ask.text)
    fits = [fit(ask, f, ask_terms=terms) for f in focuses]
    return sorted((f for f in fits if f.score >= floor), key=lambda f: (-f.score, f.focus_id))[:k]


def rank_asks(focus: Focus, asks: Iterable[Ask], *, k: int = 10, floor: float = 0.25) -> list[Fit]:
    """推荐项目: the requests that fit an investor best."""
    fits = [fit(a, focus) for a in asks]
    return sorted((f for f in fits if f.score >= floor), key=lambda f: (-f.score, f.ask_id))[:k]
