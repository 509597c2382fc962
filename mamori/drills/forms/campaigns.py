"""The campaign form: round, scenarios, audience, window and sending profile of a draft 訓練実施回."""

import re

from django import forms
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mamori.core.models import Department, Person
from mamori.drills.audience import address_in_domains
from mamori.drills.fiscal import (
    current_fiscal_year,
    fiscal_year_first_day,
    fiscal_year_label,
    fiscal_year_last_day,
    next_round_number,
    today_in_japan,
)
from mamori.drills.models import Campaign, Scenario, SendingProfile
from mamori.drills.schedule import SendingWindow

# One person a line: an employee number or an address first, anything after it (a name) is ignored,
# so a column pasted from Excel or the form's own listing reads back unchanged.
PERSON_LINE_SEPARATORS = re.compile(r"[\s,，\t]+")
MAX_NAMED_IN_ERROR = 10


def usable_scenarios(organization):
    """A campaign may use the organization's own scenarios and the built-in library, not archived ones."""
    return Scenario.objects.filter(
        Q(organization=organization) | Q(organization__isnull=True), archived=False
    ).order_by("organization", "name")


class ScenarioChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, scenario: Scenario) -> str:
        origin = _("ライブラリ") if scenario.is_library else _("自組織")
        return f"{scenario.name}（{scenario.get_lure_type_display()}・{origin}）"


def _named(identifiers: list[str]) -> str:
    shown = "、".join(identifiers[:MAX_NAMED_IN_ERROR])
    rest = len(identifiers) - MAX_NAMED_IN_ERROR
    return shown + (_(" ほか %(count)s 件") % {"count": rest} if rest > 0 else "")


def person_line(person: Person) -> str:
    return f"{person.employee_number} {person.name}"


class CampaignForm(forms.ModelForm):
    scenarios = ScenarioChoiceField(
        queryset=Scenario.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("シナリオ"),
        help_text=gettext_lazy("複数選ぶと、対象者ごとにいずれか1つが割り当てられます。"),
    )
    audience_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=gettext_lazy("所属（配下の所属を含む）"),
        help_text=gettext_lazy("選ばない場合は全庁が対象です。"),
    )
    audience_positions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=gettext_lazy("役職"),
        help_text=gettext_lazy("選んだ役職の職員だけに絞り込みます。"),
    )
    audience_employment_types = forms.MultipleChoiceField(
        choices=Person.EmploymentType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=gettext_lazy("雇用区分"),
        help_text=gettext_lazy("選ばない場合は会計年度任用職員・派遣職員などを含むすべての区分が対象です。"),
    )
    include_list = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=gettext_lazy("個別に追加する職員"),
        help_text=gettext_lazy("職員番号またはメールアドレスを1行に1人。条件に当てはまらない職員を追加できます。"),
    )
    exclude_list = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=gettext_lazy("対象から除く職員"),
        help_text=gettext_lazy("職員番号またはメールアドレスを1行に1人。休職中の職員などを除きます。"),
    )

    class Meta:
        model = Campaign
        fields = [
            "fiscal_year",
            "round_number",
            "title",
            "scenarios",
            "assignment",
            "audience_departments",
            "audience_positions",
            "audience_employment_types",
            "starts_on",
            "ends_on",
            "business_hours_start",
            "business_hours_end",
            "sending_profile",
        ]
        widgets = {
            "assignment": forms.RadioSelect,
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "business_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "business_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "title": gettext_lazy("任意。例: 「請求書を装うメール」。回の名前（2026年度 第2回）に続けて表示されます。"),
            "business_hours_start": gettext_lazy("土日・祝日・年末年始（12月29日〜1月3日）は送信しません。"),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.instance.organization = organization
        self.fields["scenarios"].queryset = usable_scenarios(organization)
        self.fields["audience_departments"].queryset = Department.objects.filter(organization=organization, active=True)
        self.fields["audience_positions"].choices = [(p, p) for p in self._positions()]
        self.fields["sending_profile"].queryset = SendingProfile.objects.filter(organization=organization)
        self.fields["sending_profile"].empty_label = None
        if self.instance.pk is None:
            year = current_fiscal_year()
            self.initial.setdefault("fiscal_year", year)
            self.initial.setdefault("round_number", next_round_number(organization, year))
        else:
            self.initial["include_list"] = "\n".join(map(person_line, self.instance.included_people.all()))
            self.initial["exclude_list"] = "\n".join(map(person_line, self.instance.excluded_people.all()))

    def _positions(self) -> list[str]:
        """Positions of the roster's active staff, and any the draft already names (even if gone since)."""
        roster = Person.objects.filter(organization=self.organization, active=True).exclude(position="")
        positions = set(roster.values_list("position", flat=True).distinct())
        positions.update(self.instance.audience_positions or [])
        return sorted(positions)

    def _people_from_lines(self, text: str, *, check_reachable: bool) -> list[Person]:
        """Resolve the lines to the organization's staff in one query; unknown lines are an error."""
        identifiers = [PERSON_LINE_SEPARATORS.split(line.strip())[0] for line in text.splitlines() if line.strip()]
        if not identifiers:
            return []
        emails = {identifier.lower() for identifier in identifiers if "@" in identifier}
        numbers = {identifier for identifier in identifiers if "@" not in identifier}
        people = list(
            Person.objects.filter(organization=self.organization)
            .annotate(email_lower=Lower("email"))
            .filter(Q(employee_number__in=numbers) | Q(email_lower__in=emails))
        )
        found = {person.employee_number for person in people} | {person.email_lower for person in people}
        unknown = [i for i in identifiers if i not in found and i.lower() not in found]
        if unknown:
            raise forms.ValidationError(_("名簿に見つかりません: %(names)s") % {"names": _named(unknown)})
        if check_reachable:
            domains = self.organization.verified_domain_names()
            unreachable = [
                person_line(person)
                for person in people
                if not (person.active and address_in_domains(person.email, domains))
            ]
            if unreachable:
                raise forms.ValidationError(
                    _("在籍していないか、確認済みドメイン以外のアドレスの職員には送れません: %(names)s")
                    % {"names": _named(unreachable)}
                )
        return people

    def clean_include_list(self) -> list[Person]:
        return self._people_from_lines(self.cleaned_data["include_list"], check_reachable=True)

    def clean_exclude_list(self) -> list[Person]:
        return self._people_from_lines(self.cleaned_data["exclude_list"], check_reachable=False)

    def clean(self):
        cleaned = super().clean()
        self._check_round(cleaned)
        self._check_window(cleaned)
        both = {p.pk for p in cleaned.get("include_list") or []} & {p.pk for p in cleaned.get("exclude_list") or []}
        if both:
            self.add_error("exclude_list", _("追加と除外の両方に同じ職員が指定されています。"))
        return cleaned

    def _check_round(self, cleaned) -> None:
        year, number = cleaned.get("fiscal_year"), cleaned.get("round_number")
        if year is None or number is None:
            return
        if year > current_fiscal_year() + 1:
            self.add_error("fiscal_year", _("年度は今年度か来年度にしてください。"))
            return
        if number < 1:
            self.add_error("round_number", _("回は1以上にしてください。"))
            return
        taken = Campaign.objects.filter(organization=self.organization, fiscal_year=year, round_number=number)
        if taken.exclude(pk=self.instance.pk).exists():
            self.add_error(
                "round_number",
                _("%(year)s 第%(round)s回はすでにあります。別の回にしてください。")
                % {"year": fiscal_year_label(year), "round": number},
            )

    def _check_window(self, cleaned) -> None:
        names = ("starts_on", "ends_on", "business_hours_start", "business_hours_end")
        if any(cleaned.get(name) is None for name in names):
            return
        # Read before any add_error(), which drops the field from cleaned_data.
        window = SendingWindow(*(cleaned[name] for name in names))
        for problem in window.errors():
            self.add_error(None, problem)
        year = cleaned.get("fiscal_year")
        if year is not None:
            first, last = fiscal_year_first_day(year), fiscal_year_last_day(year)
            for name, day in (("starts_on", window.starts_on), ("ends_on", window.ends_on)):
                if not first <= day <= last:
                    self.add_error(
                        name,
                        _("%(year)s（%(first)s〜%(last)s）の日付にしてください。")
                        % {
                            "year": fiscal_year_label(year),
                            "first": f"{first:%Y/%m/%d}",
                            "last": f"{last:%Y/%m/%d}",
                        },
                    )
        if window.ends_on < today_in_japan():
            self.add_error("ends_on", _("終了日が過ぎています。今日以降の日付にしてください。"))

    def save(self, commit: bool = True) -> Campaign:
        campaign = super().save(commit=commit)
        if commit:
            campaign.included_people.set(self.cleaned_data["include_list"])
            campaign.excluded_people.set(self.cleaned_data["exclude_list"])
        return campaign
