"""The command line: output shape, bad lines reported with line numbers, exit codes, no traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching.cli import main

from .conftest import BEST, NEEDS, RESULTS

ROOT = Path(__file__).resolve().parents[2]


def result_line(r) -> str:
    return json.dumps(
        {
            "external_id": r.id,
            "title": r.title,
            "summary": r.summary,
            "keywords": "、".join(r.keywords),
            "field": r.field,
            "maturity": r.maturity,
            "transfer_modes": list(r.transfer_modes),
            "price_wan": r.price,
            "price_negotiable": r.price is None,
            "organization": "燕山大学",
        },
        ensure_ascii=False,
    )


def need_line(n) -> str:
    budget = [n.budget_min, n.budget_max] if n.budget_max is not None else None
    return json.dumps(
        {
            "id": n.id,
            "title": n.title,
            "description": n.description,
            "keywords": list(n.keywords),
            "field": n.field,
            "cooperation_modes": list(n.cooperation_modes),
            "budget": budget,
            "is_challenge": n.is_challenge,
            "region": n.region,
        },
        ensure_ascii=False,
    )


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    results = tmp_path / "results.jsonl"
    needs = tmp_path / "needs.jsonl"
    results.write_text("\n".join(result_line(r) for r in RESULTS) + "\n", encoding="utf-8")
    needs.write_text("\n".join(need_line(n) for n in NEEDS) + "\n", encoding="utf-8")
    pairs = tmp_path / "pairs.jsonl"
    lines = [{"need_id": n, "result_id": r, "grade": 3} for n, r in BEST.items()]
    lines += [{"need_id": "N-vision", "result_id": "R-tomato", "grade": 0}]
    pairs.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    orgs = tmp_path / "orgs.jsonl"
    orgs.write_text('{"name": "燕山大学", "region": "河北"}\n', encoding="utf-8")
    return {"results": results, "needs": needs, "pairs": pairs, "orgs": orgs, "dir": tmp_path}


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_rank_writes_one_line_per_need_best_first(files) -> None:
    out_path = files["dir"] / "out.jsonl"
    code, _, err = run(
        [
            "rank",
            "--results",
            str(files["results"]),
            "--needs",
            str(files["needs"]),
            "--k",
            "3",
            "--out",
            str(out_path),
            "--orgs",
            str(files["orgs"]),
        ]
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines()]
    assert [line["need_id"] for line in lines] == [n.id for n in NEEDS]
    for line in lines:
        scores = [m["score"] for m in line["matches"]]
        assert len(scores) <= 3 and scores == sorted(scores, reverse=True)
        assert line["matches"][0]["result_id"] == BEST[line["need_id"]]
        assert {"text", "field", "key_terms"} <= set(line["matches"][0]["reasons"])
    water = next(line for line in lines if line["need_id"] == "N-water")
    assert water["matches"][0]["reasons"]["region"]["value"] == 1.0  # region filled from --orgs


def test_bad_lines_are_reported_and_skipped(files) -> None:
    with files["results"].open("a", encoding="utf-8") as handle:
        handle.write("{broken\n")
        handle.write(json.dumps({"id": "R-bad", "title": 42}) + "\n")
        handle.write(json.dumps({"title": "no id"}) + "\n")
    code, out, err = run(
        ["rank", "--results", str(files["results"]), "--needs", str(files["needs"]), "--k", "2"]
    )
    assert code == 0
    n = len(RESULTS)
    assert f"results.jsonl:{n + 1}: skipped: not valid JSON" in err
    assert f"results.jsonl:{n + 2}: skipped: 'title' must be a string" in err
    assert f"results.jsonl:{n + 3}: skipped: missing 'id'" in err
    assert "Traceback" not in err
    assert len(out.splitlines()) == len(NEEDS)


def test_nothing_usable_exits_non_zero(files) -> None:
    files["needs"].write_text("not json\n[]\n", encoding="utf-8")
    code, out, err = run(["rank", "--results", str(files["results"]), "--needs", str(files["needs"])])
    assert code == 1 and out == ""
    assert "needs.jsonl:1: skipped" in err and "needs.jsonl:2: skipped" in err
    assert "no usable needs" in err


def test_missing_file_is_one_line(files) -> None:
    code, _, err = run(
        ["rank", "--results", str(files["dir"] / "nope.jsonl"), "--needs", str(files["needs"])]
    )
    assert code == 2 and "cannot read" in err and "Traceback" not in err


def test_evaluate_prints_metrics_for_matcher_and_baseline(files) -> None:
    code, out, err = run(
        [
            "evaluate",
            "--results",
            str(files["results"]),
            "--needs",
            str(files["needs"]),
            "--pairs",
            str(files["pairs"]),
            "--k",
            "3",
            "--folds",
            "2",
        ]
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["needs_evaluated"] == 4
    for name in ("baseline", "matcher_default", "matcher_cv"):
        assert set(report["metrics"][name]) == {"ndcg@3", "mrr@3", "recall@3"}
    assert report["metrics"]["matcher_default"]["mrr@3"] == 1.0
    assert len(report["cv"]["per_fold"]) == 2
    assert "matcher_cv/baseline" in report["ratios"]


def test_module_entry_point_has_no_traceback_on_bad_input(tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xff\xfe not utf-8\n{}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "matching", "rank", "--results", str(bad), "--needs", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "bad.jsonl:1: skipped" in proc.stderr and "bad.jsonl:2: skipped" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_usage_errors_exit_two() -> None:
    code, _, _ = run(["rank", "--results", "x"])
    assert code == 2
