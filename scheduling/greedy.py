"""The greedy fallback: locked meetings first, then each request at the earliest slot that fits."""

from __future__ import annotations

import time
from collections import defaultdict

from scheduling.problem import Assignment, Problem, Schedule


def greedy(problem: Problem) -> Schedule:
    """First fit: requests of the busiest participants first, each into the earliest slot where both
    sides are present and free, a free table seats it, and neither side is over their cap."""
    started = time.perf_counter()
    by_id = {r.id: r for r in problem.requests}
    busy: set[tuple[int, int]] = set()
    free_tables: dict[int, list] = defaultdict(lambda: sorted(problem.tables, key=lambda t: (t.seats, t.id)))
    count: dict[int, int] = defaultdict(int)
    out: dict[int, Assignment] = {}
    for rid, place in problem.locked.items():
        request = by_id[rid]
        out[rid] = place
        busy.update({(request.a, place.slot), (request.b, place.slot)})
        free_tables[place.slot] = [t for t in free_tables[place.slot] if t.id != place.table]
        count[request.a] += 1
        count[request.b] += 1
    degree: dict[int, int] = defaultdict(int)
    for r in problem.requests:
        degree[r.a] += 1
        degree[r.b] += 1
    order = sorted(
        (r for r in problem.requests if r.id not in problem.locked),
        key=lambda r: (-max(degree[r.a], degree[r.b]), len(problem.feasible_slots(r)), r.id),
    )
    for request in order:
        if any(count[p] >= problem.max_meetings.get(p, 1 << 30) for p in (request.a, request.b)):
            continue
        slots = problem.feasible_slots(request)
        preferred = [s for s in slots if s in request.preferred]
        for slot in preferred + [s for s in slots if s not in request.preferred]:
            if (request.a, slot) in busy or (request.b, slot) in busy:
                continue
            table = next((t for t in free_tables[slot] if t.seats >= request.size), None)
            if table is None:
                continue
            free_tables[slot].remove(table)
            busy.update({(request.a, slot), (request.b, slot)})
            count[request.a] += 1
            count[request.b] += 1
            out[request.id] = Assignment(slot, table.id)
            break
    return Schedule(out, "greedy", seconds=time.perf_counter() - started)
