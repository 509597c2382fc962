"""Campaign results (訓練結果): the funnel, automated hits beside human ones, group aggregates, people.

Every figure is an aggregate query, and the number of queries is fixed: it does not grow with the
deliveries or events of a campaign (the tests hold it with assertNumQueries). The funnel counts *human*
actions only, from the ``Delivery.first_*_at`` times the classifier writes; the raw hits, the automated ones
and those not classified yet come from ``Event`` and are shown beside it, so nothing is hidden.

Groups (department, position, employment type) are read from the roster as it is now: a person who moved
since the drill counts for their new department.
"""

import datetime
import functools
import operator
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mamori.core.models import Department, Person
from mamori.drills.models import Campaign, Delivery, Event
from mamori.drills.plan import department_label
from mamori.drills.tracking.reasons import Reason


@dataclass(frozen=True)
class Stage:
    """One step of the funnel: the Delivery time that marks it and the Event kind behind it."""

    key: str
    field: str
    kind: str
    label: str


STAGES = (
    Stage("clicked", "first_clicked_at", Event.Kind.CLICK, gettext_lazy("リンクをクリック")),
    Stage("scanned", "first_scanned_at", Event.Kind.QR_SCAN, gettext_lazy("QRコードを読み取り")),
    Stage("attachment", "first_attachment_at", Event.Kind.ATTACHMENT, gettext_lazy("添付ファイルを開いた")),
    Stage("submitted", "first_submitted_at", Event.Kind.SUBMIT, gettext_lazy("フォームに入力")),
    Stage("replied", "first_replied_at", Event.Kind.REPLY, gettext_lazy("返信")),
)

# A person failed the drill when any of these human-only times is set (the classifier writes them).
FAILURE_FIELDS = tuple(stage.field for stage in STAGES)


def human_failure(prefix: str = "") -> Q:
    """Deliveries whose recipient failed: a human click, scan, attachment, submit or reply."""
    return functools.reduce(operator.or_, (Q(**{f"{prefix}{name}__isnull": False}) for name in FAILURE_FIELDS))


def reported(prefix: str = "") -> Q:
    return Q(**{f"{prefix}reported_at__isnull": False})


HUMAN_FAILURE = human_failure()
REPORTED = reported()

# The groups a dept_manager sees must hold at least this many recipients: a smaller group (the one 係長 of
# a 係) would show a person's own result to their manager.
SMALL_GROUP_MINIMUM = 5

# The event kinds shown in the raw-hit table, in funnel order. CONFIRM is the landing page's own beacon,
# a signal for the classifier rather than something a recipient did, so it appears only in timelines.
RAW_KINDS = (
    Event.Kind.CLICK,
    Event.Kind.QR_SCAN,
    Event.Kind.ATTACHMENT,
    Event.Kind.SUBMIT,
    Event.Kind.REPLY,
    Event.Kind.OPEN,
    Event.Kind.TRAP,
)


# Why each of the classifier's reasons (``mamori.drills.tracking.reasons.Reason``) means a machine: shown
# under the reason's own label on the results page.
EXPLANATIONS = {
    Reason.TRAP: gettext_lazy(
        "メールには人の目に見えないリンクを入れてあります。これをたどるのはメールの検査装置やリンクの"
        "プレビューだけなので、その宛先への同じ頃のアクセスも自動とみなします。"
    ),
    Reason.LATENCY: gettext_lazy("配信から数秒のうちのアクセスです。人がメールを読んで操作するには短すぎます。"),
    Reason.SCANNER_USER_AGENT: gettext_lazy(
        "リンクを検査・プレビューする製品やプログラムのユーザーエージェント（設定の一覧）からのアクセスです。"
        "ユーザーエージェントのないアクセスも含みます。"
    ),
    Reason.SCANNER_ADDRESS: gettext_lazy("メールセキュリティ製品のアドレス範囲（設定の一覧）からのアクセスです。"),
    Reason.MANY_TOKENS: gettext_lazy(
        "同じアドレスから短い間に多くの宛先のリンクへアクセスがありました。一人の職員の操作では起こりません。"
    ),
    Reason.NO_CONFIRMATION: gettext_lazy(
        "ページを開くと小さなスクリプトが表示の確認を送りますが、それが届きませんでした。"
        "ページを実際には表示しない機械的なアクセスと考えられます。"
    ),
}


def reason_label(code: str) -> str:
    """The reason's Japanese label; an unknown code (from a newer classifier) is shown as it is."""
    return str(Reason(code).label) if code in Reason.values else code


@dataclass(frozen=True)
class ResultFilter:
    """What the viewer narrowed the results to: a department sub-tree, a position, an employment type."""

    department: Department | None = None
    position: str = ""
    employment_type: str = ""

    @property
    def is_active(self) -> bool:
        return bool(self.department or self.position or self.employment_type)

    def description(self) -> str:
        """「総務部 › 総務課（配下を含む）・係長・会計年度任用」: what the figures are narrowed to."""
        parts = []
        if self.department is not None:
            parts.append(_("%(department)s（配下を含む）") % {"department": self.department})
        if self.position:
            parts.append(self.position)
        if self.employment_type:
            parts.append(str(dict(Person.EmploymentType.choices).get(self.employment_type, self.employment_type)))
        return "・".join(parts)

    def condition(self) -> Q:
        """The filter as a condition on Delivery."""
        condition = Q()
        if self.department is not None:
            condition &= self.department.subtree_filter(prefix="person__department__")
        if self.position:
            condition &= Q(person__position=self.position)
        if self.employment_type:
            condition &= Q(person__employment_type=self.employment_type)
        return condition


def delivered_to(
    campaign: Campaign, *, people: QuerySet | None = None, filters: ResultFilter | None = None
) -> QuerySet:
    """The campaign's sent deliveries that the viewer may count: ``people`` (None = everyone), filtered.

    Only sent mail counts: a queued, failed or cancelled delivery reached nobody.
    """
    deliveries = Delivery.objects.filter(campaign=campaign, state=Delivery.State.SENT)
    if filters is not None:
        deliveries = deliveries.filter(filters.condition())
    if people is not None:
        deliveries = deliveries.filter(person__in=people.values("pk"))
    return deliveries.order_by()


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


@dataclass
class FunnelStep:
    label: str
    people: int
    delivered: int
    # Hits of this kind: all of them, those excluded as automated, those not classified yet.
    hits: int = 0
    automated_hits: int = 0
    pending_hits: int = 0

    @property
    def percent(self) -> float:
        return _percent(self.people, self.delivered)


@dataclass
class RawCount:
    """Hits of one kind: everything recorded, split into human, automated and not yet classified."""

    kind: str
    label: str
    hits: int = 0
    human_hits: int = 0
    automated_hits: int = 0
    pending_hits: int = 0
    human_people: int = 0
    automated_people: int = 0


@dataclass
class ReasonCount:
    code: str
    label: str
    explanation: str
    hits: int


@dataclass
class Funnel:
    """delivered → human click / scan / attachment / submit / reply → reported, plus the raw hits."""

    delivered: int
    failed: int
    reported: int
    opened_people: int
    steps: list[FunnelStep]
    raw: list[RawCount]
    reasons: list[ReasonCount]

    @property
    def failed_percent(self) -> float:
        return _percent(self.failed, self.delivered)

    @property
    def reported_percent(self) -> float:
        return _percent(self.reported, self.delivered)

    @property
    def opened_percent(self) -> float:
        return _percent(self.opened_people, self.delivered)

    @property
    def automated_failure_hits(self) -> int:
        return sum(step.automated_hits for step in self.steps)

    @property
    def pending_failure_hits(self) -> int:
        return sum(step.pending_hits for step in self.steps)


def _raw_counts(deliveries: QuerySet) -> dict[str, RawCount]:
    """One query: hits per kind, split by verdict, with the people behind the human and automated ones."""
    labels = dict(Event.Kind.choices)
    counts = {kind: RawCount(kind, str(labels[kind])) for kind in RAW_KINDS}
    rows = (
        Event.objects.filter(delivery__in=deliveries.values("pk"), kind__in=RAW_KINDS)
        .order_by()
        .values("kind")
        .annotate(
            hits=Count("pk"),
            human_hits=Count("pk", filter=Q(automated=False)),
            automated_hits=Count("pk", filter=Q(automated=True)),
            pending_hits=Count("pk", filter=Q(automated__isnull=True)),
            human_people=Count("delivery", distinct=True, filter=Q(automated=False)),
            automated_people=Count("delivery", distinct=True, filter=Q(automated=True)),
        )
    )
    for row in rows:
        kind = row.pop("kind")
        counts[kind] = RawCount(kind, str(labels[kind]), **row)
    return counts


def _reason_counts(deliveries: QuerySet) -> list[ReasonCount]:
    """One query: automated hits per reason (every known reason, 0 included). A hit may carry several.

    Grouped by the whole reasons list (a handful of combinations at most) and unfolded here: counting
    inside a JSON array differs between SQLite and PostgreSQL.
    """
    per_reason: dict[str, int] = {}
    rows = (
        Event.objects.filter(delivery__in=deliveries.values("pk"), automated=True)
        .order_by()
        .values("reasons")
        .annotate(hits=Count("pk"))
    )
    for row in rows:
        for code in row["reasons"] or []:
            per_reason[code] = per_reason.get(code, 0) + row["hits"]
    # Every known reason is listed, with 0 when it did not fire: the page explains them all.
    unknown = sorted(code for code in per_reason if code not in Reason.values)
    return [
        ReasonCount(code, reason_label(code), str(EXPLANATIONS.get(code, "")), per_reason.get(code, 0))
        for code in [*Reason.values, *unknown]
    ]


def funnel_of(deliveries: QuerySet) -> Funnel:
    """The funnel of ``deliveries`` (from ``delivered_to``): three aggregate queries, whatever the size."""
    counts = deliveries.aggregate(
        delivered=Count("pk"),
        failed=Count("pk", filter=HUMAN_FAILURE),
        reported=Count("pk", filter=REPORTED),
        **{stage.key: Count("pk", filter=Q(**{f"{stage.field}__isnull": False})) for stage in STAGES},
    )
    raw = _raw_counts(deliveries)
    steps = [
        FunnelStep(
            str(stage.label),
            counts[stage.key],
            counts["delivered"],
            hits=raw[stage.kind].hits,
            automated_hits=raw[stage.kind].automated_hits,
            pending_hits=raw[stage.kind].pending_hits,
        )
        for stage in STAGES
    ]
    return Funnel(
        delivered=counts["delivered"],
        failed=counts["failed"],
        reported=counts["reported"],
        opened_people=raw[Event.Kind.OPEN].human_people,
        steps=steps,
        raw=list(raw.values()),
        reasons=_reason_counts(deliveries),
    )


@dataclass
class GroupRow:
    """One department or employment type: recipients, human failures, reports, median time to report."""

    label: str
    delivered: int = 0
    failed: int = 0
    reported: int = 0
    times_to_report: list[datetime.timedelta] = field(default_factory=list, repr=False)
    # Set for viewers who may not see groups this small (see SMALL_GROUP_MINIMUM).
    withheld: bool = False

    @property
    def failed_percent(self) -> float:
        return _percent(self.failed, self.delivered)

    @property
    def reported_percent(self) -> float:
        return _percent(self.reported, self.delivered)

    @property
    def median_time_to_report(self) -> datetime.timedelta | None:
        return statistics.median(self.times_to_report) if self.times_to_report else None

    @property
    def median_label(self) -> str:
        return duration_label(self.median_time_to_report)


def _fold(rows: Iterable[dict], key: str, label_of: Callable[[object], str]) -> dict[str, GroupRow]:
    groups: dict[str, GroupRow] = {}
    for row in rows:
        label = label_of(row[key])
        group = groups.setdefault(label, GroupRow(label))
        group.delivered += row["delivered"]
        group.failed += row["failed"]
        group.reported += row["reported"]
    return groups


def _group_counts(deliveries: QuerySet, key: str) -> QuerySet:
    return (
        deliveries.values(key)
        .annotate(
            delivered=Count("pk"), failed=Count("pk", filter=HUMAN_FAILURE), reported=Count("pk", filter=REPORTED)
        )
        .order_by()
    )


@dataclass
class GroupResults:
    """The funnel's headline figures per department (at a level of the tree) and per employment type."""

    departments: list[GroupRow]
    employment_types: list[GroupRow]
    overall_median_time_to_report: datetime.timedelta | None


EMPLOYMENT_TYPE_KEY = "person__employment_type"
DEPARTMENT_KEY = "person__department__path"


def group_results(deliveries: QuerySet, *, level: int, withhold_below: int = 0) -> GroupResults:
    """Department and employment-type rows of ``deliveries``: three queries, whatever the size.

    ``level`` is the department level rows are counted at (0 = 部): a 係's people count for their 課 at
    level 1. Rows with fewer than ``withhold_below`` recipients are marked withheld (their figures are
    not shown).
    """
    employment_labels = dict(Person.EmploymentType.choices)

    def department_of(path) -> str:
        return department_label(path, level)

    def employment_type_of(value) -> str:
        return str(employment_labels.get(value, value))

    departments = _fold(_group_counts(deliveries, DEPARTMENT_KEY), DEPARTMENT_KEY, department_of)
    employment_types = _fold(_group_counts(deliveries, EMPLOYMENT_TYPE_KEY), EMPLOYMENT_TYPE_KEY, employment_type_of)
    # Time to report: one row per report (not per delivery), folded into the groups here, because a median
    # is not an aggregate SQLite has.
    everyone: list[datetime.timedelta] = []
    for path, employment_type, sent_at, reported_at in deliveries.filter(REPORTED).values_list(
        DEPARTMENT_KEY, EMPLOYMENT_TYPE_KEY, "sent_at", "reported_at"
    ):
        if sent_at is None or reported_at < sent_at:
            continue
        elapsed = reported_at - sent_at
        everyone.append(elapsed)
        departments[department_of(path)].times_to_report.append(elapsed)
        employment_types[employment_type_of(employment_type)].times_to_report.append(elapsed)
    for group in (*departments.values(), *employment_types.values()):
        group.withheld = group.delivered < withhold_below
    order = {str(label): index for index, (_value, label) in enumerate(Person.EmploymentType.choices)}
    return GroupResults(
        departments=sorted(departments.values(), key=lambda group: group.label),
        employment_types=sorted(employment_types.values(), key=lambda group: order.get(group.label, len(order))),
        overall_median_time_to_report=statistics.median(everyone) if everyone else None,
    )


def positions_of(deliveries: QuerySet) -> list[str]:
    """The positions (役職) among the recipients, for the filter."""
    return list(
        deliveries.exclude(person__position="")
        .values_list("person__position", flat=True)
        .distinct()
        .order_by("person__position")
    )


class Outcome:
    """The people list's outcome filter (a person may match several)."""

    FAILED = "failed"
    REPORTED = "reported"
    AUTOMATED_ONLY = "automated_only"
    PENDING = "pending"
    CHOICES = (
        ("", gettext_lazy("すべて")),
        (FAILED, gettext_lazy("人の操作あり（クリック・入力など）")),
        (REPORTED, gettext_lazy("報告あり")),
        (AUTOMATED_ONLY, gettext_lazy("自動アクセスのみ")),
        (PENDING, gettext_lazy("判定待ちのアクセスあり")),
    )


def _has_events(**conditions) -> Exists:
    return Exists(Event.objects.filter(delivery=OuterRef("pk"), **conditions))


def people_results(deliveries: QuerySet, outcome: str = "") -> QuerySet:
    """Each recipient with their hits, for the individual list (security_admin and CSIRT only).

    Paginated by the caller: a page costs a count, the page's rows, and one query for its events.
    """
    people = deliveries.select_related("person__department", "scenario").annotate(
        automated_hits=Count("events", filter=Q(events__automated=True)),
        pending_hits=Count("events", filter=Q(events__automated__isnull=True) & ~Q(events__kind=Event.Kind.CONFIRM)),
    )
    if outcome == Outcome.FAILED:
        people = people.filter(HUMAN_FAILURE)
    elif outcome == Outcome.REPORTED:
        people = people.filter(REPORTED)
    elif outcome == Outcome.AUTOMATED_ONLY:
        people = people.filter(_has_events(automated=True)).exclude(HUMAN_FAILURE)
    elif outcome == Outcome.PENDING:
        people = people.filter(_has_events(automated__isnull=True, kind__in=RAW_KINDS))
    timeline = Prefetch("events", queryset=Event.objects.order_by("at", "pk"), to_attr="timeline_events")
    return people.prefetch_related(timeline).order_by("person__department__path", "person__employee_number", "pk")


@dataclass
class TimelineEntry:
    """One line of a person's timeline: sent, a hit (with its verdict and reasons), or reported."""

    at: datetime.datetime
    label: str
    source: str = ""
    verdict: str = ""
    reasons: list[str] = field(default_factory=list)
    user_agent: str = ""
    client_address: str = ""


class Verdict:
    HUMAN = "human"
    AUTOMATED = "automated"
    PENDING = "pending"


def _verdict_of(event: Event) -> str:
    if event.automated is None:
        return Verdict.PENDING
    return Verdict.AUTOMATED if event.automated else Verdict.HUMAN


def human_actions_of(delivery: Delivery) -> list[tuple[str, datetime.datetime]]:
    """The funnel steps this recipient took, each with its first human time."""
    return [(str(stage.label), getattr(delivery, stage.field)) for stage in STAGES if getattr(delivery, stage.field)]


def timeline_of(delivery: Delivery) -> list[TimelineEntry]:
    """Sent, every hit in time order, reported: from a delivery of ``people_results`` (no query)."""
    entries = []
    if delivery.sent_at:
        entries.append(TimelineEntry(delivery.sent_at, _("送信")))
    for event in delivery.timeline_events:
        entries.append(
            TimelineEntry(
                event.at,
                event.get_kind_display(),
                source=event.source,
                verdict=_verdict_of(event),
                reasons=[reason_label(code) for code in event.reasons or []],
                user_agent=event.user_agent,
                client_address=event.client_address,
            )
        )
    if delivery.reported_at:
        entries.append(TimelineEntry(delivery.reported_at, _("報告")))
    return sorted(entries, key=lambda entry: entry.at)


def duration_label(elapsed: datetime.timedelta | None) -> str:
    """「3分」「1時間5分」「2日4時間」: how long it took, to the minute."""
    if elapsed is None:
        return "—"
    minutes = int(elapsed.total_seconds() // 60)
    if minutes < 1:
        return _("1分未満")
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)d日%(hours)d時間") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d時間%(minutes)d分") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d分") % {"minutes": minutes}
