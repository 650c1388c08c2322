"""The technical-field classifier: held-out quality on the demo listings, term lists, the CLI."""

from __future__ import annotations

import io

import pytest

from matching.cli import main
from matching.fields import FieldClassifier, confusion_table, cross_validate, listing_text
from vocab.taxonomy import FIELD_PARENT


@pytest.fixture(scope="module")
def labelled(demo) -> tuple[list[str], list[str]]:
    results, needs, _ = demo
    records = [r for r in [*results, *needs] if r.field]
    return [listing_text(r.title, r.keywords, r.body) for r in records], [r.field for r in records]


@pytest.fixture(scope="module")
def report(labelled) -> dict:
    return cross_validate(*labelled, folds=5)


def test_held_out_fields_are_mostly_right_and_rarely_left_empty(report) -> None:
    assert report["listings"] > 400
    assert report["exact"] >= 0.7
    kept = report["at_threshold"][str(report["threshold"])]
    assert kept["coverage"] >= 0.85
    assert kept["first_level_of_kept"] >= 0.8
    # a higher threshold trades coverage for precision
    assert report["at_threshold"]["0.3"]["coverage"] < kept["coverage"]
    assert report["at_threshold"]["0.3"]["exact_of_kept"] > kept["exact_of_kept"]


def test_confusion_counts_every_listing_once(report) -> None:
    assert sum(map(sum, report["confusion"])) == report["listings"]
    table = confusion_table(report)
    assert "新能源" in table and "正确率" in table


def test_a_field_without_labelled_listings_is_known_by_its_terms(labelled) -> None:
    texts, fields = labelled
    kept = [(t, f) for t, f in zip(texts, fields, strict=True) if f != "氢能"]
    model = FieldClassifier().fit([t for t, _ in kept], [f for _, f in kept])
    top = model.suggest("质子交换膜电解水制氢与储氢加氢站", k=3)
    assert top[0].field == "氢能" and top[0].field_top == "新能源"


def test_top_three_with_probabilities(labelled) -> None:
    model = FieldClassifier().fit(*labelled)
    top = model.suggest("一种基于PCR的非洲猪瘟快速检测方法")
    assert len(top) == 3
    assert all(s.field in FIELD_PARENT for s in top)
    probs = [s.probability for s in top]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0
    assert model.suggest("") == [] and model.infer("，。") is None


def test_below_the_threshold_the_field_stays_empty(labelled) -> None:
    model = FieldClassifier(threshold=0.99).fit(*labelled)
    assert model.infer("锂离子电池电解液") is None
    assert FieldClassifier(threshold=0.0).fit(*labelled).infer("锂离子电池电解液") is not None


def test_cli_prints_the_confusion_table() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["fields", "--evaluate", "--folds", "3"], out=out, err=err) == 0
    text = out.getvalue()
    assert "真实＼推断" in text and '"exact"' in text


def test_no_field_for_generic_words_whatever_the_probability() -> None:
    model = FieldClassifier().fit([], [])  # term lists only: the most confident-looking case
    vague = "一种新型的管理办法"
    assert model.suggest(vague, k=1)[0].probability >= model.threshold
    assert model.evidence_for(vague, model.suggest(vague, k=1)[0].field) == []
    assert model.infer(vague) is None
    assert model.infer("质子交换膜电解水制氢").field == "氢能"
