"""The matcher (供需对接) as a library: Chinese text features, top-k, hybrid scoring, evaluation.

Plain data in, plain data out: no Flask, no database. Typical use::

    from matching import Matcher, NeedRecord, ResultRecord

    matcher = Matcher().fit(results, needs)
    for match in matcher.matches_for_need("N1", k=10):
        print(match.result_id, match.score, match.reasons)
"""

from matching.matcher import FORMAT_VERSION, Match, Matcher, ModelFormatError
from matching.records import (
    LoadIssue,
    NeedRecord,
    Pair,
    ResultRecord,
    load_needs,
    load_org_regions,
    load_pairs,
    load_results,
    parse_need,
    parse_result,
)
from matching.scoring import COMPONENTS, Weights
from matching.text import TextConfig

__all__ = [
    "COMPONENTS",
    "FORMAT_VERSION",
    "LoadIssue",
    "Match",
    "Matcher",
    "ModelFormatError",
    "NeedRecord",
    "Pair",
    "ResultRecord",
    "TextConfig",
    "Weights",
    "load_needs",
    "load_org_regions",
    "load_pairs",
    "load_results",
    "parse_need",
    "parse_result",
]
