"""Forms of the directory: profiles, certificates, 请经纪人 and its answers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from market.directory.asks import DECLINE_REASONS
from market.forms import choices
from vocab import regions
from vocab.taxonomy import FIELDS


class _Unchecked(SelectMultipleField):
    def pre_validate(self, form) -> None:  # the service checks values, with Chinese messages
        pass


class _UncheckedSelect(SelectField):
    def pre_validate(self, form) -> None:
        pass


def field_choices():
    out: list[tuple[str, str]] = []
    for top, subs in FIELDS.items():
        out.append((top, f"{top}（全部）"))
        out += [(s, f"　{s}") for s in subs]
    return choices(out)


class _Profile(FlaskForm):
    region_code = _UncheckedSelect("所在地区（GB/T 2260）", choices=choices(regions.choices(), "—"))
    fields = _Unchecked("服务的技术领域（可多选，最多 8 个）", choices=field_choices())
    intro = TextAreaField("简介")


class AgencyProfileForm(_Profile):
    services = TextAreaField(
        "提供的服务", description="例如：技术评估、知识产权运营、投融资对接、技术合同登记辅导"
    )
    contact_name = StringField("联系人", validators=[Optional()])
    contact_phone = StringField("联系电话", validators=[Optional()])
    contact_email = StringField("联系邮箱", validators=[Optional()])


class BrokerProfileForm(_Profile):
    title = StringField("职称或头衔", validators=[Optional()])


class CertificateForm(FlaskForm):
    name = StringField("证书名称", description="例如：技术经纪人证书、技术经理人（中级）")
    number = StringField("证书编号")
    issuer = StringField("发证机构")
    issued_on = DateField("发证日期", validators=[Optional()])


class CheckForm(FlaskForm):
    verdict = _UncheckedSelect("核验结果", choices=choices([("ok", "已核验"), ("reject", "未通过")]))
    note = StringField("说明（未通过时必填）", validators=[Optional()])


class AskForm(FlaskForm):
    listing = _UncheckedSelect("请承接的发布", choices=[])
    note = TextAreaField("给经纪人的说明", description="希望得到什么帮助、时间要求等")


class AnswerForm(FlaskForm):
    reason = _UncheckedSelect("婉拒原因", choices=choices(DECLINE_REASONS, "请选择"))
    note = TextAreaField("说明（可选）")
