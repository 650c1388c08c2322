"""The message box and the report form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField


class MessageForm(FlaskForm):
    body = TextAreaField("消息", render_kw={"rows": 3})
    attachment = FileField("附件（可选；PDF、Word .docx、Excel .xlsx，不超过 10 MB）")


class ReportForm(FlaskForm):
    reason = TextAreaField("举报原因", render_kw={"rows": 2})
