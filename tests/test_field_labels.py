"""A listing field has one name: the form, the validation message, the import column, the showcase export
and the revision diff all take it from `market.listings.labels`."""

from __future__ import annotations

import pytest

from market.errors import DomainError
from market.imports.columns import COLUMNS
from market.imports.export import _NEED_HEADER, _RESULT_HEADER
from market.listings.forms import FORMS
from market.listings.labels import FIELDS, heading, label, statement
from market.listings.schemas import SCHEMAS, validate_listing
from market.listings.service import MATERIAL

#: import columns filled from a listing field of another name
COLUMN_FIELD = {"price": "price_wan"}

RESULT = {"title": "宽温域锂离子电池电解液", "summary": "一种可在零下四十度工作的锂离子电池电解液配方。"}
NEED = {
    "title": "电池包冬季续航衰减",
    "description": "物流车电池包冬天续航掉得厉害。",
    "no_secret_confirmed": True,
}


@pytest.mark.parametrize("kind", ["result", "need"])
def test_every_schema_field_has_a_name_in_the_registry(kind):
    assert set(SCHEMAS[kind].model_fields) - set(FIELDS) == set()


@pytest.mark.parametrize("kind", ["result", "need"])
def test_every_form_input_is_labelled_with_the_registry_heading(app, kind):
    with app.test_request_context():
        form = FORMS[kind](meta={"csrf": False})
        for field in form:
            if field.name in form.skip:
                continue
            expected = statement(field.name) if field.type == "BooleanField" else heading(field.name)
            assert field.label.text == expected, field.name


@pytest.mark.parametrize("kind", ["result", "need"])
def test_every_import_column_is_named_as_its_field(kind):
    for column in COLUMNS[kind]:
        name = FIELDS[COLUMN_FIELD.get(column.key, column.key)]
        assert (column.zh, column.unit) == (name.of(kind), name.unit), column.key


def test_the_export_headers_are_the_registry_headings():
    assert _RESULT_HEADER[2:4] == ["成果名称", "成果简介"]
    assert _NEED_HEADER[2:4] == ["需求名称", "需求描述"]
    assert "价格（万元）" in _RESULT_HEADER and "悬赏金额（万元）" in _NEED_HEADER
    assert set(_RESULT_HEADER + _NEED_HEADER) <= {
        entry.heading(kind) for entry in FIELDS.values() for kind in ("result", "need")
    }


def test_the_material_fields_of_a_revision_all_have_names():
    for kind, names in MATERIAL.items():
        assert set(names) <= set(FIELDS) and set(names) <= set(SCHEMAS[kind].model_fields), kind


def _errors(kind: str, data: dict) -> list[tuple[str | None, str]]:
    with pytest.raises(DomainError) as caught:
        validate_listing(kind, data)
    return caught.value.errors


def test_one_amount_type_names_each_field_it_checks():
    errors = dict(_errors("result", {**RESULT, "price_wan": -1, "appraised_wan": float("nan")}))
    assert errors["price_wan"].startswith(label("price_wan") + "应在 0 到")
    assert errors["appraised_wan"].startswith(label("appraised_wan") + "必须是具体的数字")


def test_one_text_type_names_each_field_it_checks():
    errors = dict(_errors("need", {**NEED, "requirements": "要" * 3001, "target_metrics": "标" * 3001}))
    assert errors == {
        "requirements": "必备要求不能超过 3000 个字",
        "target_metrics": "目标指标不能超过 3000 个字",
    }


def test_rules_across_fields_are_reported_at_their_fields_not_as_field_colon_message():
    errors = _errors(
        "need", {**NEED, "budget_min_wan": 200, "budget_max_wan": 100, "no_secret_confirmed": False}
    )
    assert ("budget_max_wan", "预算上限不能小于下限") in errors
    assert ("no_secret_confirmed", "不含商业秘密确认：请确认需求内容不含商业秘密") in errors
    assert not any(":" in reason for _, reason in errors)
    assert _errors("result", {**RESULT, "price_negotiable": False}) == [
        ("price_wan", "未选择“面议”时请填写价格（万元）")
    ]
