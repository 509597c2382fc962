"""Scenario forms: the mail, its lure, and the red-flag cues, checked when saved.

Template problems are shown next to the field they are in, in Japanese (``mamori.drills.rendering``).
"""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mamori.drills import attachments, rendering
from mamori.drills.library import THREAT_TAGS, sample_mail_text
from mamori.drills.models import Scenario
from mamori.drills.phish_scale import Difficulty

MAX_CUES = 12
TEMPLATE_FIELDS = {"subject": False, "text_body": False, "html_body": True, "attachment_body": False}


class ScenarioForm(forms.ModelForm):
    threat_tags = forms.MultipleChoiceField(
        label=gettext_lazy("脅威タグ"),
        choices=list(THREAT_TAGS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Scenario
        fields = [
            "name",
            "subject",
            "sender_name",
            "sender_address",
            "text_body",
            "html_body",
            "lure_type",
            "threat_tags",
            "premise_alignment",
            "cue_count",
            "attachment_mode",
            "attachment_name",
            "attachment_body",
        ]
        widgets = {
            "name": forms.TextInput(attrs={"size": 50}),
            "sender_name": forms.TextInput(attrs={"size": 50}),
            "sender_address": forms.EmailInput(attrs={"size": 50}),
            "attachment_name": forms.TextInput(attrs={"size": 50}),
            "subject": forms.TextInput(attrs={"size": 70}),
            "text_body": forms.Textarea(attrs={"rows": 16, "cols": 80}),
            "html_body": forms.Textarea(attrs={"rows": 10, "cols": 80}),
            "attachment_body": forms.Textarea(attrs={"rows": 6, "cols": 80}),
        }
        help_texts = {
            "html_body": gettext_lazy(
                "任意。無害化でテキストに変換される環境が多いため、誘導はテキスト本文だけで成り立つようにしてください。"
            ),
            "premise_alignment": gettext_lazy(
                "NIST Phish Scale の「前提の整合性」: 受信者の業務や状況にどれだけ合っているか。"
            ),
            "cue_count": gettext_lazy(
                "NIST Phish Scale で数えた手がかりの総数。空欄なら下の一覧の数で難易度を判定します。"
            ),
            "attachment_name": gettext_lazy("使える拡張子は .pdf .docx .html だけです。実行ファイルは添付できません。"),
            "attachment_body": gettext_lazy(
                "添付する文書の本文。受信者ごとの添付リンクが最後に自動で入ります。変数も使えます。"
            ),
        }

    def clean(self):
        cleaned = super().clean()
        for field, html in TEMPLATE_FIELDS.items():
            if field in cleaned:
                for error in rendering.validate_template(cleaned[field], html=html):
                    self.add_error(field, error)
        mode = cleaned.get("attachment_mode", Scenario.AttachmentMode.LINK)
        for error in attachments.validate_attachment_name(cleaned.get("attachment_name", ""), mode):
            self.add_error("attachment_name", error)
        if "text_body" in cleaned and "lure_type" in cleaned:
            error = rendering.lure_error(cleaned["lure_type"], mode, cleaned["text_body"])
            if error:
                self.add_error("text_body", error)
        return cleaned


class CueForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("手がかり"), max_length=60, required=False, widget=forms.TextInput(attrs={"size": 24})
    )
    detail = forms.CharField(
        label=gettext_lazy("説明"), max_length=600, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )
    excerpt = forms.CharField(
        label=gettext_lazy("メール中の該当箇所"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"size": 28}),
        help_text=gettext_lazy("件名・差出人・本文の文言をそのまま（変数を含まない部分）。後で強調表示に使います。"),
    )

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("detail") or cleaned.get("excerpt")) and not cleaned.get("label"):
            self.add_error("label", _("手がかりの見出しを入力してください。"))
        return cleaned


CueFormSet = forms.formset_factory(CueForm, extra=2, max_num=MAX_CUES, validate_max=True)


def cue_formset(scenario: Scenario, data=None):
    return CueFormSet(data, prefix="cues", initial=scenario.cues or None)


def validate_scenario(form: ScenarioForm, cues) -> bool:
    """Validate the scenario form and its cues together, and put the cues on the instance.

    Besides each form's own checks: every excerpt must be found in the mail (as a sample person gets it),
    so that it can be highlighted later, and the total cue count cannot be below the listed cues.
    """
    if not (form.is_valid() and cues.is_valid()):
        return False
    listed = [
        {"label": cue["label"], "detail": cue["detail"], "excerpt": cue["excerpt"]}
        for cue in cues.cleaned_data
        if cue.get("label")
    ]
    mail = sample_mail_text(form.cleaned_data)
    for cue_form in cues.forms:
        excerpt = cue_form.cleaned_data.get("excerpt")
        if excerpt and excerpt not in mail:
            cue_form.add_error(
                "excerpt", _("この文言がメールの中に見つかりません。件名・本文からそのまま写してください。")
            )
    total = form.cleaned_data.get("cue_count")
    if total is not None and total < len(listed):
        form.add_error("cue_count", _("手がかりの総数が、一覧の手がかりの数より少なくなっています。"))
    if form.errors or not cues.is_valid():
        return False
    form.instance.cues = listed
    return True


DIFFICULTY_CHOICES = [("", gettext_lazy("すべて")), *Difficulty.choices]


class LibraryFilterForm(forms.Form):
    lure_type = forms.ChoiceField(
        label=gettext_lazy("誘導の種類"),
        choices=[("", gettext_lazy("すべて")), *Scenario.LureType.choices],
        required=False,
    )
    tag = forms.ChoiceField(
        label=gettext_lazy("脅威タグ"), choices=[("", gettext_lazy("すべて")), *THREAT_TAGS.items()], required=False
    )
    difficulty = forms.ChoiceField(label=gettext_lazy("難易度"), choices=DIFFICULTY_CHOICES, required=False)


class PersonSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("職員を検索"), max_length=100, required=False)
    person = forms.UUIDField(required=False, widget=forms.HiddenInput)
