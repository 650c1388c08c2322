"""The notice editor and its attachment upload."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from market.forms import choices
from market.notices.service import KINDS


class NoticeForm(FlaskForm):
    kind = SelectField("类型", choices=choices(KINDS), validate_choice=False)
    title = StringField("标题")
    issued_on = DateField("发文日期（可选）", validators=[Optional()])
    body_md = TextAreaField(
        "正文（Markdown）",
        description="支持标题、列表、表格、链接；HTML 标签会按原样显示为文字",
        render_kw={"rows": 14},
    )


class AttachmentForm(FlaskForm):
    attachment = FileField("附件（PDF、Word .docx、Excel .xlsx，不超过 10 MB）")


class ActionForm(FlaskForm):
    """publish / withdraw: only the CSRF token."""
