"""1:1 meeting scheduling: CP-SAT against the greedy first fit on two generated instances.

300 participants and 1,500 accepted requests over 6 sessions × 12 slots: (a) uniform demand, 40 tables;
(b) skewed (Zipf-like) demand, 20 tables, each participant present for a window of the event. Prints
JSON with the solver and the greedy fallback side by side: requests scheduled, the solver's proven
upper bound, idle slots between each participant's first and last meeting (total and p95), seconds,
and whether the targets hold (at least as many as greedy, within 1% of the bound, fewer idle slots,
≤ 30 s).

    .venv/bin/python bench/schedule_bench.py [--time-limit 30] [--workers 2] [--only a|b]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile
from scheduling import check, greedy, idle_slots, solve
from scheduling.instances import skewed, uniform


def measure(problem, schedule) -> dict:
    idle = list(idle_slots(problem, schedule.assignments).values())
    return {
        "scheduled": schedule.scheduled,
        "idle_total": sum(idle),
        "idle_p95": percentile(idle, 95),
        "seconds": round(schedule.seconds, 2),
        "valid": check(problem, schedule) == [],
    }


def run(name: str, problem, *, time_limit: float, workers: int) -> dict:
    base = greedy(problem)
    best = solve(problem, time_limit=time_limit, workers=workers)
    solver, fallback = measure(problem, best), measure(problem, base)
    solver.update(method=best.method, bound=best.bound, optimal=best.optimal, notes=best.notes)
    bound = best.bound if best.bound is not None else len(problem.requests)
    return {
        "instance": name,
        "participants": len(problem.participants()),
        "requests": len(problem.requests),
        "slots": problem.n_slots,
        "tables": len(problem.tables),
        "solver": solver,
        "greedy": fallback,
        "targets": {
            "at_least_greedy": solver["scheduled"] >= fallback["scheduled"],
            "within_1pct_of_bound": solver["scheduled"] >= 0.99 * bound,
            "gap_to_bound_pct": round(100 * (bound - solver["scheduled"]) / bound, 3) if bound else 0.0,
            "fewer_idle_than_greedy": solver["idle_total"] < fallback["idle_total"],
            "idle_ratio_vs_greedy": round(solver["idle_total"] / fallback["idle_total"], 3)
            if fallback["idle_total"]
            else None,
            "within_30s": best.seconds <= 30.0,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=28.0, help="solver seconds per instance")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=("a", "b"))
    args = parser.parse_args(argv)
    instances = {
        "a_uniform_40_tables": uniform(),
        "b_skewed_20_tables_windows": skewed(),
    }
    results = [
        run(name, problem, time_limit=args.time_limit, workers=args.workers)
        for name, problem in instances.items()
        if args.only is None or name.startswith(args.only)
    ]
    print(
        json.dumps(
            {
                "bench": "schedule",
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "time_limit": args.time_limit,
                "workers": args.workers,
                "results": results,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
