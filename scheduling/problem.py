"""The scheduling problem, a schedule, and the rules a schedule must keep."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    """An accepted meeting request between participants `a` and `b` (both accepted it).

    `size` is how many seats the meeting needs; `preferred` are slots the two sides prefer (soft)."""

    id: int
    a: int
    b: int
    size: int = 2
    preferred: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Table:
    id: int
    seats: int = 2


@dataclass(frozen=True)
class Assignment:
    slot: int
    table: int


@dataclass
class Problem:
    """Slots are numbered 0 … sessions × slots_per_session − 1, session by session.

    `available[p]` are the slots participant p is present (absent: every slot); `locked` are meetings
    the organiser fixed (kept as they are); `max_meetings[p]` caps a participant's meetings."""

    sessions: int
    slots_per_session: int
    tables: tuple[Table, ...]
    requests: tuple[Request, ...]
    available: Mapping[int, frozenset[int]] = field(default_factory=dict)
    locked: Mapping[int, Assignment] = field(default_factory=dict)
    max_meetings: Mapping[int, int] = field(default_factory=dict)

    @property
    def n_slots(self) -> int:
        return self.sessions * self.slots_per_session

    def session_of(self, slot: int) -> int:
        return slot // self.slots_per_session

    def participants(self) -> set[int]:
        return {p for r in self.requests for p in (r.a, r.b)}

    def slots_of(self, p: int) -> frozenset[int]:
        got = self.available.get(p)
        return frozenset(range(self.n_slots)) if got is None else got

    def feasible_slots(self, request: Request) -> list[int]:
        """Slots both sides are present in and some table seats the meeting."""
        if not any(t.seats >= request.size for t in self.tables):
            return []
        return sorted(self.slots_of(request.a) & self.slots_of(request.b))


@dataclass
class Schedule:
    """Where each scheduled request meets; `bound` is the solver's proven upper bound on the number of
    requests that can be scheduled (None when nothing was proven)."""

    assignments: dict[int, Assignment]
    method: str
    bound: int | None = None
    optimal: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def scheduled(self) -> int:
        return len(self.assignments)


def check(problem: Problem, schedule: Schedule) -> list[str]:
    """Every broken rule (empty when the schedule is valid): unknown requests, slots or tables, a
    participant absent or double-booked, a table used twice or too small, a locked meeting moved, a
    participant over their cap."""
    problems: list[str] = []
    by_id = {r.id: r for r in problem.requests}
    tables = {t.id: t for t in problem.tables}
    busy: dict[tuple[int, int], int] = {}
    used: dict[tuple[int, int], int] = {}
    count: dict[int, int] = defaultdict(int)
    for rid, place in schedule.assignments.items():
        request = by_id.get(rid)
        if request is None:
            problems.append(f"request {rid} was not accepted")
            continue
        if not 0 <= place.slot < problem.n_slots:
            problems.append(f"request {rid}: slot {place.slot} does not exist")
            continue
        table = tables.get(place.table)
        if table is None:
            problems.append(f"request {rid}: table {place.table} does not exist")
        elif table.seats < request.size:
            problems.append(f"request {rid}: table {place.table} seats {table.seats} < {request.size}")
        if (place.slot, place.table) in used:
            problems.append(f"table {place.table} double-booked in slot {place.slot}")
        used[(place.slot, place.table)] = rid
        for p in (request.a, request.b):
            if place.slot not in problem.slots_of(p) and rid not in problem.locked:
                problems.append(f"participant {p} is absent in slot {place.slot} (request {rid})")
            if (p, place.slot) in busy:
                problems.append(f"participant {p} double-booked in slot {place.slot}")
            busy[(p, place.slot)] = rid
            count[p] += 1
    for rid, place in problem.locked.items():
        if schedule.assignments.get(rid) != place:
            problems.append(f"locked request {rid} moved or dropped")
    for p, cap in problem.max_meetings.items():
        if count[p] > cap:
            problems.append(f"participant {p} has {count[p]} meetings, more than {cap}")
    return problems


def idle_slots(problem: Problem, assignments: Mapping[int, Assignment]) -> dict[int, int]:
    """Per participant with meetings: free slots between their first and last meeting."""
    by_id = {r.id: r for r in problem.requests}
    slots: dict[int, list[int]] = defaultdict(list)
    for rid, place in assignments.items():
        request = by_id[rid]
        slots[request.a].append(place.slot)
        slots[request.b].append(place.slot)
    return {p: max(s) - min(s) + 1 - len(s) for p, s in slots.items()}


def place_tables(
    problem: Problem, slot_of: Mapping[int, int], fixed: Mapping[int, Assignment] | None = None
) -> dict[int, Assignment] | None:
    """Give each meeting of each slot a table that seats it (fixed ones keep theirs): the largest
    meetings first onto the smallest table that fits. None when a slot cannot seat its meetings."""
    fixed = fixed or {}
    by_id = {r.id: r for r in problem.requests}
    per_slot: dict[int, list[int]] = defaultdict(list)
    for rid, slot in slot_of.items():
        per_slot[slot].append(rid)
    out: dict[int, Assignment] = {}
    for slot, rids in per_slot.items():
        taken = {fixed[r].table for r in rids if r in fixed}
        free = sorted((t for t in problem.tables if t.id not in taken), key=lambda t: (t.seats, t.id))
        for rid in sorted(rids, key=lambda r: (-by_id[r].size, r)):
            if rid in fixed:
                out[rid] = fixed[rid]
                continue
            table = next((t for t in free if t.seats >= by_id[rid].size), None)
            if table is None:
                return None
            free.remove(table)
            out[rid] = Assignment(slot, table.id)
    return out


def seat_levels(problem: Problem) -> list[int]:
    """The distinct meeting sizes that some table seats, for the per-slot capacity constraints."""
    return sorted({r.size for r in problem.requests})


def tables_seating(problem: Problem, size: int) -> int:
    return sum(1 for t in problem.tables if t.seats >= size)


def participants_of(requests: Iterable[Request]) -> set[int]:
    return {p for r in requests for p in (r.a, r.b)}
