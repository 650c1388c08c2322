"""CP-SAT scheduling in two phases, with the greedy first fit as hint and fallback.

Phase 1 (CP-SAT, hinted with the greedy schedule) maximises the number of accepted requests that meet
and proves an upper bound on it (its LP sees each participant's cap and the tables). Phase 2 anneals
that schedule (`scheduling.local`): moves, swaps and insertions that keep every rule, towards more
meetings and less waiting — the idle slots between a participant's first and last meeting — with a
small bonus for preferred slots. A CP-SAT model of the waiting itself (first/last variables per
participant) was tried and found no improvement on the 1,500-request instances in 30 s, even as
small neighbourhoods; the annealer halves the greedy waiting in the same time. Locked meetings never
move; the result is checked with `scheduling.check` before it is returned.
"""

from __future__ import annotations

import time
from collections import defaultdict
from types import ModuleType
from typing import TYPE_CHECKING

from scheduling.greedy import greedy
from scheduling.local import Annealer
from scheduling.problem import Problem, Schedule, check, place_tables, seat_levels

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import IntVar

cp_model: ModuleType | None
try:
    from ortools.sat.python import cp_model
except ImportError:  # pragma: no cover - the fallback is the point
    cp_model = None


def solve(
    problem: Problem,
    *,
    time_limit: float = 30.0,
    workers: int = 2,
    first_phase_share: float = 0.35,
    seed: int = 0,
) -> Schedule:
    """The best schedule found within `time_limit` seconds; the greedy first fit when the solver is
    missing, proves the locked meetings infeasible, or finds nothing better in time."""
    started = time.perf_counter()
    fallback = greedy(problem)
    if cp_model is None:
        fallback.notes.append("OR-Tools 不可用，使用贪心排程")
        return fallback
    model = _Model(problem, fallback)
    if model.infeasible:
        fallback.notes.append(model.infeasible)
        fallback.seconds = time.perf_counter() - started
        return fallback

    # phase 1: how many can meet (and a proof of the most that could)
    phase1 = cp_model.CpSolver()
    _params(phase1, max(0.5, time_limit * first_phase_share), workers, seed)
    model.maximise_met()
    status = phase1.solve(model.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        fallback.notes.append("求解器未在时限内找到方案，使用贪心排程")
        fallback.seconds = time.perf_counter() - started
        return fallback

    bound = int(phase1.best_objective_bound + 1e-6)
    optimal = status == cp_model.OPTIMAL
    slot_of = model.read(phase1)

    # phase 2: annealing on the waiting (and on any request phase 1 left out), from phase 1's schedule
    deadline = started + time_limit - 0.3  # tables, checks and the answer fit in the margin
    if time.perf_counter() < deadline:
        slot_of = Annealer(problem, slot_of, seed=seed).run(deadline)
    assignments = place_tables(problem, slot_of, dict(problem.locked))
    schedule = Schedule(
        assignments or {}, "cp-sat", bound=bound, optimal=optimal, seconds=time.perf_counter() - started
    )
    if assignments is None or check(problem, schedule):
        fallback.notes.append("求解结果未通过校验，使用贪心排程")
        fallback.seconds = time.perf_counter() - started
        return fallback
    if schedule.scheduled < fallback.scheduled:  # never worse than the fallback
        fallback.bound, fallback.seconds = bound, time.perf_counter() - started
        return fallback
    return schedule


def _params(solver, seconds: float, workers: int, seed: int) -> None:
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    # presolve on these models (10⁵ slot booleans) takes longer than the search and proves nothing the
    # LP over the per-participant caps does not: off, the bound appears within seconds
    solver.parameters.cp_model_presolve = False


class _Model:
    def __init__(self, problem: Problem, hint: Schedule) -> None:
        self.problem = problem
        assert cp_model is not None, "solve() falls back to the heuristic without OR-Tools"
        self.m = cp_model.CpModel()
        self.infeasible: str | None = None
        self.x: dict[tuple[int, int], IntVar] = {}
        self.by_request: dict[int, list[tuple[int, IntVar]]] = defaultdict(list)
        self.by_person_slot: dict[tuple[int, int], list] = defaultdict(list)
        locked = problem.locked
        for request in problem.requests:
            slots = [locked[request.id].slot] if request.id in locked else problem.feasible_slots(request)
            for t in slots:
                v = self.m.new_bool_var(f"x{request.id}_{t}")
                self.x[(request.id, t)] = v
                self.by_request[request.id].append((t, v))
                self.by_person_slot[(request.a, t)].append(v)
                self.by_person_slot[(request.b, t)].append(v)
        # met[r]: request r meets (exactly one of its slots); the objective counts these, so its
        # trivial bound is the number of requests and the LP sees the per-participant caps below
        self.meets: dict[int, IntVar] = {}
        for request in problem.requests:
            options = [v for _, v in self.by_request[request.id]]
            if not options:
                continue
            met = self.m.new_constant(1) if request.id in locked else self.m.new_bool_var(f"m{request.id}")
            self.m.add(sum(options) == met)
            self.meets[request.id] = met
        # redundant, for the bound: a participant meets at most once per slot they are present in
        slots_of: dict[int, set[int]] = defaultdict(set)
        mine: dict[int, list] = defaultdict(list)
        for request in problem.requests:
            if request.id in self.meets:
                for p in (request.a, request.b):
                    mine[p].append(self.meets[request.id])
                    slots_of[p].update(t for t, _ in self.by_request[request.id])
        for p, group in mine.items():
            cap = min(len(slots_of[p]), problem.max_meetings.get(p, len(group)))
            if cap < len(group):
                self.m.add(sum(group) <= cap)
        seats = min((r.size for r in problem.requests), default=2)
        total = sum(1 for t in problem.tables if t.seats >= seats) * problem.n_slots
        if total < len(self.meets):
            self.m.add(sum(self.meets.values()) <= total)
        for group in self.by_person_slot.values():
            if len(group) > 1:
                self.m.add_at_most_one(group)
        self._capacity()
        self.met = sum(self.meets.values())
        hints = {rid: a.slot for rid, a in hint.assignments.items()}
        self.hint(hints)
        self._check_locked()

    def _capacity(self) -> None:
        """Per slot and meeting size: no more meetings needing that many seats than free tables seat them
        (tables taken by locked meetings are not free; nested sizes make the counts sufficient)."""
        problem = self.problem
        sizes = {r.id: r.size for r in problem.requests}
        seats = {t.id: t.seats for t in problem.tables}
        locked_at: dict[int, list[int]] = defaultdict(list)
        for place in problem.locked.values():
            locked_at[place.slot].append(place.table)
        per_slot: dict[int, list[tuple[int, IntVar]]] = defaultdict(list)
        for (rid, t), v in self.x.items():
            if rid not in problem.locked:
                per_slot[t].append((sizes[rid], v))
        for t, items in per_slot.items():
            taken = set(locked_at.get(t, ()))
            for level in seat_levels(problem):
                free = sum(1 for tid, s in seats.items() if s >= level and tid not in taken)
                group = [v for size, v in items if size >= level]
                if len(group) > free:
                    self.m.add(sum(group) <= free)

    def _check_locked(self) -> None:
        seen: dict[tuple[int, int], int] = {}
        by_id = {r.id: r for r in self.problem.requests}
        tables = {(rid, place.slot, place.table) for rid, place in self.problem.locked.items()}
        if len({(s, tb) for _, s, tb in tables}) < len(tables):
            self.infeasible = "锁定的会谈占用了同一张桌子"
        for rid, place in self.problem.locked.items():
            request = by_id.get(rid)
            if request is None:
                self.infeasible = f"锁定的会谈 {rid} 不在已接受的请求中"
                return
            for p in (request.a, request.b):
                if (p, place.slot) in seen:
                    self.infeasible = "锁定的会谈让同一参与者在同一时段出现两次"
                seen[(p, place.slot)] = rid

    def hint(self, slot_of: dict[int, int]) -> None:
        self.m.clear_hints()
        for (rid, t), v in self.x.items():
            self.m.add_hint(v, 1 if slot_of.get(rid) == t else 0)
        for rid, v in self.meets.items():
            if rid not in self.problem.locked:
                self.m.add_hint(v, 1 if rid in slot_of else 0)

    def maximise_met(self) -> None:
        self.m.maximize(self.met)

    def read(self, solver) -> dict[int, int]:
        out = {}
        for (rid, t), v in self.x.items():
            if solver.boolean_value(v):
                out[rid] = t
        return out
