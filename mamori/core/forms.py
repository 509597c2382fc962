import re

from django import forms
from django.utils.translation import gettext_lazy as _

DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class DomainForm(forms.Form):
    domain = forms.CharField(
        label=_("メールドメイン"),
        max_length=253,
        help_text=_("例: city.example.lg.jp。訓練メールと名簿のメールアドレスはこのドメインに限られます。"),
    )

    def clean_domain(self) -> str:
        domain = self.cleaned_data["domain"].strip().lower().rstrip(".")
        if "@" in domain:
            domain = domain.rsplit("@", 1)[1]
        if not DOMAIN_PATTERN.match(domain):
            raise forms.ValidationError(_("「%(domain)s」はドメイン名として正しくありません。") % {"domain": domain})
        return domain


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label=_("検索"), required=False, max_length=100)
    department = forms.UUIDField(label=_("所属"), required=False)
    employment_type = forms.CharField(label=_("雇用区分"), required=False)
    status = forms.ChoiceField(
        label=_("在籍"),
        required=False,
        choices=[("active", _("在籍のみ")), ("inactive", _("無効のみ")), ("all", _("すべて"))],
    )
