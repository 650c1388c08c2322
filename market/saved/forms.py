"""Toggles and the saved-search forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from market.forms import choices
from market.saved.models import Frequency

FREQUENCIES = choices(f.value for f in Frequency)


class ActionForm(FlaskForm):
    """Favourite / follow toggles: only the CSRF token."""


class SaveSearchForm(FlaskForm):
    name = StringField("订阅名称（可选）")
    frequency = SelectField(
        "邮件汇总", choices=FREQUENCIES, default=Frequency.DAILY.value, validate_choice=False
    )


class ChangeSearchForm(FlaskForm):
    frequency = SelectField("邮件汇总", choices=FREQUENCIES, validate_choice=False)
