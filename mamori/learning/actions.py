"""Every change the learning app makes: credential submits, reaching the moment, the quiz, the settings.

Views, tests and later the API call these; none of them writes a drill Event itself except through the
tracking app's ``record_hit``.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.drills.models import Event
from mamori.drills.tracking.hits import Hit, record_hit
from mamori.learning import quiz
from mamori.learning.models import Assignment, Completion, LandingPage, Module

# A gap between two activities on the moment page longer than this means the person went away: a view
# after it counts nothing for the gap, and a quiz answered after it counts this much for it.
MAX_READING_GAP = datetime.timedelta(minutes=15)
MOMENT_MINUTES = 1


def record_credential_submit(
    token: str, filled_fields: list[str], *, user_agent: str, client_address: str
) -> Hit | None:
    """Record a submit of the fake login form: which fields were filled, never what was typed."""
    return record_hit(
        token,
        Event.Kind.SUBMIT,
        source="form",
        user_agent=user_agent,
        client_address=client_address,
        filled_fields=filled_fields,
    )


def moment_module(delivery) -> Module:
    """The teachable moment module of the delivery's scenario in its organization, made on first use."""
    module, _created = Module.objects.get_or_create(
        organization_id=delivery.organization_id,
        kind=Module.Kind.TEACHABLE_MOMENT,
        scenario_id=delivery.scenario_id,
        defaults={
            "title": _("訓練であることのお知らせ（%(scenario)s）") % {"scenario": delivery.scenario.name},
            "estimated_minutes": MOMENT_MINUTES,
        },
    )
    return module


def locked_completion(delivery, now: datetime.datetime) -> tuple[Completion, bool]:
    """The delivery's assignment and completion, made when the person first reaches the moment.

    The completion row is locked (PostgreSQL) until the transaction ends, so two tabs answering at once
    cannot both count as the first answer. Call inside ``transaction.atomic``.
    """
    assignment, _created = Assignment.objects.get_or_create(
        delivery=delivery,
        defaults={
            "organization_id": delivery.organization_id,
            "module": moment_module(delivery),
            "person_id": delivery.person_id,
            "assigned_at": now,
        },
    )
    return Completion.objects.select_for_update().get_or_create(
        assignment=assignment,
        defaults={"organization_id": delivery.organization_id, "started_at": now, "last_activity_at": now},
    )


def note_activity(completion: Completion, now: datetime.datetime, *, answered: bool) -> None:
    """Add the time since the person's last activity on the page to ``seconds_spent``.

    1. A view after a short gap (a reload, coming back from the report page) adds the gap.
    2. A view after a gap over ``MAX_READING_GAP`` adds nothing: the person left, and how long the earlier
       visit lasted is unknown.
    3. A quiz answer adds the gap, at most ``MAX_READING_GAP``: the page was open until the answer came,
       but a tab left open over lunch is not reading time.
    """
    gap = max(now - completion.last_activity_at, datetime.timedelta(0))
    if gap > MAX_READING_GAP:
        gap = MAX_READING_GAP if answered else datetime.timedelta(0)
    completion.seconds_spent += int(gap.total_seconds())
    completion.last_activity_at = now


@transaction.atomic
def reach_moment(delivery, *, now: datetime.datetime | None = None) -> Completion:
    """The person is on the teachable moment: assign its module on the first visit, count later ones."""
    now = now or timezone.now()
    completion, created = locked_completion(delivery, now)
    if not created:
        note_activity(completion, now, answered=False)
        completion.visits += 1
        completion.save(update_fields=["seconds_spent", "last_activity_at", "visits"])
    return completion


@transaction.atomic
def answer_quiz(delivery, questions: list[quiz.Question], answers: dict[str, str], *, now=None) -> Completion:
    """Grade the quiz; the first answers complete the assignment, later ones only add reading time."""
    now = now or timezone.now()
    completion, _created = locked_completion(delivery, now)
    note_activity(completion, now, answered=True)
    if completion.completed_at is None:
        completion.completed_at = now
        completion.quiz_score = quiz.score(quiz.grade(questions, answers))
        completion.quiz_questions = len(questions)
        completion.answers = answers
    completion.save()
    return completion


def save_landing_page(form, *, by, request=None) -> LandingPage:
    """Save the look of a scenario's fake login page (a bound ``LandingPageForm``)."""
    landing_page = form.save(commit=False)
    landing_page.updated_at = timezone.now()
    landing_page.save()
    record(
        "learning.landing_page_saved",
        organization=landing_page.organization,
        actor=by,
        request=request,
        target=landing_page.scenario,
        fields=sorted(form.changed_data),
    )
    return landing_page


def reset_landing_page(scenario, *, by, request=None) -> None:
    """Back to the default look: the scenario's own look is deleted."""
    deleted, _rows = LandingPage.objects.filter(scenario=scenario).delete()
    if deleted:
        record(
            "learning.landing_page_reset",
            organization=scenario.organization,
            actor=by,
            request=request,
            target=scenario,
        )


def save_first_response(form, *, by, request=None):
    """Save the organization's report contact and first-response rules (a bound ``FirstResponseForm``)."""
    organization = form.save()
    record(
        "organization.first_response_changed",
        organization=organization,
        actor=by,
        request=request,
        target=organization,
        fields=sorted(form.changed_data),
    )
    return organization


def copy_landing_page(source, target) -> LandingPage | None:
    """Give the copy of a scenario the same fake login page look as its source (if it had one)."""
    original = LandingPage.objects.filter(scenario=source).first()
    if original is None:
        return None
    editable = [
        f.name
        for f in LandingPage._meta.concrete_fields
        if f.name not in {"id", "public_id", "scenario", "organization"}
    ]
    return LandingPage.objects.create(
        organization=target.organization, scenario=target, **{name: getattr(original, name) for name in editable}
    )
