"""Forms of the incident pages: the case, a state change, timeline entries, tasks, evidence, escalation.

The forms only check and convert what people type; every change is made by ``mamori.incidents.actions``.
Times are typed in JST with how well they are known (分まで / 何時ごろ / 日付だけ / 分からない).
"""

import datetime
import re

from django import forms
from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mamori.accounts.models import User
from mamori.core.models import Department, Membership, Organization, Person
from mamori.drills.fiscal import JST
from mamori.incidents import states
from mamori.incidents.models import Case, CustodyEntry, DutyContact, Evidence, TimelineEntry, TimePrecision
from mamori.incidents.templatetags.incident_pages import when_text

# One person a line: an employee number or an address first; anything after it (a name) is ignored, so the
# form's own listing ("E000123 山田 太郎") reads back unchanged.
PERSON_LINE_SEPARATORS = re.compile(r"[\s,，\t]+")
MAX_NAMED_IN_ERROR = 10
MAX_LINES = 500
SHA256_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")
MEGABYTE = 1024 * 1024
# The roles that may be given a case: the people who handle incidents in the ward.
ASSIGNABLE_ROLES = (Membership.Role.CSIRT, Membership.Role.SECURITY_ADMIN)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def when_field(label, *, required: bool = False, help_text="") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=help_text,
    )


def precision_field(label, *, initial=TimePrecision.EXACT) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=TimePrecision.choices, initial=initial, widget=forms.RadioSelect)


def truncated_to_precision(value: datetime.datetime | None, precision: str) -> datetime.datetime | None:
    """Drop what the precision says is not known: 「14時台」 is stored as 14:00, 「12月3日」 as 0:00 JST."""
    if value is None or precision == TimePrecision.UNKNOWN:
        return None
    local = value.astimezone(JST)
    if precision == TimePrecision.HOUR:
        local = local.replace(minute=0, second=0, microsecond=0)
    elif precision == TimePrecision.DAY:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        local = local.replace(second=0, microsecond=0)
    return local


def clean_when(form: forms.Form, at_name: str, precision_name: str, *, allow_unknown: bool = True) -> None:
    """A time is needed unless its precision is 「分からない」; store it no more precisely than known."""
    cleaned = form.cleaned_data
    precision = cleaned.get(precision_name)
    if precision is None:
        return
    if precision == TimePrecision.UNKNOWN and not allow_unknown:
        form.add_error(precision_name, _("この日時は「分からない」にできません。おおよその日付を入力してください。"))
        return
    value = cleaned.get(at_name)
    if precision != TimePrecision.UNKNOWN and value is None and at_name not in form.errors:
        form.add_error(at_name, _("日時を入力するか、「分からない」を選んでください。"))
        return
    cleaned[at_name] = truncated_to_precision(value, precision)


def _named(identifiers: list[str]) -> str:
    shown = "、".join(identifiers[:MAX_NAMED_IN_ERROR])
    rest = len(identifiers) - MAX_NAMED_IN_ERROR
    return shown + (_(" ほか %(count)s 件") % {"count": rest} if rest > 0 else "")


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def people_from_lines(organization: Organization, text: str) -> list[Person]:
    """Resolve employee numbers or addresses, one a line, to the organization's staff in one query."""
    identifiers = [PERSON_LINE_SEPARATORS.split(line)[0] for line in lines_of(text)]
    if not identifiers:
        return []
    if len(identifiers) > MAX_LINES:
        raise forms.ValidationError(_("一度に指定できるのは %(count)s 人までです。") % {"count": MAX_LINES})
    emails = {identifier.lower() for identifier in identifiers if "@" in identifier}
    numbers = {identifier for identifier in identifiers if "@" not in identifier}
    people = list(
        Person.objects.filter(organization=organization)
        .annotate(email_lower=Lower("email"))
        .filter(Q(employee_number__in=numbers) | Q(email_lower__in=emails))
    )
    found = {person.employee_number for person in people} | {person.email_lower for person in people}
    unknown = [i for i in identifiers if i not in found and i.lower() not in found]
    if unknown:
        raise forms.ValidationError(_("名簿に見つかりません: %(names)s") % {"names": _named(unknown)})
    return people


def person_line(person: Person) -> str:
    return f"{person.employee_number} {person.name}"


class AssigneeField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", gettext_lazy("未定"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, user: User) -> str:
        return str(user)


def assignable_users(organization: Organization):
    """The ward's CSIRT members and security admins, the people a case may be given to."""
    return (
        User.objects.filter(
            memberships__organization=organization, memberships__role__in=ASSIGNABLE_ROLES, is_active=True
        )
        .distinct()
        .order_by("username")
    )


class CaseForm(forms.Form):
    """The facts of a case (opening and editing). ``cleaned_data`` uses the model's field names."""

    title = forms.CharField(label=gettext_lazy("件名"), max_length=200, widget=forms.TextInput(attrs={"size": 60}))
    category = forms.ChoiceField(label=gettext_lazy("分類"), choices=Case.Category.choices)
    severity = forms.ChoiceField(
        label=gettext_lazy("深刻度"), choices=Case.Severity.choices, initial=Case.Severity.MEDIUM
    )
    summary = forms.CharField(
        label=gettext_lazy("概要"), required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    detected_precision = precision_field(gettext_lazy("検知日時（どのくらい分かるか）"))
    detected_at = when_field(
        gettext_lazy("検知日時"), help_text=gettext_lazy("日本時間。区が事案を知った時刻です（法定報告の期限の起点）。")
    )
    occurred_precision = precision_field(gettext_lazy("発生日時（どのくらい分かるか）"), initial=TimePrecision.UNKNOWN)
    occurred_at = when_field(gettext_lazy("発生日時"), help_text=gettext_lazy("日本時間。分からなければ空のままで。"))
    affected_departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("影響を受けた所属"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    affected_systems = forms.CharField(
        label=gettext_lazy("影響を受けたシステム"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("1行に1つ。例: 財務会計システム、税務課のファイルサーバー"),
    )
    affected_people = forms.CharField(
        label=gettext_lazy("影響を受けた職員"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("職員番号またはメールアドレスを1行に1人。"),
    )
    personal_records_count = forms.IntegerField(
        label=gettext_lazy("関係する個人情報の本人の数"),
        min_value=0,
        max_value=100_000_000,
        initial=0,
        help_text=gettext_lazy("漏えい等のおそれがある個人情報の本人の人数。1,000人以上で重大インシデントになります。"),
    )
    personal_record_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("個人情報の種類"),
        choices=Case.PersonalRecordKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    unauthorised_purpose = forms.BooleanField(
        label=gettext_lazy("不正の目的によるおそれがある（不正アクセス・盗難など）"), required=False
    )
    service_outage_started_at = when_field(gettext_lazy("サービス停止の開始"))
    service_outage_ended_at = when_field(
        gettext_lazy("サービス停止の終了"),
        help_text=gettext_lazy("停止が続いている間は空のままで。24時間以上の停止は重大インシデントです。"),
    )
    reporter = forms.CharField(
        label=gettext_lazy("報告者（職員）"),
        required=False,
        max_length=254,
        help_text=gettext_lazy("職員番号またはメールアドレス。"),
    )
    reporter_label = forms.CharField(
        label=gettext_lazy("報告者（名簿にない場合）"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("例: 委託先の担当者、区民からの電話"),
    )
    assignee = AssigneeField(label=gettext_lazy("担当者"), queryset=User.objects.none(), required=False)
    tlp = forms.ChoiceField(
        label=gettext_lazy("共有の範囲（TLP）"),
        choices=Case.TLP.choices,
        initial=Case.TLP.AMBER_STRICT,
        help_text=gettext_lazy("AMBER+STRICT: 自組織内のみ。RED: 名指しした人のみ。"),
    )

    def __init__(self, *args, organization: Organization, case: Case | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.case = case
        self.fields["affected_departments"].queryset = Department.objects.filter(
            organization=organization, active=True
        ).order_by("path")
        self.fields["assignee"].queryset = assignable_users(organization)
        if case is not None:
            # The detection time starts the measures and is the opening transition's time: it is set when the
            # case is opened, and a correction goes into the timeline.
            del self.fields["detected_at"], self.fields["detected_precision"]
            self.initial.update(initial_of_case(case))

    def clean_affected_systems(self) -> list[str]:
        return lines_of(self.cleaned_data["affected_systems"])

    def clean_affected_people(self) -> list[Person]:
        return people_from_lines(self.organization, self.cleaned_data["affected_people"])

    def clean_reporter(self) -> Person | None:
        text = self.cleaned_data["reporter"].strip()
        if not text:
            return None
        people = people_from_lines(self.organization, text)
        return people[0] if people else None

    def clean(self):
        cleaned = super().clean()
        if self.case is None:
            clean_when(self, "detected_at", "detected_precision", allow_unknown=False)
        else:
            cleaned["detected_at"] = self.case.detected_at
        clean_when(self, "occurred_at", "occurred_precision")
        started, ended = cleaned.get("service_outage_started_at"), cleaned.get("service_outage_ended_at")
        if ended is not None and started is None:
            self.add_error("service_outage_started_at", _("停止の終了を入れる場合は開始も入力してください。"))
        elif started is not None and ended is not None and ended < started:
            self.add_error("service_outage_ended_at", _("停止の終了は開始より後にしてください。"))
        occurred, detected = cleaned.get("occurred_at"), cleaned.get("detected_at")
        if occurred is not None and detected is not None and occurred > detected:
            self.add_error("occurred_at", _("発生日時は検知日時より前にしてください。"))
        return cleaned

    def opening_fields(self) -> dict:
        """What ``actions.open_case`` takes."""
        return {name: self.cleaned_data[name] for name in OPENING_FIELDS}

    def later_fields(self) -> dict:
        """What ``actions.update_case`` sets after opening (or on an edit)."""
        names = EDIT_FIELDS if self.case is not None else EDIT_FIELDS - set(OPENING_FIELDS)
        return {name: self.cleaned_data[name] for name in names}


# Taken by ``actions.open_case``; the rest of the form is set with ``actions.update_case`` right after.
OPENING_FIELDS = (
    "title",
    "category",
    "severity",
    "summary",
    "detected_at",
    "detected_precision",
    "occurred_at",
    "occurred_precision",
    "reporter",
    "reporter_label",
    "assignee",
    "tlp",
    "affected_departments",
)
EDIT_FIELDS = frozenset(CaseForm.base_fields) - {"detected_at", "detected_precision"}


def initial_of_case(case: Case) -> dict:
    """The form's initial values from a stored case (times in JST, lists one a line)."""
    return {
        "title": case.title,
        "category": case.category,
        "severity": case.severity,
        "summary": case.summary,
        "occurred_at": _local(case.occurred_at),
        "occurred_precision": case.occurred_precision,
        "affected_departments": list(case.affected_departments.all()),
        "affected_systems": "\n".join(case.affected_systems or []),
        "affected_people": "\n".join(map(person_line, case.affected_people.all())),
        "personal_records_count": case.personal_records_count,
        "personal_record_kinds": list(case.personal_record_kinds or []),
        "unauthorised_purpose": case.unauthorised_purpose,
        "service_outage_started_at": _local(case.service_outage_started_at),
        "service_outage_ended_at": _local(case.service_outage_ended_at),
        "reporter": case.reporter.employee_number if case.reporter else "",
        "reporter_label": case.reporter_label,
        "assignee": case.assignee_id,
        "tlp": case.tlp,
    }


def _local(value: datetime.datetime | None) -> datetime.datetime | None:
    return value.astimezone(JST) if value is not None else None


class TransitionForm(forms.Form):
    """A change of state: the target, a note, and (to close) the resolution."""

    to_state = forms.ChoiceField(choices=Case.State.choices)
    resolution = forms.ChoiceField(
        label=gettext_lazy("完了の理由"), choices=[("", "—"), *Case.Resolution.choices], required=False
    )
    note = forms.CharField(
        label=gettext_lazy("メモ"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case

    def clean(self):
        cleaned = super().clean()
        to_state = cleaned.get("to_state")
        if to_state is None:
            return cleaned
        if not states.is_allowed(self.case.state, to_state):
            raise forms.ValidationError(
                _("「%(from)s」から「%(to)s」には進めません。")
                % {"from": self.case.get_state_display(), "to": Case.State(to_state).label}
            )
        if to_state == Case.State.CLOSED:
            allowed = states.resolutions_for_closing(self.case.state)
            if not cleaned.get("resolution"):
                self.add_error("resolution", _("完了にするには、完了の理由を選んでください。"))
            elif cleaned["resolution"] not in allowed:
                labels = "、".join(str(Case.Resolution(value).label) for value in allowed)
                self.add_error(
                    "resolution", _("この段階で選べる完了の理由は次のとおりです: %(labels)s") % {"labels": labels}
                )
        return cleaned


class PanelForm(forms.Form):
    """A form of one panel of the case page. Several share the page, so each has its own HTML id prefix."""

    AUTO_ID = "id_%s"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", self.AUTO_ID)
        super().__init__(*args, **kwargs)


class TimelineEntryForm(PanelForm):
    AUTO_ID = "timeline-%s"

    kind = forms.ChoiceField(label=gettext_lazy("種類"), choices=TimelineEntry.Kind.choices)
    at_precision = precision_field(gettext_lazy("日時（どのくらい分かるか）"))
    at = when_field(gettext_lazy("日時"), help_text=gettext_lazy("日本時間。空なら今の時刻です。"))
    text = forms.CharField(label=gettext_lazy("内容"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}))
    corrects = forms.ChoiceField(
        label=gettext_lazy("訂正する記録"),
        required=False,
        help_text=gettext_lazy("誤りを訂正するときに選びます（元の記録は残ります）。"),
    )

    def __init__(self, *args, entries=(), **kwargs):
        """``entries``: the case's timeline, which a new entry may correct."""
        super().__init__(*args, **kwargs)
        self.entries = {str(entry.public_id): entry for entry in entries}
        self.fields["corrects"].choices = [("", "—")] + [
            (key, f"{when_text(entry.at, entry.at_precision)} {entry.text[:40]}") for key, entry in self.entries.items()
        ]

    def clean_corrects(self) -> TimelineEntry | None:
        return self.entries.get(self.cleaned_data["corrects"])

    def clean(self):
        cleaned = super().clean()
        precision = cleaned.get("at_precision")
        if precision == TimePrecision.UNKNOWN:
            self.add_error("at_precision", _("時系列の記録には、おおよその日付が必要です。"))
        elif precision is not None and cleaned.get("at") is not None:
            cleaned["at"] = truncated_to_precision(cleaned["at"], precision)
        return cleaned


class TaskForm(PanelForm):
    AUTO_ID = "task-%s"

    title = forms.CharField(label=gettext_lazy("作業"), max_length=200)
    detail = forms.CharField(
        label=gettext_lazy("詳細"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_at = when_field(gettext_lazy("期限"), help_text=gettext_lazy("日本時間。任意。"))


class EvidenceForm(PanelForm):
    """An evidence item: an uploaded file (hashed on the server) or an item kept offline with its hash."""

    AUTO_ID = "evidence-%s"

    description = forms.CharField(label=gettext_lazy("内容"), max_length=300)
    kind = forms.ChoiceField(label=gettext_lazy("種類"), choices=Evidence.Kind.choices)
    file = forms.FileField(
        label=gettext_lazy("ファイル"),
        required=False,
        help_text=gettext_lazy(
            "SHA-256 はサーバーで計算します。ディスクイメージなど大きなものは、"
            "ファイルの代わりにハッシュ値を入力してください。"
        ),
    )
    sha256 = forms.CharField(
        label=gettext_lazy("SHA-256（ファイルを送らない場合）"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("64桁の16進数。手元で計算した値を入力します。"),
    )
    acquired_precision = precision_field(gettext_lazy("取得日時（どのくらい分かるか）"))
    acquired_at = when_field(gettext_lazy("取得日時"))
    collector = forms.CharField(
        label=gettext_lazy("取得者"), max_length=200, help_text=gettext_lazy("実際に取得した人の氏名と所属。")
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        limit = settings.INCIDENTS_EVIDENCE_MAX_BYTES
        if upload is not None and upload.size > limit:
            raise forms.ValidationError(
                _("ファイルが大きすぎます（上限 %(limit)s MB）。ハッシュ値だけを登録してください。")
                % {"limit": limit // MEGABYTE}
            )
        return upload

    def clean_sha256(self) -> str:
        value = self.cleaned_data["sha256"].strip()
        if value and not SHA256_PATTERN.match(value):
            raise forms.ValidationError(_("SHA-256 は64桁の16進数（0-9, a-f）で入力してください。"))
        return value.lower()

    def clean(self):
        cleaned = super().clean()
        clean_when(self, "acquired_at", "acquired_precision")
        has_file = cleaned.get("file") is not None
        has_hash = bool(cleaned.get("sha256"))
        if "file" in self.errors or "sha256" in self.errors:
            return cleaned
        if has_file == has_hash:
            raise forms.ValidationError(_("ファイルを選ぶか、SHA-256 を入力してください（どちらか一方）。"))
        return cleaned


class CustodyForm(PanelForm):
    AUTO_ID = "custody-%s"

    action = forms.ChoiceField(label=gettext_lazy("内容"), choices=CustodyEntry.Action.choices)
    at = when_field(gettext_lazy("日時"), help_text=gettext_lazy("日本時間。空なら今の時刻です。"))
    from_holder = forms.CharField(label=gettext_lazy("渡した人"), required=False, max_length=200)
    to_holder = forms.CharField(label=gettext_lazy("受け取った人"), required=False, max_length=200)
    note = forms.CharField(label=gettext_lazy("メモ"), required=False, max_length=5000)


class EscalationForm(PanelForm):
    AUTO_ID = "escalation-%s"

    joint_organization = forms.ModelChoiceField(
        label=gettext_lazy("依頼先"),
        queryset=Organization.objects.filter(kind=Organization.Kind.JOINT),
        empty_label=gettext_lazy("選んでください"),
    )
    share_people = forms.BooleanField(
        label=gettext_lazy("職員の氏名（報告者・影響を受けた職員）も共有する"), required=False, initial=False
    )
    share_evidence = forms.BooleanField(
        label=gettext_lazy("証拠の一覧とハッシュ値を共有する"), required=False, initial=True
    )
    note = forms.CharField(
        label=gettext_lazy("依頼内容"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("例: マルウェアの解析支援、警察・NISCへの連絡調整"),
    )


class DutyContactForm(forms.Form):
    """An on-duty contact; ``actions.save_duty_contact`` stores it."""

    name = forms.CharField(label=gettext_lazy("名前"), max_length=100, help_text=gettext_lazy("例: 情報政策課 当番"))
    email = forms.EmailField(label=gettext_lazy("メールアドレス"), max_length=254)
    active = forms.BooleanField(label=gettext_lazy("有効"), required=False, initial=True)
    weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("曜日"),
        coerce=int,
        required=False,
        choices=[
            (1, gettext_lazy("月")),
            (2, gettext_lazy("火")),
            (3, gettext_lazy("水")),
            (4, gettext_lazy("木")),
            (5, gettext_lazy("金")),
            (6, gettext_lazy("土")),
            (7, gettext_lazy("日")),
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("選ばなければ毎日。"),
    )
    hours_start = forms.TimeField(
        label=gettext_lazy("開始時刻"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=gettext_lazy("日本時間。開始・終了とも空なら終日。夜間（22:00〜8:30）のように日をまたげます。"),
    )
    hours_end = forms.TimeField(
        label=gettext_lazy("終了時刻"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def __init__(self, *args, contact: DutyContact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if contact is not None:
            self.initial.update(
                {
                    "name": contact.name,
                    "email": contact.email,
                    "active": contact.active,
                    "weekdays": contact.weekdays,
                    "hours_start": contact.hours_start,
                    "hours_end": contact.hours_end,
                }
            )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("hours_start"), cleaned.get("hours_end")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("時間帯は開始と終了の両方を入力するか、両方とも空にしてください。"))
        if start is not None and start == end:
            raise forms.ValidationError(_("開始と終了に同じ時刻は指定できません。"))
        return cleaned


class SourceCaseForm(forms.Form):
    """Opening a case from a triage item or a 5W1H report: the action copies the times, the reporter and the
    source itself; the page asks only for what a triager decides."""

    title = forms.CharField(label=gettext_lazy("件名"), max_length=200, widget=forms.TextInput(attrs={"size": 60}))
    category = forms.ChoiceField(label=gettext_lazy("分類"), choices=Case.Category.choices)
    severity = forms.ChoiceField(
        label=gettext_lazy("深刻度"), choices=Case.Severity.choices, initial=Case.Severity.MEDIUM
    )
    assignee = AssigneeField(label=gettext_lazy("担当者"), queryset=User.objects.none(), required=False)
    tlp = forms.ChoiceField(
        label=gettext_lazy("共有の範囲（TLP）"), choices=Case.TLP.choices, initial=Case.TLP.AMBER_STRICT
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users(organization)


class CaseFilterForm(forms.Form):
    """The case list's filters (GET). Anything unexpected falls back to the default: open cases."""

    STATUS_CHOICES = [
        ("open", gettext_lazy("対応中（未完了）")),
        ("closed", gettext_lazy("完了")),
        ("all", gettext_lazy("すべて")),
    ]

    q = forms.CharField(label=gettext_lazy("キーワード"), required=False, max_length=200)
    status = forms.ChoiceField(label=gettext_lazy("完了・未完了"), choices=STATUS_CHOICES, required=False)
    state = forms.ChoiceField(
        label=gettext_lazy("状態"), choices=[("", gettext_lazy("すべて")), *Case.State.choices], required=False
    )
    category = forms.ChoiceField(
        label=gettext_lazy("分類"), choices=[("", gettext_lazy("すべて")), *Case.Category.choices], required=False
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("深刻度"), choices=[("", gettext_lazy("すべて")), *Case.Severity.choices], required=False
    )
    major = forms.BooleanField(label=gettext_lazy("重大インシデントのみ"), required=False)

    def filter(self, cases):
        """``cases`` narrowed by the valid filters (open cases when nothing is asked for)."""
        if not self.is_valid():
            return cases.exclude(state=Case.State.CLOSED)
        data = self.cleaned_data
        status = data.get("status") or ("all" if data.get("state") else "open")
        if status == "open":
            cases = cases.exclude(state=Case.State.CLOSED)
        elif status == "closed":
            cases = cases.filter(state=Case.State.CLOSED)
        for name in ("state", "category", "severity"):
            if data.get(name):
                cases = cases.filter(**{name: data[name]})
        if data.get("major"):
            cases = cases.filter(is_major=True)
        if data.get("q"):
            words = data["q"].split()
            for word in words[:5]:
                cases = cases.filter(
                    Q(title__icontains=word) | Q(reference__icontains=word) | Q(summary__icontains=word)
                )
        return cases
