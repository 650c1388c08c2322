"""The upload form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField
from wtforms.validators import StopValidation

from market.security import file_name_problem


def _plain_file_name(form, field) -> None:
    problem = file_name_problem(getattr(field.data, "filename", None))
    if problem:
        raise StopValidation(problem)


class UploadForm(FlaskForm):
    file = FileField(
        "表格文件（CSV 或 XLSX）",
        validators=[
            FileRequired("请选择要上传的表格文件"),
            _plain_file_name,
            FileAllowed(["csv", "xlsx"], "只支持 CSV 或 XLSX（Excel 2007 及以上）文件"),
        ],
    )
    submit = SubmitField("上传并导入")
