"""Opening, editing and moving a case through its states; the playbook and legal-clock tasks follow its data."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.core.models import Department, Organization, Person
from mamori.drills.fiscal import fiscal_year_of
from mamori.incidents import legal_clock, major, playbooks, states
from mamori.incidents.actions.access import require_ward
from mamori.incidents.actions.common import (
    TEXT_MAX,
    TITLE_MAX,
    IncidentActionError,
    check_assignee,
    check_choice,
    check_not_future,
    check_own,
    clean_text,
    clean_title,
)
from mamori.incidents.models import JST, Case, Task, TimePrecision, Transition
from mamori.reporting.models import IncidentReport, Report, ReportCluster

# What ``update_case`` may change. ``detected_at`` is not here: the opening transition is dated at the
# detection time and transitions are append-only, so a corrected detection time goes into the timeline.
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "category",
        "severity",
        "summary",
        "occurred_at",
        "occurred_precision",
        "affected_systems",
        "personal_records_count",
        "personal_record_kinds",
        "unauthorised_purpose",
        "service_outage_started_at",
        "service_outage_ended_at",
        "reporter",
        "reporter_label",
        "assignee",
        "tlp",
    }
)
EDITABLE_RELATIONS = frozenset({"affected_departments", "affected_people"})


# Opening ------------------------------------------------------------------------------------------------------


@transaction.atomic
def open_case(
    organization: Organization,
    *,
    actor,
    title: str,
    category: str = Case.Category.OTHER,
    severity: str = Case.Severity.MEDIUM,
    summary: str = "",
    detected_at: datetime.datetime | None = None,
    detected_precision: str = TimePrecision.EXACT,
    occurred_at: datetime.datetime | None = None,
    occurred_precision: str = TimePrecision.UNKNOWN,
    reporter: Person | None = None,
    reporter_label: str = "",
    assignee=None,
    tlp: str = Case.TLP.AMBER_STRICT,
    affected_departments: Iterable[Department] = (),
    source_cluster: ReportCluster | None = None,
    source_report: Report | None = None,
    source_incident_report: IncidentReport | None = None,
    request=None,
) -> Case:
    """Open a case: the opening transition (dated at detection), the playbook tasks, the legal clock.

    1. Check the inputs (title, choices, people and sources of this organization).
    2. Create the case with the next reference number of the fiscal year (「2026-0001」).
    3. Record the opening transition (None → new) at the detection time: MTTA and MTTR start there.
    4. Add the category's playbook tasks and, for reportable personal data, the legal-clock tasks.
    """
    now = timezone.now()
    detected_at = detected_at or now
    title = clean_title(title)
    check_choice(category, Case.Category, _("分類"))
    check_choice(severity, Case.Severity, _("深刻度"))
    check_choice(tlp, Case.TLP, "TLP")
    check_choice(detected_precision, TimePrecision, _("検知日時の確かさ"))
    check_choice(occurred_precision, TimePrecision, _("発生日時の確かさ"))
    check_not_future(detected_at, now, _("検知日時"))
    if occurred_at is not None:
        check_not_future(occurred_at, now, _("発生日時"))
        if occurred_at > detected_at:
            raise IncidentActionError(_("発生日時が検知日時より後になっています。"))
    else:
        occurred_precision = TimePrecision.UNKNOWN
    check_own(organization, reporter, source_cluster, source_report, source_incident_report)
    check_assignee(organization, assignee)
    departments = list(affected_departments)
    check_own(organization, *departments)

    case = _create_with_reference(
        organization,
        title=title,
        category=category,
        severity=severity,
        summary=clean_text(summary),
        detected_at=detected_at,
        detected_precision=detected_precision,
        occurred_at=occurred_at,
        occurred_precision=occurred_precision,
        reporter=reporter,
        reporter_label=reporter_label.strip()[:200],
        assignee=assignee,
        tlp=tlp,
        source_cluster=source_cluster,
        source_report=source_report,
        source_incident_report=source_incident_report,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    if departments:
        case.affected_departments.set(departments)
    Transition.objects.create(
        case=case, from_state="", to_state=Case.State.NEW, at=detected_at, actor=actor, actor_organization=organization
    )
    _apply_playbook(case, organization, actor)
    _refresh_legal_tasks(case, organization, actor, now)
    record(
        "incident.opened",
        organization=organization,
        actor=actor,
        request=request,
        target=case,
        case=str(case.public_id),
        source=_source_label(case),
    )
    return case


def open_case_from_cluster(cluster: ReportCluster, *, actor, request=None, **overrides) -> Case:
    """Open a case from a triage item: its subject, the first report's reporter, times and the mail itself.

    The case belongs to the cluster's organization: the caller fetched the cluster through the scoping
    helpers (``get_for_organization``), as for the report and the 5W1H report below.
    """
    first_report = cluster.reports.order_by("received_at", "id").first()
    fields = {
        "title": cluster.subject or _("不審メール（%(count)s件の報告）") % {"count": cluster.report_count},
        "category": Case.Category.TARGETED_MAIL,
        "detected_at": cluster.first_reported_at,
        "source_cluster": cluster,
    }
    if first_report is not None:
        fields.update(_fields_from_report(first_report))
        fields["detected_at"] = min(cluster.first_reported_at, first_report.received_at)
    fields.update(overrides)
    return open_case(cluster.organization, actor=actor, request=request, **fields)


def open_case_from_report(report: Report, *, actor, request=None, **overrides) -> Case:
    """Open a case from one reported mail: detected when it was reported, occurred when it was sent."""
    fields = {
        "title": report.subject or report.envelope_subject or _("不審メールの報告"),
        "category": Case.Category.TARGETED_MAIL,
        "source_cluster": report.cluster,
        **_fields_from_report(report),
    }
    fields.update(overrides)
    return open_case(report.organization, actor=actor, request=request, **fields)


def open_case_from_incident_report(incident_report: IncidentReport, *, actor, request=None, **overrides) -> Case:
    """Open a case from a 5W1H report: its time and precision, reporter, department and the 5W1H as summary."""
    what = incident_report.what.strip().splitlines()
    fields = {
        "title": (what[0][:TITLE_MAX] if what else "") or _("5W1H報告（%(where)s）") % {"where": incident_report.where},
        "summary": _incident_report_summary(incident_report),
        "detected_at": incident_report.submitted_at,
        "occurred_at": incident_report.occurred_at,
        "occurred_precision": incident_report.occurred_precision
        if incident_report.occurred_at
        else TimePrecision.UNKNOWN,
        "reporter": incident_report.reporter,
        "reporter_label": "" if incident_report.reporter else incident_report.reporter_email,
        "affected_departments": [incident_report.department] if incident_report.department else [],
        "source_incident_report": incident_report,
        "source_report": incident_report.suspicious_mail,
    }
    if incident_report.occurred_at and incident_report.occurred_at > incident_report.submitted_at:
        fields["occurred_at"], fields["occurred_precision"] = None, TimePrecision.UNKNOWN
    fields.update(overrides)
    return open_case(incident_report.organization, actor=actor, request=request, **fields)


def _fields_from_report(report: Report) -> dict:
    sent_date = report.sent_date if report.sent_date and report.sent_date <= report.received_at else None
    return {
        "detected_at": report.received_at,
        "occurred_at": sent_date,
        "occurred_precision": TimePrecision.EXACT if sent_date else TimePrecision.UNKNOWN,
        "reporter": report.reporter,
        "reporter_label": "" if report.reporter else report.reporter_email,
        "source_report": report,
    }


def _incident_report_summary(incident_report: IncidentReport) -> str:
    actions_so_far = incident_report.action_labels()
    parts = [
        (_("どこで"), incident_report.where),
        (_("誰が"), incident_report.who),
        (_("何を"), incident_report.what),
        (_("どうなった"), incident_report.outcome),
        (_("これまでにしたこと"), "、".join(filter(None, [*actions_so_far, incident_report.actions_note.strip()]))),
    ]
    return "\n".join(f"{label}：{value.strip()}" for label, value in parts if value and value.strip())


def _source_label(case: Case) -> str:
    if case.source_incident_report_id:
        return "incident_report"
    if case.source_cluster_id:
        return "cluster"
    if case.source_report_id:
        return "report"
    return "hand"


def _create_with_reference(organization: Organization, **fields) -> Case:
    """Create the case with the next free 「年度-連番」 reference; a concurrent opening retries."""
    prefix = f"{fiscal_year_of(timezone.localtime(fields['created_at'], JST).date())}-"
    for _attempt in range(5):
        highest = Case.objects.filter(organization=organization, reference__startswith=prefix).aggregate(
            highest=Max("reference")
        )["highest"]
        number = int(highest.removeprefix(prefix)) + 1 if highest else 1
        try:
            with transaction.atomic():
                return Case.objects.create(organization=organization, reference=f"{prefix}{number:04d}", **fields)
        except IntegrityError:
            continue
    raise IncidentActionError(_("事案番号を決められませんでした。もう一度お試しください。"))


# Editing ------------------------------------------------------------------------------------------------------


@transaction.atomic
def update_case(case: Case, *, actor, organization: Organization, request=None, **changes) -> Case:
    """Change the case's fields (``EDITABLE_FIELDS``, ``affected_departments``, ``affected_people``).

    Recomputes the major flag, adds the playbook steps of a new category and refreshes the legal clock.
    Only the ward may edit. The audit entry names the changed fields, not their values (personal data).
    """
    require_ward(case, organization)
    unknown = set(changes) - EDITABLE_FIELDS - EDITABLE_RELATIONS
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    now = timezone.now()
    changed = []
    for name, value in changes.items():
        if name in EDITABLE_RELATIONS:
            continue
        value = _clean_field(case, name, value, now)
        if getattr(case, name) != value:
            setattr(case, name, value)
            changed.append(name)
    _check_case_consistency(case)
    for name in EDITABLE_RELATIONS & set(changes):
        items = list(changes[name])
        check_own(organization, *items)
        if set(getattr(case, name).all()) != set(items):
            getattr(case, name).set(items)
            changed.append(name)
    if not changed:
        return case
    case.is_major = major.is_major(
        case.personal_records_count, case.service_outage_started_at, case.service_outage_ended_at, now
    )
    case.updated_at = now
    case.save()
    if "category" in changed:
        _apply_playbook(case, organization, actor)
    _refresh_legal_tasks(case, organization, actor, now)
    record(
        "incident.updated",
        organization=organization,
        actor=actor,
        request=request,
        target=case,
        case=str(case.public_id),
        fields=sorted(changed),
    )
    return case


def _clean_field(case: Case, name: str, value, now: datetime.datetime):
    """Check one edited value; return it normalised."""
    if name == "title":
        return clean_title(value)
    if name in {"summary", "reporter_label"}:
        return clean_text(value or "")[: 200 if name == "reporter_label" else TEXT_MAX]
    if name in {"category", "severity", "tlp", "occurred_precision"}:
        choices = {
            "category": Case.Category,
            "severity": Case.Severity,
            "tlp": Case.TLP,
            "occurred_precision": TimePrecision,
        }
        check_choice(value, choices[name], str(Case._meta.get_field(name).verbose_name))
        return value
    if name == "personal_records_count":
        if value is None or int(value) < 0:
            raise IncidentActionError(_("個人情報の件数は0以上の数で入力してください。"))
        return int(value)
    if name == "personal_record_kinds":
        kinds = list(dict.fromkeys(value or []))
        if not set(kinds) <= set(Case.PersonalRecordKind.values):
            raise IncidentActionError(_("個人情報の種類に選べない値が含まれています。"))
        return kinds
    if name == "affected_systems":
        systems = [str(item).strip()[:200] for item in (value or []) if str(item).strip()]
        if len(systems) > 100:
            raise IncidentActionError(_("影響を受けたシステムは100件までにしてください。"))
        return list(dict.fromkeys(systems))
    if name in {"occurred_at", "service_outage_started_at", "service_outage_ended_at"} and value is not None:
        check_not_future(value, now, str(Case._meta.get_field(name).verbose_name))
        return value
    if name == "reporter" and value is not None:
        check_own(case.organization, value)
    if name == "assignee":
        check_assignee(case.organization, value)
    if name == "unauthorised_purpose":
        return bool(value)
    return value


def _check_case_consistency(case: Case) -> None:
    if case.occurred_at is None:
        case.occurred_precision = TimePrecision.UNKNOWN
    elif case.occurred_at > case.detected_at:
        raise IncidentActionError(_("発生日時が検知日時より後になっています。"))
    started, ended = case.service_outage_started_at, case.service_outage_ended_at
    if ended is not None and started is None:
        raise IncidentActionError(_("サービス停止の終了を入れるときは開始も入力してください。"))
    if started is not None and ended is not None and ended < started:
        raise IncidentActionError(_("サービス停止の終了が開始より前になっています。"))


# State --------------------------------------------------------------------------------------------------------


def allowed_transitions(case: Case) -> tuple[str, ...]:
    """The states the case may move to next (for the page's buttons)."""
    return states.allowed_next_states(case.state)


@transaction.atomic
def transition(
    case: Case,
    to_state: str,
    *,
    actor,
    organization: Organization,
    note: str = "",
    resolution: str = "",
    resolution_note: str = "",
    request=None,
) -> Transition:
    """Move the case to ``to_state`` along the table in ``states``; closing needs a resolution.

    The case row is locked first, so two people pressing buttons at once cannot both move it from the same
    state. Only the ward may change the state (a joint body helps, it does not decide).
    """
    require_ward(case, organization)
    locked = Case.objects.select_for_update().get(pk=case.pk)
    from_state = locked.state
    state_labels = dict(Case.State.choices)
    if to_state not in state_labels:
        raise IncidentActionError(_("選べない状態です。"))
    if not states.is_allowed(from_state, to_state):
        raise IncidentActionError(
            _("「%(from)s」から「%(to)s」へは変更できません。")
            % {"from": state_labels[from_state], "to": state_labels[to_state]}
        )
    if to_state == Case.State.CLOSED:
        _check_resolution(from_state, resolution)
    elif resolution:
        raise IncidentActionError(_("完了の理由は完了にするときだけ選べます。"))
    now = timezone.now()
    entry = Transition.objects.create(
        case=locked,
        from_state=from_state,
        to_state=to_state,
        resolution=resolution if to_state == Case.State.CLOSED else "",
        at=now,
        actor=actor,
        actor_organization=organization,
        note=clean_text(note),
    )
    locked.state = to_state
    if to_state == Case.State.CLOSED:
        locked.resolution = resolution
        locked.resolution_note = clean_text(resolution_note)
        locked.closed_at = now
    elif states.is_reopen(from_state, to_state):
        locked.resolution = ""
        locked.resolution_note = ""
        locked.closed_at = None
    locked.is_major = major.is_major(
        locked.personal_records_count, locked.service_outage_started_at, locked.service_outage_ended_at, now
    )
    locked.updated_at = now
    locked.save(update_fields=["state", "resolution", "resolution_note", "closed_at", "is_major", "updated_at"])
    for name in ("state", "resolution", "resolution_note", "closed_at", "is_major", "updated_at"):
        setattr(case, name, getattr(locked, name))
    record(
        "incident.reopened" if states.is_reopen(from_state, to_state) else "incident.transition",
        organization=organization,
        actor=actor,
        request=request,
        target=case,
        case=str(case.public_id),
        from_state=from_state,
        to_state=to_state,
        resolution=entry.resolution,
    )
    return entry


def _check_resolution(from_state: str, resolution: str) -> None:
    if not resolution:
        raise IncidentActionError(_("完了にするには完了の理由を選んでください。"))
    if resolution not in Case.Resolution.values:
        raise IncidentActionError(_("選べない完了の理由です。"))
    if resolution not in states.resolutions_for_closing(from_state):
        allowed = "・".join(str(Case.Resolution(value).label) for value in states.resolutions_for_closing(from_state))
        raise IncidentActionError(
            _("この段階から完了にできるのは「%(allowed)s」のときだけです。") % {"allowed": allowed}
        )


def _apply_playbook(case: Case, organization: Organization, actor) -> list[Task]:
    """Add the category's playbook steps the case does not have yet, after its existing tasks."""
    present = set(case.tasks.exclude(template_key="").values_list("template_key", flat=True))
    steps = playbooks.missing_steps(case.category, present)
    position = case.tasks.aggregate(last=Max("position"))["last"] or 0
    tasks = [
        Task(
            case=case,
            title=str(step.title),
            detail=str(step.detail),
            kind=Task.Kind.PLAYBOOK,
            template_key=step.key,
            position=position + index,
            created_by=actor,
            created_by_organization=organization,
        )
        for index, step in enumerate(steps, start=1)
    ]
    return Task.objects.bulk_create(tasks)


def _refresh_legal_tasks(case: Case, organization: Organization, actor, now: datetime.datetime) -> None:
    """Create, re-date, cancel or revive the 速報/確報 tasks from the case's current data (legal_clock).

    A done task is left alone; an open one no longer needed is marked cancelled rather than deleted.
    """
    due = legal_clock.case_deadlines(case)
    wanted = {}
    if due is not None:
        reasons = "、".join(
            f"{legal_clock.REASON_LABELS[reason]}（{legal_clock.REASON_SOURCES[reason]}）" for reason in due.reasons
        )
        wanted = {
            Task.Kind.LEGAL_PPC_PRELIMINARY: (
                due.preliminary_due,
                _(
                    "報告が必要な理由：%(reasons)s。事態を知った日（検知日）を1日目として%(days)s日目までを目安に"
                    "速報します（規則第44条第1項「速やかに」。ガイドラインの目安はおおむね3〜5日）。"
                )
                % {"reasons": reasons, "days": settings.INCIDENTS_PPC_PRELIMINARY_DAYS},
            ),
            Task.Kind.LEGAL_PPC_FINAL: (
                due.final_due,
                _(
                    "報告が必要な理由：%(reasons)s。事態を知った日（検知日）を1日目として%(days)s日以内に確報を"
                    "提出します（規則第44条第2項）。末日が土日・祝日・年末年始のときは翌開庁日が期限です。"
                )
                % {
                    "reasons": reasons,
                    "days": legal_clock.FINAL_REPORT_DAYS_UNAUTHORISED_PURPOSE
                    if case.unauthorised_purpose
                    else legal_clock.FINAL_REPORT_DAYS,
                },
            ),
        }
    existing = {task.kind: task for task in case.tasks.filter(kind__in=Task.LEGAL_KINDS)}
    for kind in (Task.Kind.LEGAL_PPC_PRELIMINARY, Task.Kind.LEGAL_PPC_FINAL):
        task = existing.get(kind)
        if kind in wanted:
            due_at, detail = wanted[kind]
            if task is None:
                Task.objects.create(
                    case=case,
                    title=str(Task.Kind(kind).label),
                    detail=detail,
                    kind=kind,
                    position=0,
                    due_at=due_at,
                    created_by=actor,
                    created_by_organization=organization,
                )
            elif task.done_at is None and (task.due_at, task.detail, task.cancelled_at) != (due_at, detail, None):
                task.due_at, task.detail, task.cancelled_at = due_at, detail, None
                task.save(update_fields=["due_at", "detail", "cancelled_at"])
        elif task is not None and task.is_open:
            task.cancelled_at = now
            task.save(update_fields=["cancelled_at"])


# Background ---------------------------------------------------------------------------------------------------


def flag_long_outages() -> bool:
    """Worker handler: flag as major the open cases whose ongoing service stop has now lasted long enough.

    Edits recompute the flag, but an outage crosses the threshold without anyone touching the case.
    """
    threshold = timezone.now() - datetime.timedelta(hours=settings.INCIDENTS_MAJOR_OUTAGE_HOURS)
    due = list(
        Case.objects.filter(
            is_major=False,
            service_outage_started_at__lte=threshold,
            service_outage_ended_at__isnull=True,
        )
        .exclude(state=Case.State.CLOSED)
        .values_list("pk", "organization_id", "public_id")[:500]
    )
    if not due:
        return False
    Case.objects.filter(pk__in=[pk for pk, _org, _public in due]).update(is_major=True)
    for _pk, organization_id, public_id in due:
        record("incident.major_flagged", organization=Organization(pk=organization_id), case=str(public_id))
    return True
