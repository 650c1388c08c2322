"""Listing forms. They collect input; `schemas.validate_listing` decides what is valid."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from market.forms import choices, grouped
from market.listings.labels import heading, statement
from vocab.taxonomy import (
    COOPERATION_MODES,
    FIELDS,
    IPType,
    Maturity,
    RightsNote,
    TransferMode,
    values,
)

#: a visible "not chosen" first, so that no field is picked silently for someone who skips the select
FIELD_CHOICES = [*choices((), "请选择技术领域"), *grouped(FIELDS)]


class Marked:
    """Marks a field required on the page (asterisk, `required` attribute) without checking it here:
    the listing schema checks it, with its Chinese message, next to every other error."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        pass


def _with_blank(items: tuple[str, ...], blank: str = "—"):
    return choices(items, blank)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:  # the schema checks values, with Chinese messages
        pass


class FieldSelect(SelectField):
    """Grouped second-level fields; an empty value means "not chosen"."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.type = "SelectField"  # drawn as a select (form-select, with its chevron) by render_field

    def pre_validate(self, form) -> None:
        pass


class ListingForm(FlaskForm):
    version = HiddenField()
    title = StringField(
        heading("title"), [Marked()], description="一句话说清是什么技术，例如“宽温域锂离子电池电解液”"
    )
    field = FieldSelect(heading("field"), choices=FIELD_CHOICES, validate_choice=False)
    keywords = StringField(heading("keywords"), description="3–6 个，用顿号或逗号分隔")
    contact_name = StringField(heading("contact_name"))
    contact_phone = StringField(heading("contact_phone"))
    contact_email = StringField(
        heading("contact_email"), description="联系方式受保护：仅平台运营、技术经纪人和经对接的合作方可见"
    )
    submit = SubmitField("保存")

    skip = ("csrf_token", "submit", "version")

    def to_data(self) -> dict[str, Any]:
        """Raw input for the schema."""
        data = {name: f.data for name, f in self._fields.items() if name not in self.skip}
        for name, value in data.items():
            if hasattr(value, "is_finite"):  # Decimal -> float
                data[name] = float(value)
        return data

    def expected_version(self) -> int | None:
        """The version the form was opened on (hidden field), or None when missing or not a number."""
        raw = str(self.version.data if self.version.data is not None else "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() else None


class ResultForm(ListingForm):
    summary = TextAreaField(heading("summary"), [Marked()], description="是什么、怎么工作、适用在哪里")
    problem = TextAreaField(heading("problem"))
    advantage = TextAreaField(
        heading("advantage"), description="与现有技术相比的量化指标，例如“能耗降低 30%”"
    )
    maturity = SelectField(heading("maturity"), choices=_with_blank(values(Maturity)), validate_choice=False)
    trl = IntegerField(heading("trl"), validators=[Optional()], description="1–9，可选")
    ip_type = SelectField(heading("ip_type"), choices=_with_blank(values(IPType)), validate_choice=False)
    patent_numbers = StringField(heading("patent_numbers"), description="专利号或申请号，多个用顿号分隔")
    transfer_modes = MultiCheckboxField(heading("transfer_modes"), choices=choices(values(TransferMode)))
    price_negotiable = BooleanField(heading("price_negotiable"))
    price_wan = DecimalField(heading("price_wan"), validators=[Optional()], places=2)
    appraised_wan = DecimalField(
        heading("appraised_wan"), validators=[Optional()], places=2, description="可选"
    )
    inventors = StringField(heading("inventors"), description="多个用顿号分隔")
    rights_note = SelectField(
        heading("rights_note"),
        choices=_with_blank(values(RightsNote), "未赋权 / 不适用"),
        validate_choice=False,
    )

    field_order = (
        "title",
        "field",
        "keywords",
        "summary",
        "problem",
        "advantage",
        "maturity",
        "trl",
        "ip_type",
        "patent_numbers",
        "transfer_modes",
        "price_negotiable",
        "price_wan",
        "appraised_wan",
        "inventors",
        "rights_note",
        "contact_name",
        "contact_phone",
        "contact_email",
    )


class NeedForm(ListingForm):
    description = TextAreaField(
        heading("description"), [Marked()], description="遇到了什么问题、现在怎么做、为什么不够好"
    )
    requirements = TextAreaField(
        heading("requirements"), description="方案必须满足的条件，例如工况、标准、产能、成本上限"
    )
    target_metrics = TextAreaField(
        heading("target_metrics"), description="可量化的验收指标，例如“良品率 ≥ 99.5%”"
    )
    cooperation_modes = MultiCheckboxField(heading("cooperation_modes"), choices=choices(COOPERATION_MODES))
    budget_min_wan = DecimalField(heading("budget_min_wan"), validators=[Optional()], places=2)
    budget_max_wan = DecimalField(heading("budget_max_wan"), validators=[Optional()], places=2)
    deadline = DateField(heading("deadline"), validators=[Optional()])
    is_challenge = BooleanField(heading("is_challenge"), description="公开张榜，悬赏攻关")
    reward_wan = DecimalField(heading("reward_wan"), validators=[Optional()], places=2)
    eligibility = TextAreaField(heading("eligibility"), description="对揭榜方的资质、团队、业绩要求")
    no_secret_confirmed = BooleanField(statement("no_secret_confirmed"))

    field_order = (
        "title",
        "field",
        "keywords",
        "description",
        "requirements",
        "target_metrics",
        "cooperation_modes",
        "budget_min_wan",
        "budget_max_wan",
        "deadline",
        "is_challenge",
        "reward_wan",
        "eligibility",
        "contact_name",
        "contact_phone",
        "contact_email",
        "no_secret_confirmed",
    )


FORMS: dict[str, type[ListingForm]] = {"result": ResultForm, "need": NeedForm}


class ReasonForm(FlaskForm):
    """Review / withdraw actions with an optional reason."""

    reason = TextAreaField("原因")
    submit = SubmitField("确定")


class InterestForm(FlaskForm):
    message = TextAreaField("留言（可选）", description="简单说明您的意向，技术经纪人会尽快联系您")
    submit = SubmitField("表达意向")
