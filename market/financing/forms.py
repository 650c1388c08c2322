"""Forms of financing requests, the data room, the NDA, the investor profile and the pipeline."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Optional

from market.financing.service import CATEGORIES
from market.forms import choices, grouped
from vocab.taxonomy import FIELDS, FinancingStage, Instrument, values


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class FinancingForm(FlaskForm):
    title = StringField("项目名称")
    summary = TextAreaField("公开摘要", description="所有访客可见：做什么、市场、进展；保密内容请放入数据室")
    field = SelectField("技术领域", choices=[*choices([], "请选择"), *grouped(FIELDS)], validate_choice=False)
    amount_wan = StringField("融资金额（万元）")
    instrument = SelectField("融资方式", choices=choices(values(Instrument), "请选择"), validate_choice=False)
    stage = SelectField("融资阶段", choices=choices(values(FinancingStage), "请选择"), validate_choice=False)
    use_of_funds = TextAreaField("资金用途")
    valuation_basis = TextAreaField("估值依据")
    team = TextAreaField("团队")
    result_ids = MultiCheckboxField("关联科技成果", coerce=int, validate_choice=False)
    nda_text = TextAreaField("保密协议（投资机构查看数据室前须接受）", description="留空使用平台默认文本")
    version = HiddenField()

    field_order = (
        "title",
        "summary",
        "field",
        "amount_wan",
        "instrument",
        "stage",
        "use_of_funds",
        "valuation_basis",
        "team",
        "result_ids",
        "nda_text",
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField("原因")


class FileForm(FlaskForm):
    file = FileField("文件（PDF、Word、Excel、PowerPoint，不超过 20 MB）")
    category = SelectField("类别", choices=choices(CATEGORIES), validate_choice=False)


class NdaForm(FlaskForm):
    text_hash = HiddenField()


class PipelineForm(FlaskForm):
    note = TextAreaField("备注（可选）")
    on_date = DateField("日期", validators=[Optional()])


class ProfileForm(FlaskForm):
    fields = SelectMultipleField("关注领域", choices=grouped(FIELDS), validate_choice=False)
    stages = MultiCheckboxField("投资阶段", choices=choices(values(FinancingStage)), validate_choice=False)
    ticket_min_wan = StringField("单笔投资下限（万元）")
    ticket_max_wan = StringField("单笔投资上限（万元）")
    thesis = TextAreaField("投资方向说明")
