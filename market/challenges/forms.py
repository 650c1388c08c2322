"""我要揭榜, questions and the choice of winners."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApplyForm(FlaskForm):
    plan = TextAreaField("技术方案", description="针对榜单指标的技术路线与可行性", render_kw={"rows": 6})
    team = TextAreaField("团队介绍", description="负责人、成员、相关业绩", render_kw={"rows": 4})
    milestones = TextAreaField(
        "里程碑计划", description="每个阶段的时间与可验证的指标", render_kw={"rows": 4}
    )
    result_ids = MultiCheckbox("关联成果（本单位已发布的成果）", coerce=int, validate_choice=False)


class QuestionForm(FlaskForm):
    body = TextAreaField("内容", render_kw={"rows": 3})


class DecideForm(FlaskForm):
    chosen = MultiCheckbox("中榜团队", coerce=int, validate_choice=False)
    outcome = TextAreaField("评审说明（可选；无人中榜时必填）", render_kw={"rows": 2})


class ActionForm(FlaskForm):
    """Shortlist: only the CSRF token."""
