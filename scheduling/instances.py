"""Generated scheduling instances (seeded): uniform demand, and skewed demand with availability windows.

The benchmark's two instances and the tests' small ones come from here.
"""

from __future__ import annotations

import random

from scheduling.problem import Problem, Request, Table


def _pairs(rng: random.Random, participants: int, count: int, pick_target) -> list[tuple[int, int]]:
    seen: set[frozenset[int]] = set()
    out: list[tuple[int, int]] = []
    while len(out) < count:
        a = rng.randrange(participants)
        b = pick_target()
        if a == b or frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        out.append((a, b))
    return out


def uniform(
    *,
    participants: int = 300,
    requests: int = 1500,
    sessions: int = 6,
    slots: int = 12,
    tables: int = 40,
    seed: int = 1,
) -> Problem:
    """(a) Everyone present throughout; both sides of each request drawn uniformly."""
    rng = random.Random(seed)
    pairs = _pairs(rng, participants, requests, lambda: rng.randrange(participants))
    return Problem(
        sessions,
        slots,
        tuple(Table(k, 4) for k in range(tables)),
        tuple(Request(i, a, b) for i, (a, b) in enumerate(pairs)),
    )


def skewed(
    *,
    participants: int = 300,
    requests: int = 1500,
    sessions: int = 6,
    slots: int = 12,
    tables: int = 20,
    zipf: float = 1.1,
    seed: int = 2,
) -> Problem:
    """(b) Requested sides drawn Zipf-like (a few participants requested by many); each participant
    present for a window of 2–5 consecutive sessions."""
    rng = random.Random(seed)
    order = list(range(participants))
    rng.shuffle(order)
    weights = [1 / (rank + 1) ** zipf for rank in range(participants)]
    pairs = _pairs(rng, participants, requests, lambda: rng.choices(order, weights)[0])
    available = {}
    for p in range(participants):
        length = rng.randint(2, min(5, sessions))
        start = rng.randint(0, sessions - length)
        available[p] = frozenset(range(start * slots, (start + length) * slots))
    return Problem(
        sessions,
        slots,
        tuple(Table(k, 4) for k in range(tables)),
        tuple(Request(i, a, b) for i, (a, b) in enumerate(pairs)),
        available=available,
    )
