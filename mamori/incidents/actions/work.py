"""The timeline and the tasks: the ward's, and the joint body's through its grant."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.core.models import Organization
from mamori.incidents import notifications
from mamori.incidents.actions.access import JOINT, acting_side, require_ward
from mamori.incidents.actions.common import (
    IncidentActionError,
    check_assignee,
    check_choice,
    check_not_future,
    clean_text,
    clean_title,
    notify_on_commit,
)
from mamori.incidents.models import Case, Task, TimelineEntry, TimePrecision


@transaction.atomic
def add_timeline_entry(
    case: Case,
    *,
    actor,
    organization: Organization,
    text: str,
    at: datetime.datetime | None = None,
    at_precision: str = TimePrecision.EXACT,
    kind: str = TimelineEntry.Kind.OBSERVATION,
    corrects: TimelineEntry | None = None,
    request=None,
) -> TimelineEntry:
    """Add an entry to the timeline (the ward, or a joint body through its grant). Entries are never edited:
    a correction is a new entry pointing at the one it corrects."""
    side = acting_side(case, organization)
    now = timezone.now()
    text = clean_text(text)
    if not text:
        raise IncidentActionError(_("内容を入力してください。"))
    check_choice(kind, TimelineEntry.Kind, _("種類"))
    check_choice(at_precision, TimePrecision, _("日時の確かさ"))
    at = at or now
    check_not_future(at, now, _("日時"))
    if corrects is not None and corrects.case_id != case.pk:
        raise IncidentActionError(_("訂正する記録がこの事案のものではありません。"))
    if corrects is not None:
        kind = TimelineEntry.Kind.CORRECTION
    entry = TimelineEntry.objects.create(
        case=case,
        at=at,
        at_precision=at_precision,
        kind=kind,
        text=text,
        corrects=corrects,
        author=actor,
        author_organization=organization,
        created_at=now,
    )
    record(
        "incident.timeline_added",
        organization=organization,
        actor=actor,
        request=request,
        target=case,
        case=str(case.public_id),
        entry=str(entry.public_id),
        side=side,
    )
    if side == JOINT:
        notify_on_commit(notifications.send_joint_activity_notice, case, organization, entry)
    return entry


@transaction.atomic
def add_task(
    case: Case,
    *,
    actor,
    organization: Organization,
    title: str,
    detail: str = "",
    due_at: datetime.datetime | None = None,
    assignee=None,
    request=None,
) -> Task:
    """Add a task by hand (the ward, or a joint body through its grant; the task says which)."""
    side = acting_side(case, organization)
    check_assignee(organization, assignee)
    position = (case.tasks.aggregate(last=Max("position"))["last"] or 0) + 1
    task = Task.objects.create(
        case=case,
        title=clean_title(title, label=_("作業")),
        detail=clean_text(detail),
        kind=Task.Kind.CUSTOM,
        position=position,
        due_at=due_at,
        assignee=assignee,
        created_by=actor,
        created_by_organization=organization,
    )
    record(
        "incident.task_added",
        organization=organization,
        actor=actor,
        request=request,
        target=case,
        case=str(case.public_id),
        task=str(task.public_id),
        side=side,
    )
    if side == JOINT:
        notify_on_commit(notifications.send_joint_activity_notice, case, organization, task)
    return task


@transaction.atomic
def complete_task(task: Task, *, actor, organization: Organization, request=None) -> Task:
    """Mark a task done. A joint body may complete only the tasks it added itself."""
    side = acting_side(task.case, organization)
    if side == JOINT and task.created_by_organization_id != organization.pk:
        raise PermissionDenied("a joint body completes only its own tasks")
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.done_at is not None:
        raise IncidentActionError(_("この作業はすでに完了しています。"))
    if locked.cancelled_at is not None:
        raise IncidentActionError(_("この作業は不要になっています。"))
    task.done_at = timezone.now()
    task.done_by = actor
    task.save(update_fields=["done_at", "done_by"])
    record(
        "incident.task_completed",
        organization=organization,
        actor=actor,
        request=request,
        target=task.case,
        case=str(task.case.public_id),
        task=str(task.public_id),
        side=side,
    )
    return task


@transaction.atomic
def reopen_task(task: Task, *, actor, organization: Organization, request=None) -> Task:
    """Undo a task's completion (marked done by mistake). Only the ward."""
    require_ward(task.case, organization)
    if task.done_at is None:
        raise IncidentActionError(_("この作業はまだ完了していません。"))
    task.done_at = None
    task.done_by = None
    task.save(update_fields=["done_at", "done_by"])
    record(
        "incident.task_reopened",
        organization=organization,
        actor=actor,
        request=request,
        target=task.case,
        case=str(task.case.public_id),
        task=str(task.public_id),
    )
    return task
