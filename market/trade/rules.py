"""The trading rules as plain functions (no Flask, no database): the bid grid, soft close, the winner,
the hash chain of the bid log, and the identifiers a registered contract carries.

Money is handled as whole hundredths of 万元 (`units`, i.e. 100 元), so the grid check is exact integer
arithmetic; `to_units` / `from_units` convert at the edges.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from stdnum.cn import uscc as _uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from vocab.values import MAX_WAN, format_wan

GENESIS = "0" * 64
#: the largest amount the platform takes (`vocab.values.MAX_WAN`, in hundredths of 万元; fits a 32-bit column)
MAX_UNITS = MAX_WAN * 100


def to_units(wan: object) -> int:
    """万元 (number or text) → hundredths of 万元; ValueError when it is not a finite amount."""
    try:
        value = Decimal(str(wan).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"not an amount: {wan!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {wan!r}")
    scaled = value * 100
    try:
        return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # more digits than the context holds: far above any limit, and whole
        return int(scaled)


def from_units(units: int) -> float:
    return units / 100


def fmt_wan(units: int) -> str:
    """Hundredths of 万元 as text without trailing zeros: 12000 → "120", 12050 → "120.5"."""
    return f"{Decimal(units) / 100:f}".rstrip("0").rstrip(".") if units % 100 else str(units // 100)


# -- bidding -----------------------------------------------------------------------------------------


def minimum_bid(*, start: int, increment: int, best: int | None) -> int:
    """The lowest acceptable bid: the start price first, then one increment above the best."""
    return start if best is None else best + increment


def bid_problem(price: int, *, start: int, increment: int, best: int | None) -> str | None:
    """Why `price` is not an acceptable bid (in Chinese), or None when it is.

    A bid is start + k × increment, with k ≥ 0 for the first bid and above the current best by at
    least one increment after it."""
    if increment <= 0:
        raise ValueError("increment must be positive")
    if price > MAX_UNITS:
        return f"出价超出平台上限（{format_wan(MAX_WAN)}）"
    if price < start:
        return f"出价不能低于起拍价 {fmt_wan(start)} 万元"
    if (price - start) % increment:
        return f"出价须为起拍价 {fmt_wan(start)} 万元加整数倍加价幅度 {fmt_wan(increment)} 万元"
    low = minimum_bid(start=start, increment=increment, best=best)
    if price < low:
        return f"当前最高出价为 {fmt_wan(best or 0)} 万元，本次至少应出 {fmt_wan(low)} 万元"
    return None


def extended_close(ends_at: datetime, bid_at: datetime, *, extend_minutes: int) -> datetime:
    """Soft close: a bid within the last `extend_minutes` moves the close to `extend_minutes` after the
    bid. The close only ever moves later."""
    if extend_minutes <= 0:
        return ends_at
    window = timedelta(minutes=extend_minutes)
    return max(ends_at, bid_at + window) if ends_at - bid_at < window else ends_at


@dataclass(frozen=True)
class BidRecord:
    """One accepted bid as the log holds it."""

    seq: int
    auction_id: int
    bidder_org_id: int
    price: int  # hundredths of 万元
    at: str  # ISO 8601, UTC, from the server's clock
    prev_hash: str
    hash: str = ""
    #: the bidder's 竞买号: what the log names and hashes, so that anyone can verify it without
    #: learning who bid. Entries written before 竞买号 existed (None) name the organisation's id.
    paddle: str | None = None

    def payload(self) -> dict:
        bidder = {"paddle": self.paddle} if self.paddle is not None else {"bidder_org_id": self.bidder_org_id}
        return {
            "seq": self.seq,
            "auction_id": self.auction_id,
            **bidder,
            "price": self.price,
            "at": self.at,
            "prev_hash": self.prev_hash,
        }


def entry_hash(record: BidRecord) -> str:
    """SHA-256 of the entry's canonical JSON (sorted keys, no spaces), which includes the previous hash."""
    text = json.dumps(record.payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def chain_next(prev: BidRecord | None, **fields) -> BidRecord:
    """The next entry after `prev` (None: the first), with its hash computed."""
    draft = BidRecord(seq=(prev.seq + 1) if prev else 1, prev_hash=prev.hash if prev else GENESIS, **fields)
    return BidRecord(**{**draft.__dict__, "hash": entry_hash(draft)})


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    broken_at: int | None = None  # seq of the first entry that does not verify
    reason: str = ""


def verify_chain(records: Sequence[BidRecord], *, start: int | None = None, increment: int | None = None):
    """Recompute the chain: sequence numbers 1..n without gaps, each entry's prev_hash the previous hash,
    each hash its content's; with `start`/`increment`, also that the prices climb the grid."""
    prev_hash, best = GENESIS, None
    for i, rec in enumerate(records, start=1):
        if rec.seq != i:
            return ChainCheck(False, len(records), i, f"第 {i} 条的序号为 {rec.seq}（缺失或重排）")
        if rec.prev_hash != prev_hash:
            return ChainCheck(False, len(records), rec.seq, f"第 {rec.seq} 条记录的前一哈希与上一条不符")
        if entry_hash(rec) != rec.hash:
            return ChainCheck(False, len(records), rec.seq, f"第 {rec.seq} 条记录的内容与其哈希不符")
        if start is not None and increment is not None:
            problem = bid_problem(rec.price, start=start, increment=increment, best=best)
            if problem:
                return ChainCheck(False, len(records), rec.seq, f"第 {rec.seq} 条：{problem}")
        prev_hash, best = rec.hash, rec.price
    return ChainCheck(True, len(records))


def winning_bid(records: Iterable[BidRecord], *, reserve: int) -> BidRecord | None:
    """The highest bid if it reaches the reserve (no sale below the reserve); earliest wins a tie."""
    best: BidRecord | None = None
    for rec in records:
        if best is None or rec.price > best.price:
            best = rec
    return best if best is not None and best.price >= reserve else None


# -- parties of a registered contract -----------------------------------------------------------------


def uscc_problem(value: str | None, label: str) -> str | None:
    """Why `value` is not a valid 统一社会信用代码 (GB 32100-2015), naming the party, or None."""
    text = (value or "").strip().upper()
    if not text:
        return f"请填写{label}的统一社会信用代码"
    try:
        _uscc.validate(text)
    except InvalidLength:
        return f"{label}的统一社会信用代码应为 18 位（现为 {len(text)} 位）"
    except InvalidChecksum:
        return f"{label}的统一社会信用代码校验位不正确（GB 32100-2015）"
    except (InvalidFormat, InvalidComponent):
        return f"{label}的统一社会信用代码含有不允许的字符或登记管理部门代码（GB 32100-2015）"
    return None
