"""Forms of the trading pages. They carry the fields and the CSRF token; the rules (and their Chinese
messages, put back on the fields by `apply_to_form`) live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

from market.forms import choices
from market.trade.models import PRICE_KINDS, SALE_MODES
from vocab.taxonomy import ContractType, values


def _modes():
    return choices(SALE_MODES)


class PublicityForm(FlaskForm):
    result_id = SelectField("科技成果", coerce=str)
    price_wan = StringField("协议价格（万元）")
    mode = SelectField("转化方式", choices=_modes())
    buyer_name = StringField("拟受让方（平台上的机构全称）")
    team = StringField("成果完成团队")
    note = TextAreaField("定价说明（可选，如评估报告、协商过程）", validators=[Optional()])
    days = IntegerField("公示期（天）", default=15)
    submit = SubmitField("发布公示")


class ObjectionForm(FlaskForm):
    reason = TextAreaField("异议理由（至少 10 个字）")
    submit = SubmitField("提出异议")


class RulingForm(FlaskForm):
    decision = RadioField(
        "裁定", choices=choices([("uphold", "异议成立（终止公示）"), ("dismiss", "异议不成立（驳回）")])
    )
    reason = TextAreaField("裁定理由")
    submit = SubmitField("提交裁定")


class ListingForm(FlaskForm):
    result_id = SelectField("科技成果", coerce=str)
    price_kind = SelectField("价格类型", choices=choices(PRICE_KINDS))
    price_wan = StringField("挂牌价 / 保留价（万元）")
    start_wan = StringField("起拍价（万元，竞价时使用，可选，不高于挂牌价/保留价）", validators=[Optional()])
    increment_wan = StringField("加价幅度（万元）")
    mode = SelectField("转化方式", choices=_modes())
    licence_term = StringField("许可期限（许可方式必填，如 5 年）", validators=[Optional()])
    territory = StringField("许可地域（许可方式必填，如 中国大陆）", validators=[Optional()])
    qualifications = TextAreaField("受让方资格条件")
    deposit_wan = StringField("保证金（万元，平台只记录、不代收）", default="0")
    deposit_terms = StringField("保证金条款（缴纳与退还）", validators=[Optional()])
    payment_terms = StringField("付款条件", validators=[Optional()])
    days = IntegerField("公告期（天）", default=20)
    bidding_minutes = IntegerField("竞价时长（分钟）", default=60)
    extend_minutes = IntegerField("延时周期（分钟，最后几分钟内出价即延长）", default=5)
    submit = SubmitField("发布挂牌")


class RegisterBuyerForm(FlaskForm):
    statement = TextAreaField("资格说明（满足受让方资格条件的情况）")
    submit = SubmitField("登记为意向受让方")


class CheckBuyerForm(FlaskForm):
    decision = HiddenField()
    deposit_ref = StringField("保证金到账凭证号", validators=[Optional()])
    note = StringField("审核说明", validators=[Optional()])


class BidForm(FlaskForm):
    price_wan = DecimalField("出价（万元）", places=2, validators=[Optional()])
    submit = SubmitField("出价")


class ContractForm(FlaskForm):
    """The technology contract after a deal, with what registration (技术合同认定登记) needs."""

    contract_type = SelectField("合同类型", choices=choices(values(ContractType)))
    amount_wan = StringField("成交额（万元）")
    non_tech_cost_wan = StringField("非技术性费用（万元，设备、仪器、零部件、原材料等）", default="0")
    signed_on = DateField("签订日期", validators=[Optional()])
    seller_uscc = StringField("卖方统一社会信用代码")
    seller_region_code = StringField("卖方行政区划代码（GB/T 2260，如 120104）")
    buyer_uscc = StringField("买方统一社会信用代码")
    buyer_region_code = StringField("买方行政区划代码（GB/T 2260）")
    instalments = TextAreaField(
        "分期付款（每行：金额（万元） 到期日，如 “60 2026-12-31”）", validators=[Optional()]
    )
    submit = SubmitField("保存合同")


class RegistrationForm(FlaskForm):
    """The registration office's answer: number and date (技术合同认定登记)."""

    registration_no = StringField("认定登记号")
    registered_on = DateField("登记日期", validators=[Optional()])
    submit = SubmitField("记录登记结果")
