"""Property tests of the pure bidding rules: the grid, soft close, the winner, the hash chain."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from market.trade import rules
from vocab import regions

starts = st.integers(min_value=1, max_value=10_000_000)
increments = st.integers(min_value=1, max_value=100_000)
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def run_auction(start, increment, attempts):
    """Feed bids through the rule; return the accepted sequence."""
    accepted: list[int] = []
    for price in attempts:
        if (
            rules.bid_problem(
                price, start=start, increment=increment, best=accepted[-1] if accepted else None
            )
            is None
        ):
            accepted.append(price)
    return accepted


@given(starts, increments, st.lists(st.integers(min_value=0, max_value=20_000_000), max_size=60))
def test_accepted_bids_strictly_increase_on_the_grid(start, increment, attempts):
    accepted = run_auction(start, increment, attempts)
    assert all((p - start) % increment == 0 for p in accepted)
    assert all(b - a >= increment for a, b in itertools.pairwise(accepted))
    if accepted:
        assert accepted[0] >= start


@given(starts, increments, st.integers(min_value=0, max_value=1000))
def test_first_bid_may_be_the_start_and_later_ones_need_an_increment(start, increment, k):
    assert rules.bid_problem(start + k * increment, start=start, increment=increment, best=None) is None
    best = start + k * increment
    assert rules.bid_problem(best, start=start, increment=increment, best=best) is not None
    assert rules.bid_problem(best + increment, start=start, increment=increment, best=best) is None


@given(starts, st.integers(min_value=2, max_value=100_000), st.integers(min_value=0, max_value=1000))
def test_off_grid_bids_are_refused(start, increment, k):
    price = start + k * increment + 1
    assert "整数倍" in rules.bid_problem(price, start=start, increment=increment, best=None)


@given(
    st.integers(min_value=-600, max_value=7200),  # close relative to T0, in seconds
    st.integers(min_value=0, max_value=7200),  # bid time relative to T0
    st.integers(min_value=0, max_value=30),
)
def test_soft_close_only_ever_extends(close_s, bid_s, minutes):
    ends = T0 + timedelta(seconds=close_s)
    bid_at = T0 + timedelta(seconds=bid_s)
    new = rules.extended_close(ends, bid_at, extend_minutes=minutes)
    assert new >= ends
    if minutes and bid_at < ends and ends - bid_at < timedelta(minutes=minutes):
        assert new == bid_at + timedelta(minutes=minutes)  # a late bid leaves N minutes to answer
    if ends - bid_at >= timedelta(minutes=minutes):
        assert new == ends


@given(st.lists(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 2)), max_size=30))
def test_soft_close_is_monotonic_over_a_sequence_of_bids(times):
    ends = datetime(2026, 1, 1, 12)
    for t in sorted(times):
        if t >= ends:
            break  # the server refuses bids after the close
        new = rules.extended_close(ends, t, extend_minutes=5)
        assert new >= ends
        ends = new


@given(
    starts,
    increments,
    st.lists(st.integers(min_value=0, max_value=20_000_000), max_size=40),
    st.integers(0, 30_000_000),
)
def test_winner_is_the_highest_valid_bid_at_or_above_the_reserve(start, increment, attempts, reserve):
    accepted = run_auction(start, increment, attempts)
    log, prev = [], None
    for i, price in enumerate(accepted):
        prev = rules.chain_next(
            prev, auction_id=1, bidder_org_id=i % 3 + 1, price=price, at=f"2026-01-01T00:00:{i:02d}"
        )
        log.append(prev)
    winner = rules.winning_bid(log, reserve=reserve)
    if accepted and max(accepted) >= reserve:
        assert winner is not None and winner.price == max(accepted) == accepted[-1]
    else:
        assert winner is None  # no sale below the reserve


def chain(prices):
    out, prev = [], None
    for i, price in enumerate(prices):
        prev = rules.chain_next(
            prev,
            auction_id=7,
            bidder_org_id=100 + i,
            price=price,
            at=f"2026-12-01T08:00:{i:02d}.000000+00:00",
        )
        out.append(prev)
    return out


@given(
    st.integers(min_value=1, max_value=30),
    st.data(),
)
def test_any_change_to_a_stored_bid_fails_verify_at_that_entry(n, data):
    log = chain([1000 + 50 * i for i in range(n)])
    assert rules.verify_chain(log, start=1000, increment=50).ok
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from(["price", "bidder_org_id", "at", "prev_hash", "hash", "auction_id"]))
    original = log[i]
    if field == "price":
        changed = replace(original, price=original.price + data.draw(st.integers(1, 10_000)))
    elif field == "bidder_org_id":
        changed = replace(original, bidder_org_id=original.bidder_org_id + data.draw(st.integers(1, 50)))
    elif field == "at":
        changed = replace(original, at=original.at.replace("08:00", "07:59"))
    elif field == "auction_id":
        changed = replace(original, auction_id=8)
    elif field == "prev_hash":
        changed = replace(original, prev_hash="f" * 64)
    else:
        changed = replace(original, hash="e" * 64)
    assume(changed != original)
    tampered = [*log[:i], changed, *log[i + 1 :]]
    check = rules.verify_chain(tampered)
    assert not check.ok
    assert check.broken_at == original.seq


@given(st.integers(min_value=2, max_value=20), st.data())
def test_a_removed_bid_breaks_the_chain_where_it_was(n, data):
    log = chain([1000 + 50 * i for i in range(n)])
    i = data.draw(st.integers(min_value=0, max_value=n - 2))
    check = rules.verify_chain([*log[:i], *log[i + 1 :]])
    assert not check.ok and check.broken_at == i + 1


def test_bids_above_the_platform_limit_are_refused():
    assert "上限" in rules.bid_problem(rules.MAX_UNITS + 1, start=1, increment=1, best=None)
    assert rules.bid_problem(rules.MAX_UNITS, start=1, increment=1, best=None) is None


def test_units_round_trip_and_refuse_non_numbers():
    assert rules.to_units("120.5") == 12050
    assert rules.fmt_wan(12050) == "120.5" and rules.fmt_wan(12000) == "120"
    assert rules.to_units("1e30") > rules.MAX_UNITS  # refused by the limit, not by an exception
    for bad in ("abc", "nan", "inf", ""):
        with pytest.raises(ValueError):
            rules.to_units(bad)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91120116MA05JXXX1H", "校验位"),
        ("91120116MA05JXXX1", "18 位"),
        ("", "请填写"),
        ("91120116MA05JXXXIG", "不允许"),
    ],
)
def test_uscc_problems_name_the_party(code, fragment):
    problem = rules.uscc_problem(code, "买方")
    assert problem is not None and problem.startswith(("买方", "请填写买方")) and fragment in problem


def test_valid_uscc_and_regions():
    assert rules.uscc_problem("91120116MA05JXXX1G", "买方") is None
    assert rules.uscc_problem("91120116ma05jxxx1g", "买方") is None  # case is normalised
    assert regions.problem("120104", "卖方") is None
    assert regions.problem("130102", "卖方") is None
    assert regions.problem("440305", "卖方") is None  # 深圳市南山区: the whole country is in the table
    assert regions.problem("370117", "卖方") is None  # newer than the table outside 京津冀: structure only
    assert "区级" in regions.problem("120199", "卖方")
    assert "河北省的行政区划代码" in regions.problem("130199", "卖方")
    assert "结构" in regions.problem("440012", "卖方")
    assert "省级" in regions.problem("990101", "卖方")
    assert "六位" in regions.problem("12010", "卖方")
    assert regions.region_name("120104") == "天津市南开区"
    assert regions.region_name("130102") == "河北省石家庄市长安区"
    assert regions.region_name("440305") == "广东省深圳市南山区"
    assert regions.region_name("130000") == "河北省"
