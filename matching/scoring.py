"""The hybrid, explainable match score: text similarity plus field, maturity, mode, price and region fit.

Every component is a value in [0, 1] or *missing*. A missing component (either side lacks the data, or
the price is 面议) is **dropped and the remaining weights renormalised**, so missing data is neutral —
never a penalty, never a reward: a candidate with a missing price ranks above one whose price is over
budget and below one whose price fits. Region is a bonus: it takes part only when both sides are in
京津冀, so it can lift a pair but never pull one down.

    score = Σ weight_c · value_c / Σ weight_c    over the components that are present

Attributes are encoded into numpy arrays once, so one need is scored against many candidates at once.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from matching.explain import sentences
from matching.records import NeedRecord, ResultRecord
from vocab.taxonomy import CHALLENGE_MODE, FIELD_PARENT, FIELDS, MATURITY_ORDER, TransferMode

COMPONENTS: tuple[str, ...] = ("text", "field", "maturity", "mode", "price", "region")


@dataclass(frozen=True)
class Weights:
    """Every tunable number of the hybrid score, in one place.

    The six weights are relative (only their ratios matter). ``text_exponent`` < 1 spreads the low cosine
    values typical of short listings (a cosine of 0.25 shows as 0.5), so text stays comparable with the
    0 / 0.5 / 1 values of the other components.
    """

    text: float = 0.60
    field: float = 0.15
    maturity: float = 0.05
    mode: float = 0.08
    price: float = 0.07
    region: float = 0.05
    text_exponent: float = 0.5

    def __post_init__(self) -> None:
        for name in COMPONENTS:
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"weight {name} must be a non-negative number")
        if not (0 < self.text_exponent <= 1):
            raise ValueError("text_exponent must lie in (0, 1]")

    def vector(self) -> np.ndarray:
        """The six component weights in `COMPONENTS` order."""
        return np.array([getattr(self, name) for name in COMPONENTS], dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        """A plain dict of every field (for reports and saved models)."""
        return asdict(self)

    def replace(self, **changes: float) -> Weights:
        """A copy with some values changed."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Weights(**values)


# -- fit rules ----------------------------------------------------------------------------------------

_SUBFIELDS: tuple[str, ...] = tuple(FIELD_PARENT)
_SUB_INDEX = {name: i for i, name in enumerate(_SUBFIELDS)}
_TOP_INDEX = {name: i for i, name in enumerate(FIELDS)}
_MODES: tuple[str, ...] = tuple(m.value for m in TransferMode)
_MODE_BIT = {name: 1 << i for i, name in enumerate(_MODES)}
# Modes that serve the same purpose get partial credit: rights (转让 / 许可 / 作价投资), development
# work (合作 / 委托开发), services (服务 / 咨询).
_MODE_GROUPS: tuple[tuple[str, ...], ...] = (
    (TransferMode.TRANSFER, TransferMode.LICENSE, TransferMode.EQUITY),
    (TransferMode.JOINT_DEV, TransferMode.COMMISSIONED_DEV),
    (TransferMode.SERVICE, TransferMode.CONSULTING),
)
_GROUP_MASK = {_MODE_BIT[m]: sum(_MODE_BIT[x] for x in group) for group in _MODE_GROUPS for m in group}
#: 揭榜挂帅 is a way of contracting development or buying a solution outright
CHALLENGE_COMPATIBLE: tuple[str, ...] = (
    TransferMode.JOINT_DEV,
    TransferMode.COMMISSIONED_DEV,
    TransferMode.TRANSFER,
)
_JJJ_PREFIXES = ("天津", "北京", "河北")
SAME_TOP_FIELD = 0.5
BROAD_FIELD = 0.75
RELATED_MODE = 0.5


def mode_mask(modes: Sequence[str], *, challenge: bool = False) -> int:
    """Bit mask of the known transfer modes; 揭榜挂帅 (or the challenge flag) adds its compatible modes."""
    mask = 0
    for mode in modes:
        mode = mode.strip()
        if mode == CHALLENGE_MODE:
            challenge = True
        mask |= _MODE_BIT.get(mode, 0)
    if challenge:
        for mode in CHALLENGE_COMPATIBLE:
            mask |= _MODE_BIT[mode]
    return mask


def _related(mask: int) -> int:
    out = 0
    for bit, group in _GROUP_MASK.items():
        if mask & bit:
            out |= group
    return out


def in_jjj(region: str | None) -> bool:
    """True for a region in 京津冀 (天津, 北京, 河北, with or without a district or 市/省)."""
    return region is not None and region.strip().startswith(_JJJ_PREFIXES)


@dataclass
class Attributes:
    """Non-text attributes of a set of listings as arrays (one entry per listing)."""

    field_raw: np.ndarray  # int: code of the field string, -1 missing
    field_sub: np.ndarray  # int: second-level index, -1 if not a second-level field
    field_top: np.ndarray  # int: first-level index, -1 unknown
    maturity: np.ndarray  # int: MATURITY_ORDER, -1 missing
    modes: np.ndarray  # int64 bit mask, 0 missing
    related: np.ndarray  # int64 bit mask of modes in the same groups
    low: np.ndarray  # float: price (results) or budget minimum (needs); nan missing
    high: np.ndarray  # float: price (results) or budget maximum (needs); nan missing
    jjj: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.field_raw)

    def broadcast(self, n: int) -> Attributes:
        """These attributes stretched to `n` rows when they hold a single entry."""
        if len(self) == n:
            return self
        if len(self) != 1:
            raise ValueError(f"cannot broadcast {len(self)} entries to {n}")
        return Attributes(**{k: np.repeat(v, n) for k, v in self.__dict__.items()})

    def take(self, rows: np.ndarray) -> Attributes:
        """The attributes of some rows."""
        return Attributes(**{k: v[rows] for k, v in self.__dict__.items()})

    @staticmethod
    def concat(parts: Sequence[Attributes]) -> Attributes:
        """Attributes of several sets, in order."""
        keys = Attributes.__dataclass_fields__
        return Attributes(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in keys})


class FieldCodes:
    """Stable integer codes for field strings, so unknown fields can still be compared for equality.

    A code is a hash of the string, the same in every process and every saved store (per-listing
    attributes are written to disk and compared with attributes encoded later)."""

    def code(self, field: str | None) -> int:
        if not field:
            return -1
        return zlib.crc32(field.encode("utf-8")) & 0x7FFFFFFF


def encode(records: Sequence[ResultRecord | NeedRecord], codes: FieldCodes) -> Attributes:
    """Arrays of the scoring attributes of results or needs."""
    n = len(records)
    raw = np.full(n, -1, dtype=np.int64)
    sub = np.full(n, -1, dtype=np.int64)
    top = np.full(n, -1, dtype=np.int64)
    maturity = np.full(n, -1, dtype=np.int64)
    modes = np.zeros(n, dtype=np.int64)
    related = np.zeros(n, dtype=np.int64)
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    jjj = np.zeros(n, dtype=bool)
    for i, rec in enumerate(records):
        field = (rec.field or "").strip() or None
        raw[i] = codes.code(field)
        if field:
            sub[i] = _SUB_INDEX.get(field, -1)
            parent = FIELD_PARENT.get(field, field if field in FIELDS else None)
            top[i] = _TOP_INDEX.get(parent, -1) if parent else -1
        maturity[i] = MATURITY_ORDER.get(rec.maturity or "", -1)
        if isinstance(rec, ResultRecord):
            modes[i] = mode_mask(rec.transfer_modes)
            if rec.price is not None:
                low[i] = high[i] = rec.price
        else:
            modes[i] = mode_mask(rec.cooperation_modes, challenge=rec.is_challenge)
            if rec.budget_min is not None:
                low[i] = rec.budget_min
            if rec.budget_max is not None:
                high[i] = rec.budget_max
        related[i] = _related(int(modes[i]))
        jjj[i] = in_jjj(rec.region)
    return Attributes(raw, sub, top, maturity, modes, related, low, high, jjj)


def components(text: np.ndarray, need: Attributes, results: Attributes) -> np.ndarray:
    """Component values, shape ``(n, 6)`` in `COMPONENTS` order, nan where missing.

    Column 0 is the raw cosine (`combine` applies ``Weights.text_exponent``). Either side may hold one
    entry (broadcast to every row) or one entry per row.
    """
    n = len(text)
    need, results = need.broadcast(n), results.broadcast(n)
    out = np.full((n, len(COMPONENTS)), np.nan)
    out[:, 0] = np.clip(text, 0.0, 1.0)

    # field: same second level 1, one side only names the first level 0.75, same first level 0.5, else 0;
    # an unknown field string can only be judged equal (1) or not known (missing).
    both = (need.field_raw >= 0) & (results.field_raw >= 0)
    same = both & (need.field_raw == results.field_raw)
    known = both & (need.field_top >= 0) & (results.field_top >= 0)
    same_top = known & (need.field_top == results.field_top)
    broad = same_top & ((need.field_sub < 0) | (results.field_sub < 0))
    field = np.where(known, 0.0, np.nan)
    field = np.where(same_top, SAME_TOP_FIELD, field)
    field = np.where(broad, BROAD_FIELD, field)
    out[:, 1] = np.where(same, 1.0, field)

    # maturity: the need's lowest acceptable stage, each stage short costs 0.4; without a wish a more
    # mature result is better for an enterprise (实验室 0.25 … 产业化 1).
    res_m, wish = results.maturity, need.maturity
    with_wish = np.clip(1.0 - 0.4 * np.clip(wish - res_m, 0, None), 0.0, 1.0)
    without = (res_m + 1) / len(MATURITY_ORDER)
    out[:, 2] = np.where(res_m >= 0, np.where(wish >= 0, with_wish, without), np.nan)

    # modes: any shared mode 1, a mode of the same kind 0.5, nothing in common 0
    has = (need.modes != 0) & (results.modes != 0)
    exact = (need.modes & results.modes) != 0
    near = (need.related & results.modes) != 0
    out[:, 3] = np.where(has, np.where(exact, 1.0, np.where(near, RELATED_MODE, 0.0)), np.nan)

    # price vs budget: within (or below) 1; above the maximum (max / price)²; 面议 or no budget missing
    price, b_min, b_max = results.high, need.low, need.high
    has_budget = ~np.isnan(b_max) | ~np.isnan(b_min)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        over = np.where(price > 0, (b_max / price) ** 2, 1.0)
        fit = np.where(np.isnan(b_max) | (price <= b_max), 1.0, np.clip(over, 0.0, 1.0))
    out[:, 4] = np.where(has_budget & ~np.isnan(price), fit, np.nan)

    # region: a bonus when both are in 京津冀, otherwise not counted
    out[:, 5] = np.where(need.jjj & results.jjj, 1.0, np.nan)
    return out


def shaped(values: np.ndarray, weights: Weights) -> np.ndarray:
    """Component values as they enter the score: the cosine raised to ``text_exponent``."""
    out = values.copy()
    out[..., 0] = out[..., 0] ** weights.text_exponent
    return out


def combine(values: np.ndarray, weights: Weights) -> np.ndarray:
    """Scores in [0, 1] from raw component values (nan = missing, dropped and weights renormalised)."""
    w = weights.vector()
    values = shaped(values, weights)
    present = ~np.isnan(values)
    total = (present * w).sum(axis=-1)
    weighted = (np.where(present, values, 0.0) * w).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(total > 0, weighted / total, 0.0)
    return np.clip(score, 0.0, 1.0)


def explain(
    values: np.ndarray,
    weights: Weights,
    key_terms: list[str],
    need: dict | None = None,
    result: dict | None = None,
) -> dict:
    """The ``reasons`` of one match: each component's value (None when missing) and weight, key terms,
    and — given both listings' attributes (`matching.explain.attributes_row`) — the non-text parts
    as ``sentences`` in words.

    ``text`` also carries the raw ``cosine`` behind its value.
    """
    reasons: dict = {}
    for name, value in zip(COMPONENTS, shaped(values, weights), strict=True):
        reasons[name] = {
            "value": None if np.isnan(value) else round(float(value), 4),
            "weight": getattr(weights, name),
        }
    reasons["text"]["cosine"] = round(float(values[0]), 4)
    reasons["key_terms"] = key_terms
    if need is not None and result is not None:
        reasons["sentences"] = sentences(values, need, result)
    return reasons
