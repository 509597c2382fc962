"""Every state change of a campaign (訓練実施回): saving the draft, launch, pause, resume, cancel, close.

States: draft → scheduled → sending → running → closed, and cancelled. The sender moves a campaign from
scheduled to sending and running as its mail goes out; the functions here do the rest. Each one locks the
campaign row, checks the transition, and changes nothing when it raises ``CampaignError``.
"""

import datetime
import itertools
import operator
import random
from collections.abc import Iterable

from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.drills.audience import (
    address_in_domains,
    assign_scenarios,
    criteria_of,
    explicit_outsiders,
    select_audience,
)
from mamori.drills.models import Campaign, Delivery, Scenario
from mamori.drills.schedule import JST, SendingWindow, spread_send_times

State = Campaign.State
PAUSABLE_STATES = frozenset({State.SCHEDULED, State.SENDING})
CANCELLABLE_STATES = frozenset({State.DRAFT, State.SCHEDULED, State.SENDING})
CLOSABLE_STATES = frozenset({State.RUNNING})
DELIVERY_BATCH_SIZE = 2000
# After a pause that outlasted the window, the rest goes out on the next business day found this far ahead.
NEXT_BUSINESS_DAY_HORIZON = datetime.timedelta(days=14)


def _random(seed: int | None) -> random.Random:
    # Send times and scenario choice are not secrets (a recipient sees them anyway); seeded in tests.
    return random.Random(seed)  # noqa: S311


class CampaignError(Exception):
    """A campaign action that cannot be done; the message (Japanese) is shown to the admin as it is."""


def window_of(campaign: Campaign) -> SendingWindow:
    return SendingWindow(
        campaign.starts_on, campaign.ends_on, campaign.business_hours_start, campaign.business_hours_end
    )


def _locked(campaign: Campaign) -> Campaign:
    """The campaign's row, locked until the transaction ends, so two admins cannot act on it at once."""
    return (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("organization", "sending_profile")
        .get(pk=campaign.pk)
    )


def _copy_state(source: Campaign, target: Campaign) -> None:
    for name in ("state", "paused_at", "launched_at", "closed_at"):
        setattr(target, name, getattr(source, name))


def _refuse(campaign: Campaign, action: str) -> CampaignError:
    return CampaignError(
        _("「%(campaign)s」は%(state)sのため、%(action)sできません。")
        % {"campaign": campaign.display_name, "state": campaign.get_state_display(), "action": action}
    )


@transaction.atomic
def save_draft(form, *, by, request=None) -> Campaign:
    """Save a campaign form (new or edited); only a draft's settings and audience may change."""
    campaign = form.instance
    created = campaign.pk is None
    if not created and _locked(campaign).state != State.DRAFT:
        raise _refuse(campaign, _("変更"))
    if created:
        campaign.created_by = by
    campaign = form.save()
    record(
        "campaign.created" if created else "campaign.updated",
        organization=campaign.organization,
        actor=by,
        request=request,
        target=campaign.display_name,
        campaign=str(campaign.public_id),
    )
    return campaign


def _usable_scenarios(campaign: Campaign) -> list[Scenario]:
    scenarios = list(campaign.scenarios.all())
    if not scenarios:
        raise CampaignError(_("シナリオを1つ以上選んでください。"))
    unusable = [
        scenario
        for scenario in scenarios
        if scenario.archived or scenario.organization_id not in (None, campaign.organization_id)
    ]
    if unusable:
        raise CampaignError(
            _("使用できないシナリオ（アーカイブ済み、または他の組織のもの）が含まれています: %(names)s")
            % {"names": "、".join(scenario.name for scenario in unusable)}
        )
    return scenarios


def _check_sending_profile(campaign: Campaign) -> None:
    if campaign.sending_profile.organization_id != campaign.organization_id:
        raise CampaignError(_("送信設定はこの組織のものを選んでください。"))


def _check_window(campaign: Campaign, now: datetime.datetime) -> SendingWindow:
    window = window_of(campaign)
    problems = window.errors()
    if problems:
        raise CampaignError(" ".join(problems))
    if window.business_minutes(not_before=now) == 0:
        raise CampaignError(_("送信期間が終わっています。期間を変更してから開始してください。"))
    return window


@transaction.atomic
def launch_campaign(
    campaign: Campaign, by, request=None, *, now: datetime.datetime | None = None, seed: int | None = None
) -> int:
    """Freeze the audience into one queued delivery per person and schedule the campaign; returns the count.

    1. Lock the campaign and check it is a draft with usable scenarios, a profile of its organization and
       a window with business minutes left after ``now``.
    2. Refuse the launch if an explicitly included person is not reachable staff (other organization,
       inactive, outside the verified domains): the admin named them, so dropping them silently would hide
       a mistake.
    3. Select the audience (one query) and re-check every address against the verified domains.
    4. Assign scenarios and spread send times per department, then insert the deliveries in batches.
    ``seed`` makes assignment and times reproducible (tests).
    """
    now = now or timezone.now()
    locked = _locked(campaign)
    if locked.state != State.DRAFT:
        raise _refuse(locked, _("開始"))
    organization = locked.organization
    scenarios = _usable_scenarios(locked)
    _check_sending_profile(locked)
    window = _check_window(locked, now)
    domains = organization.verified_domain_names()
    outsiders = explicit_outsiders(organization, locked.included_people.values("pk"), domains)
    if outsiders.total:
        raise CampaignError(outsiders.message())
    audience = select_audience(organization, criteria_of(locked), domains=domains)
    recipients = list(audience.values_list("pk", "email", "department_id"))
    if not recipients:
        raise CampaignError(_("対象者がいません。所属・役職・雇用区分の条件を見直してください。"))
    refused = sum(1 for _pk, email, _department in recipients if not address_in_domains(email, domains))
    if refused:
        raise CampaignError(
            _("確認済みドメイン以外のアドレスが %(count)s 件あるため開始できません。") % {"count": refused}
        )
    rng = _random(seed)
    departments = [department for _pk, _email, department in recipients]
    assigned = assign_scenarios(
        departments, scenarios, balanced=locked.assignment == Campaign.Assignment.BALANCED, rng=rng
    )
    send_times = spread_send_times(departments, window, rng=rng, not_before=now)
    insert_deliveries(
        locked,
        (
            (person_id, scenario.pk, email, send_time)
            for (person_id, email, _department), scenario, send_time in zip(
                recipients, assigned, send_times, strict=True
            )
        ),
    )
    locked.state = State.SCHEDULED
    locked.launched_at = now
    locked.paused_at = None
    locked.save(update_fields=["state", "launched_at", "paused_at"])
    _copy_state(locked, campaign)
    record(
        "campaign.launched",
        organization=organization,
        actor=by,
        request=request,
        target=locked.display_name,
        campaign=str(locked.public_id),
        recipients=len(recipients),
        scenarios=len(scenarios),
        first_send=min(send_times).isoformat(),
        last_send=max(send_times).isoformat(),
    )
    return len(recipients)


def insert_deliveries(campaign: Campaign, rows: Iterable[tuple[int, int, str, datetime.datetime]]) -> None:
    """Insert queued deliveries from (person id, scenario id, email, scheduled_at) rows, in batches.

    ``bulk_create`` spends most of a 100,000-person launch building model instances and compiling each
    value into SQL; this streams plain tuples: COPY on PostgreSQL, multi-row INSERTs on SQLite. Every other
    column gets its model default, computed per row where the default is callable (the token), so a field
    added later needs no change here.
    """
    connection = connections[Delivery.objects.db]
    fields = [field for field in Delivery._meta.concrete_fields if not field.primary_key]
    constants = {"organization": campaign.organization_id, "campaign": campaign.pk}
    adapt_time = connection.ops.adapt_datetimefield_value
    # One value getter per column: ids and addresses go as they are, the time as the backend wants it,
    # a callable default (the token) is made per row, and everything else is one prepared constant.
    getters = []
    for field in fields:
        if field.name in ("person", "scenario", "email"):
            getters.append(operator.itemgetter(("person", "scenario", "email").index(field.name)))
        elif field.name == "scheduled_at":
            getters.append(lambda row: adapt_time(row[3]))
        elif field.name not in constants and field.has_default() and callable(field.default):
            getters.append(lambda row, field=field: field.get_db_prep_save(field.get_default(), connection))
        else:
            value = constants[field.name] if field.name in constants else field.get_default()
            prepared_value = field.get_db_prep_save(value, connection)
            getters.append(lambda row, value=prepared_value: value)

    def prepared(row) -> list:
        return [getter(row) for getter in getters]

    table = connection.ops.quote_name(Delivery._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams the rows; a large multi-row INSERT spends its time in client-side placeholder parsing.
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(prepared(row))
            return
        row_placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        rows_per_statement = min(DELIVERY_BATCH_SIZE, connection.features.max_query_params // len(fields))
        for batch in itertools.batched(rows, rows_per_statement):
            # Only model metadata is formatted into the statement; every value is a query parameter.
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_placeholder] * len(batch))}"  # noqa: S608
            cursor.execute(sql, [value for row in batch for value in prepared(row)])


@transaction.atomic
def pause_campaign(campaign: Campaign, by, request=None, *, now: datetime.datetime | None = None) -> None:
    """Stop sending for now; the sender skips a paused campaign. Queued mail keeps its place."""
    locked = _locked(campaign)
    if locked.state not in PAUSABLE_STATES or locked.is_paused:
        raise _refuse(locked, _("一時停止"))
    locked.paused_at = now or timezone.now()
    locked.save(update_fields=["paused_at"])
    _copy_state(locked, campaign)
    queued = locked.deliveries.filter(state=Delivery.State.QUEUED).count()
    record(
        "campaign.paused",
        organization=locked.organization,
        actor=by,
        request=request,
        target=locked.display_name,
        campaign=str(locked.public_id),
        queued=queued,
    )


@transaction.atomic
def resume_campaign(
    campaign: Campaign, by, request=None, *, now: datetime.datetime | None = None, seed: int | None = None
) -> int:
    """Sending continues; returns how many overdue deliveries were given new send times.

    Mail that fell due during the pause would otherwise all leave in the first minutes after resuming,
    departments together. It is spread again over what remains of the window, or over the next business
    day when the window has ended meanwhile.
    """
    now = now or timezone.now()
    locked = _locked(campaign)
    if not locked.is_paused:
        raise _refuse(locked, _("再開"))
    overdue = list(
        locked.deliveries.filter(state=Delivery.State.QUEUED, scheduled_at__lt=now).values_list(
            "pk", "person__department_id"
        )
    )
    if overdue:
        window = _remaining_window(locked, now)
        send_times = spread_send_times(
            [department for _pk, department in overdue], window, rng=_random(seed), not_before=now
        )
        Delivery.objects.bulk_update(
            [
                Delivery(pk=pk, scheduled_at=send_time)
                for (pk, _department), send_time in zip(overdue, send_times, strict=True)
            ],
            ["scheduled_at"],
            batch_size=DELIVERY_BATCH_SIZE,
        )
    locked.paused_at = None
    locked.save(update_fields=["paused_at"])
    _copy_state(locked, campaign)
    record(
        "campaign.resumed",
        organization=locked.organization,
        actor=by,
        request=request,
        target=locked.display_name,
        campaign=str(locked.public_id),
        rescheduled=len(overdue),
    )
    return len(overdue)


def _remaining_window(campaign: Campaign, now: datetime.datetime) -> SendingWindow:
    window = window_of(campaign)
    if window.business_minutes(not_before=now) > 0:
        return window
    today = now.astimezone(JST).date()
    ahead = SendingWindow(
        today, today + NEXT_BUSINESS_DAY_HORIZON, campaign.business_hours_start, campaign.business_hours_end
    )
    next_day = ahead.intervals(not_before=now)[0][0].date()
    return SendingWindow(next_day, next_day, campaign.business_hours_start, campaign.business_hours_end)


@transaction.atomic
def cancel_campaign(campaign: Campaign, by, request=None) -> int:
    """Stop the campaign for good: mail not yet sent is cancelled. Returns how many deliveries were cancelled.

    Race, accepted: a mail a worker is handing to the SMTP server at this moment still leaves, and its
    delivery stays cancelled (the sender records only queued rows as sent). Workers re-check the campaign
    about once a second, so nothing else of a claimed batch goes out.
    """
    locked = _locked(campaign)
    if locked.state not in CANCELLABLE_STATES:
        raise _refuse(locked, _("中止"))
    cancelled = locked.deliveries.filter(state=Delivery.State.QUEUED).update(state=Delivery.State.CANCELLED)
    locked.state = State.CANCELLED
    locked.paused_at = None
    locked.save(update_fields=["state", "paused_at"])
    _copy_state(locked, campaign)
    record(
        "campaign.cancelled",
        organization=locked.organization,
        actor=by,
        request=request,
        target=locked.display_name,
        campaign=str(locked.public_id),
        cancelled_deliveries=cancelled,
    )
    return cancelled


@transaction.atomic
def close_campaign(campaign: Campaign, by, request=None, *, now: datetime.datetime | None = None) -> None:
    """End a running campaign: all its mail is out; the round is over."""
    locked = _locked(campaign)
    if locked.state not in CLOSABLE_STATES:
        raise _refuse(locked, _("終了"))
    locked.state = State.CLOSED
    locked.closed_at = now or timezone.now()
    locked.save(update_fields=["state", "closed_at"])
    _copy_state(locked, campaign)
    record(
        "campaign.closed",
        organization=locked.organization,
        actor=by,
        request=request,
        target=locked.display_name,
        campaign=str(locked.public_id),
    )
