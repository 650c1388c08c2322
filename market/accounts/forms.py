"""Account forms (Flask-WTF; CSRF on every one)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional

from market.forms import choices
from vocab.taxonomy import ROLE_LABELS, AgencyType, GrowthTier, OrgKind, Region, Role, values

_REQUIRED = "此项必填"


_choices = choices


class LoginForm(FlaskForm):
    email = EmailField("邮箱", validators=[DataRequired(_REQUIRED)])
    password = PasswordField("密码", validators=[DataRequired(_REQUIRED)])
    next = HiddenField()
    submit = SubmitField("登录")


class RegisterForm(FlaskForm):
    role = SelectField(
        "我的身份",
        choices=choices(
            [(r.value, ROLE_LABELS[r]) for r in (Role.UNIVERSITY, Role.ENTERPRISE, Role.AGENT, Role.INVESTOR)]
        ),
        validators=[DataRequired(_REQUIRED)],
    )
    display_name = StringField(
        "姓名", validators=[DataRequired(_REQUIRED), Length(max=60, message="不能超过 60 个字")]
    )
    email = EmailField("邮箱", validators=[DataRequired(_REQUIRED)])
    password = PasswordField(
        "密码", validators=[DataRequired(_REQUIRED)], description="至少 8 个字符，建议使用一句好记的话"
    )
    org_name = StringField(
        "所属机构",
        validators=[DataRequired(_REQUIRED), Length(max=120, message="不能超过 120 个字")],
        description="填写已有机构的全称即加入该机构；新机构需平台审核认证后才能发布",
    )
    org_kind = SelectField(
        "机构类型（新机构）", choices=_choices(values(OrgKind), "按身份自动选择"), validators=[Optional()]
    )
    region = SelectField("所在地区", choices=_choices(values(Region)), default=Region.TIANJIN)
    district = StringField("区（天津可选）", validators=[Optional(), Length(max=20)])
    agency_type = SelectField(
        "技术转移机构类别", choices=_choices(values(AgencyType), "—"), validators=[Optional()]
    )
    growth_tier = SelectField(
        "企业梯度（可选）", choices=_choices(values(GrowthTier), "—"), validators=[Optional()]
    )
    high_tech = BooleanField("国家高新技术企业")
    submit = SubmitField("注册")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("当前密码", validators=[DataRequired(_REQUIRED)])
    new_password = PasswordField("新密码", validators=[DataRequired(_REQUIRED)], description="至少 8 个字符")
    submit = SubmitField("修改密码")


class LogoutForm(FlaskForm):
    submit = SubmitField("退出登录")


class TokenForm(FlaskForm):
    name = StringField(
        "令牌名称",
        validators=[DataRequired(_REQUIRED), Length(max=60, message="不能超过 60 个字")],
        description="用于合作平台（例如北京、河北技术市场）通过 API 同步成果或需求",
    )
    submit = SubmitField("创建 API 令牌")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("注册邮箱", validators=[DataRequired(_REQUIRED)])
    submit = SubmitField("发送重置邮件")


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "新密码", validators=[DataRequired(_REQUIRED)], description="至少 8 个字符，建议使用一句好记的话"
    )
    submit = SubmitField("设置新密码")
