"""Simulated annealing over slot assignments: move, swap and insert meetings to wait less, meet more.

Pure Python with incremental evaluation (a move changes only the two or four participants involved),
so it tries hundreds of thousands of moves in the time a CP-SAT neighbourhood takes; every move keeps
every hard rule (presence, one meeting per participant and slot, free tables, caps, locked meetings).
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict

from scheduling.problem import Problem, seat_levels

MEET_WEIGHT = 1000
IDLE_WEIGHT = 4
PREFERENCE_BONUS = 1


def _idle(slots: set[int]) -> int:
    return max(slots) - min(slots) + 1 - len(slots) if slots else 0


class Annealer:
    def __init__(self, problem: Problem, slot_of: dict[int, int], seed: int = 0) -> None:
        self.problem = problem
        self.rng = random.Random(seed)
        self.by_id = {r.id: r for r in problem.requests}
        self.feasible = {r.id: problem.feasible_slots(r) for r in problem.requests}
        self.levels = seat_levels(problem)
        locked_tables: dict[int, set[int]] = defaultdict(set)
        for place in problem.locked.values():
            locked_tables[place.slot].add(place.table)
        self.room = {
            (t, lv): sum(1 for tb in problem.tables if tb.seats >= lv and tb.id not in locked_tables[t])
            for t in range(problem.n_slots)
            for lv in self.levels
        }
        self.load: dict[tuple[int, int], int] = defaultdict(int)
        self.busy: dict[int, set[int]] = defaultdict(set)
        self.count: dict[int, int] = defaultdict(int)
        self.slot_of: dict[int, int] = {}
        for rid, t in slot_of.items():
            self._place(rid, t)
        self.movable = [r.id for r in problem.requests if r.id not in problem.locked and self.feasible[r.id]]
        self.cap = problem.max_meetings

    # -- bookkeeping ----------------------------------------------------------------------------------
    def _place(self, rid: int, t: int) -> None:
        r = self.by_id[rid]
        self.slot_of[rid] = t
        self.busy[r.a].add(t)
        self.busy[r.b].add(t)
        self.count[r.a] += 1
        self.count[r.b] += 1
        if rid not in self.problem.locked:
            for lv in self.levels:
                if r.size >= lv:
                    self.load[(t, lv)] += 1

    def _remove(self, rid: int) -> int:
        r = self.by_id[rid]
        t = self.slot_of.pop(rid)
        self.busy[r.a].discard(t)
        self.busy[r.b].discard(t)
        self.count[r.a] -= 1
        self.count[r.b] -= 1
        for lv in self.levels:
            if r.size >= lv:
                self.load[(t, lv)] -= 1
        return t

    def _room_for(self, rid: int, t: int) -> bool:
        size = self.by_id[rid].size
        return all(self.load[(t, lv)] < self.room[(t, lv)] for lv in self.levels if size >= lv)

    def _pref(self, rid: int, t: int) -> int:
        return PREFERENCE_BONUS if t in self.by_id[rid].preferred else 0

    # -- moves (each returns the change of the objective, and applies itself; undo() reverts) ---------
    def _try_move(self, rid: int, t_new: int) -> tuple[int, tuple] | None:
        r = self.by_id[rid]
        t_old = self.slot_of[rid]
        if t_new == t_old or t_new in self.busy[r.a] or t_new in self.busy[r.b]:
            return None
        before = _idle(self.busy[r.a]) + _idle(self.busy[r.b])
        self._remove(rid)
        if not self._room_for(rid, t_new):
            self._place(rid, t_old)
            return None
        self._place(rid, t_new)
        after = _idle(self.busy[r.a]) + _idle(self.busy[r.b])
        delta = IDLE_WEIGHT * (after - before) - self._pref(rid, t_new) + self._pref(rid, t_old)
        return delta, ("move", rid, t_old)

    def _try_swap(self, r1: int, r2: int) -> tuple[int, tuple] | None:
        a, b = self.by_id[r1], self.by_id[r2]
        if {a.a, a.b} & {b.a, b.b} or a.size != b.size:
            return None
        t1, t2 = self.slot_of[r1], self.slot_of[r2]
        if t1 == t2 or t2 not in self.feasible_set(r1) or t1 not in self.feasible_set(r2):
            return None
        if t2 in self.busy[a.a] or t2 in self.busy[a.b] or t1 in self.busy[b.a] or t1 in self.busy[b.b]:
            return None
        people = (a.a, a.b, b.a, b.b)
        before = sum(_idle(self.busy[p]) for p in people)
        self._remove(r1)
        self._remove(r2)
        self._place(r1, t2)
        self._place(r2, t1)
        after = sum(_idle(self.busy[p]) for p in people)
        delta = IDLE_WEIGHT * (after - before)
        delta += self._pref(r1, t1) + self._pref(r2, t2) - self._pref(r1, t2) - self._pref(r2, t1)
        return delta, ("swap", r1, r2)

    def _try_insert(self, rid: int, t: int) -> tuple[int, tuple] | None:
        r = self.by_id[rid]
        if t in self.busy[r.a] or t in self.busy[r.b] or not self._room_for(rid, t):
            return None
        if any(self.count[p] >= self.cap.get(p, 1 << 30) for p in (r.a, r.b)):
            return None
        before = _idle(self.busy[r.a]) + _idle(self.busy[r.b])
        self._place(rid, t)
        after = _idle(self.busy[r.a]) + _idle(self.busy[r.b])
        return IDLE_WEIGHT * (after - before) - MEET_WEIGHT - self._pref(rid, t), ("insert", rid)

    def _undo(self, token: tuple) -> None:
        if token[0] == "move":
            _, rid, t_old = token
            self._remove(rid)
            self._place(rid, t_old)
        elif token[0] == "swap":
            _, r1, r2 = token
            t1, t2 = self._remove(r1), self._remove(r2)
            self._place(r1, t2)
            self._place(r2, t1)
        else:
            self._remove(token[1])

    _feasible_sets: dict[int, frozenset[int]] | None = None

    def feasible_set(self, rid: int) -> frozenset[int]:
        if self._feasible_sets is None:
            self._feasible_sets = {k: frozenset(v) for k, v in self.feasible.items()}
        return self._feasible_sets[rid]

    def _target(self, rid: int) -> int:
        """A slot near the two sides' current meetings (most improving moves are short)."""
        r = self.by_id[rid]
        options = self.feasible[rid]
        near = self.busy[r.a] | self.busy[r.b]
        if near and self.rng.random() < 0.8:
            lo, hi = min(near) - 1, max(near) + 1
            t = self.rng.randint(lo, hi)
            if t in self.feasible_set(rid):
                return t
        return options[self.rng.randrange(len(options))]

    # -- the search -----------------------------------------------------------------------------------
    def run(self, deadline: float, *, t_start: float = 14.0, t_end: float = 0.5) -> dict[int, int]:
        """Anneal until `deadline`; returns the best assignment seen."""
        if not self.movable:
            return dict(self.slot_of)
        best = dict(self.slot_of)
        current = best_value = 0
        started = time.perf_counter()
        span = max(1e-6, deadline - started)
        temperature = t_start
        step = 0
        everyone = len(self.movable) + len(self.problem.locked)
        while True:
            step += 1
            if step % 512 == 0:
                now = time.perf_counter()
                if now >= deadline:
                    break
                if len(best) == everyone and not any(_idle(s) for s in self.busy.values()):
                    break  # nothing left to gain: all meet, nobody waits
                temperature = t_start * (t_end / t_start) ** ((now - started) / span)
            rid = self.movable[self.rng.randrange(len(self.movable))]
            kind = self.rng.random()
            if rid not in self.slot_of:
                tried = self._try_insert(rid, self._target(rid))
            elif kind < 0.7:
                tried = self._try_move(rid, self._target(rid))
            else:
                other = self.movable[self.rng.randrange(len(self.movable))]
                tried = self._try_swap(rid, other) if other in self.slot_of and other != rid else None
            if tried is None:
                continue
            delta, token = tried
            if delta <= 0 or self.rng.random() < math.exp(-delta / temperature):
                current += delta
                if current < best_value:
                    best_value, best = current, dict(self.slot_of)
            else:
                self._undo(token)
        return best
