"""Verification forms (Flask-WTF; CSRF on every one)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from market.forms import choices
from market.verification.models import DOCUMENT_KINDS, STATUSES


class ApplyForm(FlaskForm):
    credit_code = StringField(
        "统一社会信用代码",
        # checked by the service with the certificate, so every problem is shown at once
        validators=[Optional()],
        description="18 位，见营业执照或事业单位法人证书，例如 121200004013593211",
    )
    document_kind = SelectField(
        "证件类型", choices=choices(DOCUMENT_KINDS, "请选择"), validators=[Optional()]
    )
    document = FileField("证件扫描件", description="PDF、JPG 或 PNG，不超过 10 MB；请确保名称与代码清晰可见")
    submit = SubmitField("提交认证申请")


class DecideForm(FlaskForm):
    decision = HiddenField()
    #: set by the confirmation page: the decision is applied only when it is "1"
    confirmed = HiddenField()
    reason = TextAreaField(
        "原因（不通过时必填，申请人将看到）",
        validators=[Optional(), Length(max=500, message="不能超过 500 个字")],
    )
    submit = SubmitField("确定")


STATUS_CHOICES = [(s, s) for s in STATUSES] + [("全部", "全部")]
