"""Who a campaign reaches (対象者) and which scenario each person receives.

The audience is the organization's active staff in the chosen departments (with their sub-trees), narrowed
by position and employment type when given, plus explicitly included people, minus exclusions; no
department, position or employment type chosen means the whole organization. Only addresses in the
organization's verified mail domains are ever selected: mamori cannot be aimed at outsiders.
Everything is one queryset, so a 100,000-person ward costs the same number of queries as a small one.
"""

import random
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from mamori.core.models import Department, Organization, Person


@dataclass
class AudienceCriteria:
    """The audience settings of a campaign (saved or still in the form)."""

    departments: Sequence[Department] = ()
    positions: Sequence[str] = ()
    employment_types: Sequence[str] = ()
    # Querysets or lists of Person (or their ids): used as subqueries, never loaded one by one.
    included: QuerySet | Sequence = ()
    excluded: QuerySet | Sequence = ()

    @property
    def is_whole_organization(self) -> bool:
        return not (self.departments or self.positions or self.employment_types)


def criteria_of(campaign) -> AudienceCriteria:
    """A saved campaign's criteria; explicit people stay subqueries on the campaign's link tables."""
    return AudienceCriteria(
        departments=list(campaign.audience_departments.all()),
        positions=campaign.audience_positions,
        employment_types=campaign.audience_employment_types,
        included=campaign.included_people.values("pk"),
        excluded=campaign.excluded_people.values("pk"),
    )


def address_in_domains(email: str, domains: Iterable[str]) -> bool:
    """The rule of ``Organization.accepts_email``, against domains already loaded: exact domain, any case."""
    return email.rsplit("@", 1)[-1].lower() in domains


def verified_address_filter(domains: Iterable[str], prefix: str = "") -> Q:
    """Q matching addresses in exactly these domains (no sub-domains); matches nothing without a domain."""
    condition = Q(pk__in=[])
    for domain in domains:
        condition |= Q(**{f"{prefix}email__iendswith": "@" + domain})
    return condition


def _criteria_filter(criteria: AudienceCriteria) -> Q:
    condition = Q()
    if criteria.departments:
        in_departments = Q(pk__in=[])
        for department in criteria.departments:
            in_departments |= department.subtree_filter()
        condition &= in_departments
    if criteria.positions:
        condition &= Q(position__in=list(criteria.positions))
    if criteria.employment_types:
        condition &= Q(employment_type__in=list(criteria.employment_types))
    return condition


def roster_selection(organization: Organization, criteria: AudienceCriteria) -> QuerySet:
    """Active staff the criteria select, before the verified-domain rule."""
    people = Person.objects.filter(organization=organization, active=True)
    if not criteria.is_whole_organization:
        # Explicit people are added to what the criteria select; for the whole organization they add nothing.
        selected = _criteria_filter(criteria)
        if _has_members(criteria.included):
            selected |= Q(pk__in=criteria.included)
        people = people.filter(selected)
    if _has_members(criteria.excluded):
        people = people.exclude(pk__in=criteria.excluded)
    return people


def select_audience(
    organization: Organization, criteria: AudienceCriteria, *, domains: Iterable[str] | None = None
) -> QuerySet:
    """The people a campaign with these criteria reaches: selected staff whose address is in a verified domain."""
    if domains is None:
        domains = organization.verified_domain_names()
    return roster_selection(organization, criteria).filter(verified_address_filter(domains))


def audience_of(campaign) -> QuerySet:
    return select_audience(campaign.organization, criteria_of(campaign))


def _has_members(people: QuerySet | Sequence) -> bool:
    # A queryset is a subquery and stays unevaluated; an empty list must not become "pk IN ()" on an OR.
    return isinstance(people, QuerySet) or bool(people)


@dataclass
class ExplicitOutsiders:
    """Explicitly included people the campaign may not reach, counted by reason."""

    other_organization: int = 0
    inactive: int = 0
    outside_domains: int = 0

    @property
    def total(self) -> int:
        return self.other_organization + self.inactive + self.outside_domains

    def message(self) -> str:
        reasons = []
        if self.other_organization:
            reasons.append(_("名簿にない（他の組織の）職員 %(count)s 名") % {"count": self.other_organization})
        if self.inactive:
            reasons.append(_("在籍していない職員 %(count)s 名") % {"count": self.inactive})
        if self.outside_domains:
            reasons.append(_("確認済みドメイン以外のアドレス %(count)s 名") % {"count": self.outside_domains})
        return _("個別に指定した対象者に、訓練メールを送れない宛先が含まれています: %(reasons)s。") % {
            "reasons": "、".join(reasons)
        }


def explicit_outsiders(organization: Organization, included: QuerySet | Sequence, domains: Iterable[str]):
    """Count, in one query, the explicitly included people who are not reachable staff of the organization."""
    if not _has_members(included):
        return ExplicitOutsiders()
    own_active = Q(organization=organization, active=True)
    counts = Person.objects.filter(pk__in=included).aggregate(
        other_organization=Count("pk", filter=~Q(organization=organization)),
        inactive=Count("pk", filter=Q(organization=organization, active=False)),
        outside_domains=Count("pk", filter=own_active & ~verified_address_filter(domains)),
    )
    return ExplicitOutsiders(**counts)


@dataclass
class AudiencePreview:
    """What the campaign page shows before launch: the count, where they work, and who is left out."""

    total: int
    by_department: list[dict] = field(default_factory=list)
    outside_domains: int = 0
    explicit_outsiders: ExplicitOutsiders = field(default_factory=ExplicitOutsiders)


def preview_audience(organization: Organization, criteria: AudienceCriteria) -> AudiencePreview:
    domains = organization.verified_domain_names()
    audience = select_audience(organization, criteria, domains=domains)
    by_department = list(audience.values("department__path").annotate(people=Count("pk")).order_by("department__path"))
    total = sum(row["people"] for row in by_department)
    selected = roster_selection(organization, criteria).count()
    return AudiencePreview(
        total=total,
        by_department=by_department,
        outside_domains=selected - total,
        explicit_outsiders=explicit_outsiders(organization, criteria.included, domains),
    )


def assign_scenarios[Assigned](
    departments: Sequence[Hashable], scenarios: Sequence[Assigned], *, balanced: bool, rng: random.Random
) -> list[Assigned]:
    """A scenario for each recipient, given each recipient's department, in the order given.

    Random: each person draws a scenario. Balanced: every scenario goes to an equal share (±1) of the
    audience and of every department, so colleagues in one 係 do not all receive the same mail:
    1. shuffle the scenarios and the members of each department;
    2. deal the scenarios round-robin, department after department, without restarting the count.
    """
    if not scenarios:
        raise ValueError("at least one scenario is needed")
    if not balanced:
        return [rng.choice(scenarios) for _department in departments]
    order = list(scenarios)
    rng.shuffle(order)
    members_by_department: dict[Hashable, list[int]] = {}
    for index, department in enumerate(departments):
        members_by_department.setdefault(department, []).append(index)
    assigned: dict[int, Assigned] = {}
    dealt = rng.randrange(len(order))
    for members in members_by_department.values():
        rng.shuffle(members)
        for recipient in members:
            assigned[recipient] = order[dealt % len(order)]
            dealt += 1
    return [assigned[recipient] for recipient in range(len(departments))]
