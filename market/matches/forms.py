"""Forms for agents' actions, owners' feedback and the contract."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from market.forms import choices
from vocab.taxonomy import ContractType, DeclineReason, values


class ActionForm(FlaskForm):
    """claim / release / introduce / negotiate: a CSRF token and an optional note."""

    note = TextAreaField("备注（可选）")


class DeclineForm(FlaskForm):
    reason = SelectField(
        "未成交原因",
        choices=choices(values(DeclineReason), "请选择"),
        validate_choice=False,
    )
    note = TextAreaField("说明（可选）")


class NoteForm(FlaskForm):
    note = TextAreaField("跟进记录")


class FeedbackForm(FlaskForm):
    verdict = SelectField(
        "反馈",
        choices=choices([("interested", "感兴趣"), ("not_interested", "不感兴趣")]),
        validate_choice=False,
    )
    reason = SelectField("不感兴趣的原因", choices=choices(values(DeclineReason), "—"), validate_choice=False)


class ContractForm(FlaskForm):
    contract_type = SelectField(
        "合同类型", choices=choices(values(ContractType), "请选择"), validate_choice=False
    )
    amount_wan = DecimalField("合同金额（交易总额，万元）", validators=[Optional()], places=2)
    tech_amount_wan = DecimalField(
        "技术交易额（万元）", validators=[Optional()], places=2, description="不超过合同金额"
    )
    signed_on = DateField("签订日期", validators=[Optional()])
    pdf = FileField("合同文本 PDF（可选，不超过 10 MB）")
    close_listings = BooleanField("同时将成果与需求标记为“已成交”")
    title = StringField("备注", validators=[Optional()])
