"""Forms of events, registration, meeting requests, pitch applications and scores."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Optional

from market.forms import choices
from vocab.taxonomy import MeetingOutcome, values

_DT = "%Y-%m-%dT%H:%M"


class EventForm(FlaskForm):
    title = StringField("活动名称")
    description = TextAreaField("活动介绍")
    starts_at = DateTimeLocalField("开始时间", format=_DT, validators=[Optional()])
    ends_at = DateTimeLocalField("结束时间", format=_DT, validators=[Optional()])
    place = StringField("地点")
    online_url = StringField("线上链接")
    capacity = IntegerField("容量（人）", default=100, validators=[Optional()])
    registration_opens = DateTimeLocalField("报名开始", format=_DT, validators=[Optional()])
    registration_closes = DateTimeLocalField("报名截止", format=_DT, validators=[Optional()])
    pitch_starts_at = DateTimeLocalField(
        "路演开始（可选，每个项目 8 分钟陈述 + 7 分钟问答）", format=_DT, validators=[Optional()]
    )
    session1 = DateTimeLocalField("1:1 会谈第一场开始（可选）", format=_DT, validators=[Optional()])
    session2 = DateTimeLocalField("1:1 会谈第二场开始（可选）", format=_DT, validators=[Optional()])
    slots_per_session = IntegerField("每场时段数", default=6, validators=[Optional()])
    slot_minutes = IntegerField("每个时段（分钟，20–30）", default=20, validators=[Optional()])
    tables = IntegerField("会谈桌数", default=10, validators=[Optional()])


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RegisterForm(FlaskForm):
    sessions = MultiCheckboxField("参加的会谈场次（不选即全部）", coerce=int, validate_choice=False)
    listing = SelectField("展示的成果或需求（可选）", validate_choice=False)
    note = StringField("备注")


class MeetingForm(FlaskForm):
    to_user_id = SelectField("会谈对象", coerce=int, validate_choice=False)
    reason = TextAreaField("会谈目的")


class BlankForm(FlaskForm):
    """A CSRF token only (buttons)."""


class OutcomeForm(FlaskForm):
    outcome = SelectField("会谈结果", choices=choices(values(MeetingOutcome)), validate_choice=False)
    note = StringField("说明（可选）")


class PitchForm(FlaskForm):
    subject = SelectField("路演项目", validate_choice=False)


class ReviewerForm(FlaskForm):
    email = StringField("评委邮箱")


class ScoreForm(FlaskForm):
    veto = BooleanField("一票否决")
    comment = TextAreaField("评语")
