"""The partner form of the registry."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, TextAreaField


class PartnerForm(FlaskForm):
    name = StringField("平台名称", description="例如：北京技术市场")
    base_url = StringField(
        "平台网址", description="对方平台的根地址，例如 https://bj.example.cn；留空则只向对方开放本平台的目录"
    )
    prefix = StringField("标识前缀", description="对方全局标识符的前缀（2–20 位字母或数字），例如 BJ")
    harvest_token = PasswordField(
        "对方签发的访问令牌", description="采集对方目录时使用；留空则保留已保存的令牌"
    )
    enabled = BooleanField("启用（采集对方目录，并允许对方采集本平台）", default=True)


class ActionForm(FlaskForm):
    """Issue a token / harvest now: only the CSRF token."""


class IntroductionForm(FlaskForm):
    """An agent asks the partner platform to introduce one of our listings to its record."""

    listing_id = StringField(
        "本平台的相关记录编号", description="本平台已发布的需求（或成果）编号，即其网址末尾的数字"
    )
    message = TextAreaField(
        "引荐理由",
        description="说明双方为何匹配、设想的合作方式；不要写联系方式（对方平台审核后经双方经纪人对接）",
    )


class DecisionForm(FlaskForm):
    """Accept or decline an introduction a partner asked of us."""

    decision = HiddenField()
