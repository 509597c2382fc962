"""Forms of the learning pages an administrator uses: the login page's look and the first-response rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mamori.core.models import Organization
from mamori.learning.content import MAX_RULE_LENGTH, MAX_RULES, rule_lines
from mamori.learning.models import LandingPage


class ColourInput(forms.TextInput):
    """A colour picker; a browser without one shows a text box taking #rrggbb."""

    input_type = "color"


COLOUR_FIELDS = ("header_colour", "button_colour", "background_colour")


class LandingPageForm(forms.ModelForm):
    class Meta:
        model = LandingPage
        fields = [
            "page_title",
            "system_name",
            "heading",
            "message",
            "username_label",
            "password_label",
            "button_label",
            "footer",
            "header_colour",
            "button_colour",
            "background_colour",
        ]
        widgets = {name: ColourInput() for name in COLOUR_FIELDS}
        help_texts = {
            "system_name": _(
                "例: 職員ポータル、グループウェア。実在する他団体のサービス名やロゴは使わないでください。"
            ),
            "message": _("空欄にすると表示しません。"),
            "footer": _("空欄にすると表示しません。"),
        }

    @property
    def text_fields(self):
        return [field for field in self if field.name not in COLOUR_FIELDS]

    @property
    def colour_fields(self):
        return [self[name] for name in COLOUR_FIELDS]

    def clean(self):
        cleaned = super().clean()
        for name in COLOUR_FIELDS:
            if cleaned.get(name):
                cleaned[name] = cleaned[name].lower()
        return cleaned


class FirstResponseForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["report_contact", "first_response_rules"]
        widgets = {"first_response_rules": forms.Textarea(attrs={"rows": 8})}
        help_texts = {
            "report_contact": _(
                "例: 情報政策課 セキュリティ担当（内線 1234）。空欄なら「上司または情報システム部門」と表示します。"
            ),
            "first_response_rules": _("1行に1つ、%(count)s行まで。空欄なら既定のルール（下記）を表示します。")
            % {"count": MAX_RULES},
        }

    def clean_report_contact(self) -> str:
        return self.cleaned_data["report_contact"].strip()

    def clean_first_response_rules(self) -> str:
        lines = rule_lines(self.cleaned_data["first_response_rules"])
        if len(lines) > MAX_RULES:
            raise forms.ValidationError(
                _("ルールは%(max)s行までにしてください（いま%(count)s行あります）。")
                % {"max": MAX_RULES, "count": len(lines)}
            )
        too_long = [number for number, line in enumerate(lines, start=1) if len(line) > MAX_RULE_LENGTH]
        if too_long:
            raise forms.ValidationError(
                _("%(lines)s行目が長すぎます。1行%(max)s文字までにしてください。")
                % {"lines": "、".join(map(str, too_long)), "max": MAX_RULE_LENGTH}
            )
        return "\n".join(lines)
