"""Forms of the staff report page (5W1H, near miss) and of the response-drill pages.

Staff have no account: the forms ask for the work email unless a personal or drill link already says who
is reporting. Size limits are checked here, so an oversize .eml gets a clear message instead of an error.
"""

import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.core.models import Department, Person
from mamori.reporting.models import IncidentReport, NearMiss, ResponseDrill

# A pasted mail beyond this is not a mail someone copied from a client window; .eml files use the upload limit.
PASTED_MAIL_MAX_CHARS = 500_000
MEGABYTE = 1024 * 1024


def eml_max_bytes() -> int:
    return settings.UPLOAD_MAX_BYTES


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class FindOrganizationForm(forms.Form):
    email = forms.EmailField(label=_("あなたの職場のメールアドレス"), max_length=254)


class IncidentReportForm(forms.Form):
    """The 5W1H report; ``ask_email`` is False when a link already identifies the reporter."""

    email = forms.EmailField(
        label=_("あなたの職場のメールアドレス"),
        required=False,
        max_length=254,
        help_text=_("名簿に登録されている職場のアドレスを入力してください。"),
    )
    occurred_precision = forms.ChoiceField(
        label=_("いつ（どのくらい分かりますか）"),
        choices=IncidentReport.WhenPrecision.choices,
        initial=IncidentReport.WhenPrecision.EXACT,
        widget=forms.RadioSelect,
    )
    occurred_at = forms.DateTimeField(
        label=_("いつ"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=_("おおよそでかまいません。分からなければ「分からない」を選んでください。"),
    )
    where = forms.CharField(
        label=_("どこで"),
        required=False,
        max_length=200,
        help_text=_("例: 税務課の自席のパソコン、会議室のプリンター"),
    )
    who = forms.CharField(
        label=_("誰が"), required=False, max_length=200, help_text=_("例: 私が、係の同僚が、取引先が")
    )
    what = forms.CharField(
        label=_("何を"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例: 「請求書」という件名のメールの添付ファイルを開いた"),
    )
    outcome = forms.CharField(
        label=_("どうなった"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例: 画面に何も表示されなかった。その後、ファイルが開けなくなった"),
    )
    actions_taken = forms.MultipleChoiceField(
        label=_("これまでにしたこと"),
        required=False,
        choices=IncidentReport.FirstAction.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    actions_note = forms.CharField(
        label=_("ほかにしたこと・気づいたこと"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    pasted_mail = forms.CharField(
        label=_("不審なメールの内容（貼り付け）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("メールのヘッダーと本文をそのまま貼り付けてください。なくてもかまいません。"),
    )
    eml_file = forms.FileField(
        label=_("不審なメール（.eml ファイル）"),
        required=False,
        help_text=_("メールソフトで「名前を付けて保存」した .eml ファイルを添付できます。"),
    )

    def __init__(self, *args, ask_email: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.ask_email = ask_email
        if ask_email:
            self.fields["email"].required = True
        else:
            del self.fields["email"]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_pasted_mail(self) -> str:
        text = self.cleaned_data["pasted_mail"]
        if len(text) > PASTED_MAIL_MAX_CHARS:
            raise ValidationError(
                _("貼り付けたメールが長すぎます（上限 %(limit)s 文字）。.eml ファイルとして添付してください。"),
                params={"limit": f"{PASTED_MAIL_MAX_CHARS:,}"},
            )
        return text

    def clean_eml_file(self):
        upload = self.cleaned_data["eml_file"]
        if upload and upload.size > eml_max_bytes():
            raise ValidationError(
                _(
                    ".eml ファイルが大きすぎます（%(size)s MB、上限 %(limit)s MB）。"
                    "添付ファイルを外して保存し直すか、報告用のメールアドレスへ転送してください。"
                ),
                params={"size": f"{upload.size / MEGABYTE:.1f}", "limit": eml_max_bytes() // MEGABYTE},
            )
        return upload

    def clean(self):
        data = super().clean()
        precision = data.get("occurred_precision")
        if precision == IncidentReport.WhenPrecision.UNKNOWN:
            data["occurred_at"] = None
        elif precision and data.get("occurred_at") is None and not self.has_error("occurred_at"):
            self.add_error("occurred_at", _("日時を入力するか、「分からない」を選んでください。"))
        occurred_at = data.get("occurred_at")
        if occurred_at and occurred_at > timezone.now() + datetime.timedelta(minutes=5):
            self.add_error("occurred_at", _("未来の日時は入力できません。"))
        return data

    def suspicious_mail_bytes(self) -> bytes:
        """The uploaded .eml, else the pasted text as a message; empty when neither was given."""
        upload = self.cleaned_data.get("eml_file")
        if upload:
            return b"".join(upload.chunks())
        return self.cleaned_data.get("pasted_mail", "").strip().encode("utf-8")


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, department: Department) -> str:
        return str(department)


class NearMissForm(forms.Form):
    """The short near-miss form: what almost happened, the department, and optionally who."""

    kind = forms.ChoiceField(
        label=_("どんなことがありましたか"), choices=NearMiss.Kind.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("くわしく（任意）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("個人名や個人情報は書かないでください。"),
    )
    department = DepartmentChoiceField(label=_("所属"), queryset=Department.objects.none(), required=False)
    anonymous = forms.BooleanField(
        label=_("匿名で送る（所属だけを記録します）"),
        required=False,
        initial=True,
    )
    email = forms.EmailField(label=_("あなたの職場のメールアドレス（匿名でないとき）"), required=False, max_length=254)

    def __init__(self, *args, organization, ask_email: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(organization=organization, active=True)
        self.ask_email = ask_email
        if not ask_email:
            del self.fields["email"]

    def clean(self):
        data = super().clean()
        if data.get("anonymous"):
            if not data.get("department"):
                self.add_error("department", _("匿名で送るときは、所属を選んでください。"))
            data["email"] = ""
        elif self.ask_email and not data.get("email"):
            self.add_error("email", _("匿名にしないときは、職場のメールアドレスを入力してください。"))
        if data.get("email"):
            data["email"] = data["email"].strip().lower()
        return data


class ResponseDrillForm(forms.Form):
    """Start a response drill for the staff of some departments and/or some addresses."""

    scenario = forms.ChoiceField(label=_("想定"), choices=ResponseDrill.Scenario.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("名称"), required=False, max_length=120)
    departments = forms.ModelMultipleChoiceField(
        label=_("対象の所属（下位の所属も含みます）"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    emails = forms.CharField(
        label=_("対象者のメールアドレス（1行に1件）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    # A response drill is a tabletop exercise for a few people, not a mass mailing.
    MAX_PEOPLE = 500

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["departments"].queryset = Department.objects.filter(organization=organization, active=True)

    def clean(self):
        data = super().clean()
        people = Person.objects.filter(organization=self.organization, active=True)
        condition = None
        for department in data.get("departments") or []:
            subtree = department.subtree_filter()
            condition = subtree if condition is None else condition | subtree
        emails = [line.strip().lower() for line in data.get("emails", "").splitlines() if line.strip()]
        unknown = sorted(
            set(emails) - {e.lower() for e in people.filter(email__in=emails).values_list("email", flat=True)}
        )
        if unknown:
            self.add_error(
                "emails",
                _("名簿にない（または在籍していない）アドレスがあります: %(emails)s")
                % {"emails": "、".join(unknown[:10])},
            )
        chosen = people.none()
        if condition is not None:
            chosen = people.filter(condition)
        if emails:
            chosen = chosen | people.filter(email__in=emails)
        data["people"] = list(chosen.distinct().select_related("manager"))
        if not self.errors and not data["people"]:
            raise ValidationError(_("対象者がいません。所属を選ぶか、メールアドレスを入力してください。"))
        if len(data["people"]) > self.MAX_PEOPLE:
            raise ValidationError(
                _("対象者は %(limit)s 人までにしてください（%(count)s 人選ばれています）。"),
                params={"limit": self.MAX_PEOPLE, "count": len(data["people"])},
            )
        return data
