"""Command line: ``python -m matching rank …`` and ``python -m matching evaluate …``.

Bad input lines are reported on stderr as ``file:line: skipped: reason`` and skipped; the exit code is
non-zero only when nothing usable is left (or a file cannot be read). No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from matching import learn as learning
from matching.evaluate import evaluate
from matching.fields import FieldClassifier, confusion_table, cross_validate, listing_text
from matching.matcher import Matcher
from matching.records import (
    Loaded,
    LoadIssue,
    load_needs,
    load_org_regions,
    load_pairs,
    load_results,
    read_lines,
)

#: the demo data shipped with the platform (the platform's own labelled listings)
SEED = Path(__file__).resolve().parents[1] / "seed" / "data"
EXIT_OK = 0
EXIT_NOTHING_USABLE = 1
EXIT_USAGE = 2


class _CliError(Exception):
    """A problem reported as one line on stderr."""

    def __init__(self, message: str, code: int = EXIT_NOTHING_USABLE) -> None:
        super().__init__(message)
        self.code = code


def _report(issues: Sequence[LoadIssue], err: TextIO) -> None:
    for issue in issues:
        print(issue, file=err)


def _load(path: str, loader, err: TextIO, **kwargs) -> Loaded:
    try:
        loaded = loader(read_lines(path), source=path, **kwargs)
    except OSError as exc:
        raise _CliError(f"{path}: cannot read ({exc.strerror or exc})", EXIT_USAGE) from exc
    _report(loaded.issues, err)
    return loaded


def _orgs(path: str | None) -> dict[str, str] | None:
    if not path:
        return None
    try:
        return load_org_regions(read_lines(path))
    except OSError as exc:
        raise _CliError(f"{path}: cannot read ({exc.strerror or exc})", EXIT_USAGE) from exc


def _inputs(args: argparse.Namespace, err: TextIO) -> tuple[list, list]:
    orgs = _orgs(args.orgs)
    results = _load(args.results, load_results, err, orgs=orgs).records
    needs = _load(args.needs, load_needs, err, orgs=orgs).records
    if not results:
        raise _CliError(f"{args.results}: no usable results")
    if not needs:
        raise _CliError(f"{args.needs}: no usable needs")
    return results, needs


def _cmd_rank(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    results, needs = _inputs(args, err)
    matcher = Matcher(n_jobs=args.n_jobs).fit(results, needs)
    ranked = matcher.rank(args.k)
    target = out if args.out in (None, "-") else None
    try:
        handle = target or open(args.out, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise _CliError(f"{args.out}: cannot write ({exc.strerror or exc})", EXIT_USAGE) from exc
    try:
        for need in matcher.needs:
            line = {
                "need_id": need.id,
                "matches": [
                    {"result_id": m.result_id, "score": round(m.score, 6), "reasons": m.reasons}
                    for m in ranked[need.id]
                ],
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if target is None:
            handle.close()
    if args.save_model:
        try:
            matcher.save(args.save_model)
        except OSError as exc:
            raise _CliError(f"{args.save_model}: cannot write ({exc.strerror or exc})", EXIT_USAGE) from exc
    print(f"ranked {len(matcher.needs)} needs against {len(matcher.results)} results", file=err)
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    results, needs = _inputs(args, err)
    pairs = _load(args.pairs, load_pairs, err).records
    if not pairs:
        raise _CliError(f"{args.pairs}: no usable pairs")
    report = evaluate(results, needs, pairs, k=args.k, folds=args.folds, seed=args.seed)
    if args.select and "error" not in report:
        report["first_stage_selection"] = learning.select_first_stage(
            results, needs, pairs, folds=max(2, args.folds), seed=args.seed
        )
    if args.learn and "error" not in report:
        report["learning"] = learning.cross_validate(
            results, needs, pairs, folds=max(2, args.folds), seed=args.seed
        )
    out.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return EXIT_NOTHING_USABLE if "error" in report else EXIT_OK


def _cmd_learn(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    results, needs = _inputs(args, err)
    pairs = _load(args.pairs, load_pairs, err).records
    if not pairs:
        raise _CliError(f"{args.pairs}: no usable pairs")
    ranker = learning.learn(results, needs, pairs, folds=args.folds, seed=args.seed)
    if args.out:
        try:
            ranker.save(args.out)
        except OSError as exc:
            raise _CliError(f"{args.out}: cannot write ({exc.strerror or exc})", EXIT_USAGE) from exc
    out.write(json.dumps(ranker.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def _labelled(args: argparse.Namespace, err: TextIO) -> tuple[list[str], list[str]]:
    records = [
        *_load(args.results, load_results, err).records,
        *_load(args.needs, load_needs, err).records,
    ]
    labelled = [r for r in records if r.field]
    return [listing_text(r.title, r.keywords, r.body) for r in labelled], [r.field for r in labelled]


def _cmd_fields(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    texts, fields = _labelled(args, err)
    if args.evaluate:
        if len(texts) < args.folds * 2:
            raise _CliError("too few labelled listings to cross-validate")
        report = cross_validate(texts, fields, folds=args.folds, seed=args.seed)
        out.write(confusion_table(report) + "\n\n")
        summary = {k: v for k, v in report.items() if k not in ("confusion", "first_level_names")}
        out.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    classifier = FieldClassifier().fit(texts, fields)
    for text in args.text or [line.strip() for line in sys.stdin if line.strip()]:
        line = {"text": text, "suggestions": [s.to_dict() for s in classifier.suggest(text)]}
        inferred = classifier.infer(text)
        line["inferred"] = inferred.field if inferred else None
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return EXIT_OK


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    parser = argparse.ArgumentParser(prog="python -m matching", description="科技成果 ↔ 技术需求 matcher")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--results", required=True, help="results JSONL")
        p.add_argument("--needs", required=True, help="needs JSONL")
        p.add_argument("--orgs", help="organizations.jsonl, to fill region from the organisation name")

    rank = sub.add_parser("rank", help="top-k results for every need, with reasons, as JSONL")
    common(rank)
    rank.add_argument("--k", type=_positive, default=50)
    rank.add_argument("--out", default="-", help="output JSONL (default: stdout)")
    rank.add_argument("--n-jobs", type=int, default=1, help="worker processes for top-k (-1: all cores)")
    rank.add_argument("--save-model", help="also save the fitted matcher to this path")
    rank.set_defaults(handler=_cmd_rank)

    ev = sub.add_parser("evaluate", help="nDCG / MRR / Recall against labelled pairs, vs a baseline")
    common(ev)
    ev.add_argument("--pairs", required=True, help="labelled pairs JSONL: need_id, result_id, grade 0-3")
    ev.add_argument("--k", type=_positive, default=10)
    ev.add_argument("--folds", type=int, default=5, help="cross-validation folds for weight tuning (0: off)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument(
        "--learn",
        action="store_true",
        help="also cross-validate the learned ranker against the first stage (bootstrap 95%% intervals)",
    )
    ev.add_argument(
        "--select",
        action="store_true",
        help="also compare the first-stage settings (IDF side, title share, CSLS) by grouped CV",
    )
    ev.set_defaults(handler=_cmd_evaluate)

    le = sub.add_parser("learn", help="fit the ranker's weights to decisions (graded pairs), with CV")
    common(le)
    le.add_argument("--pairs", required=True, help="graded pairs JSONL (flask match export-labels)")
    le.add_argument("--folds", type=_positive, default=5)
    le.add_argument("--seed", type=int, default=0)
    le.add_argument("--out", help="write the learned ranker (JSON) here")
    le.set_defaults(handler=_cmd_learn)

    fl = sub.add_parser(
        "fields", help="技术领域 classifier: --evaluate prints the confusion table; else suggest for texts"
    )
    fl.add_argument("--results", default=str(SEED / "results.jsonl"), help="labelled results JSONL")
    fl.add_argument("--needs", default=str(SEED / "needs.jsonl"), help="labelled needs JSONL")
    fl.add_argument("--evaluate", action="store_true", help="cross-validate on the labelled listings")
    fl.add_argument("--folds", type=_positive, default=5)
    fl.add_argument("--seed", type=int, default=0)
    fl.add_argument("text", nargs="*", help="texts to suggest fields for (default: lines of stdin)")
    fl.set_defaults(handler=_cmd_fields)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage
        return int(exc.code or 0)
    try:
        return args.handler(args, out, err)
    except _CliError as exc:
        print(f"error: {exc}", file=err)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130
    except Exception as exc:  # the promise is one line, never a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=err)
        return EXIT_NOTHING_USABLE


if __name__ == "__main__":
    sys.exit(main())
