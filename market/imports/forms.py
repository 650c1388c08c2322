"""The upload form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField


class UploadForm(FlaskForm):
    file = FileField(
        "表格文件（CSV 或 XLSX）",
        validators=[
            FileRequired("请选择要上传的表格文件"),
            FileAllowed(["csv", "xlsx"], "只支持 CSV 或 XLSX（Excel 2007 及以上）文件"),
        ],
    )
    submit = SubmitField("上传并导入")
