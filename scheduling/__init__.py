"""1:1 meeting scheduling as a library: accepted meeting requests into sessions × slots × tables.

Plain data in and out (no Flask, no database), so the site, the benchmark and the property tests use
the same functions. `solve` builds an OR-Tools CP-SAT model with a time limit and falls back to the
greedy first fit of `greedy`; `check` lists every broken rule of a schedule; `idle_slots` measures
the waiting between a participant's first and last meeting.
"""

from scheduling.greedy import greedy
from scheduling.problem import Assignment, Problem, Request, Schedule, Table, check, idle_slots
from scheduling.solver import solve

__all__ = [
    "Assignment",
    "Problem",
    "Request",
    "Schedule",
    "Table",
    "check",
    "greedy",
    "idle_slots",
    "solve",
]
