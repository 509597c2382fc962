"""Synthetic drill outcomes (合成データ) for the benchmark and the demo, written through the project's models.

Nothing here is a shortcut around the drill pipeline's meaning: every row is what the sender, the hit path,
the classifier, the reporting app and the learning app would have stored, so the metrics read it exactly as
they read real drills. The mix follows the seed (支援策①) and what gateways really do:

1. A roster per ward: the demo ward's 部›課›係 tree, staff spread over its 係 with heads at every level;
   about a quarter non-regular staff (会計年度任用, 派遣, 委託先); some people join or leave during the year.
2. One campaign a quarter (May, August, November, February), one library scenario each, of varying
   Phish Scale difficulty. Each person active on the round's first day gets one delivery; a few are on
   leave (no delivery) and a few bounce (送信失敗).
3. Human failures (click, QR scan, attachment, form submit, reply, by the scenario's lure) fall from the
   seed's 22.7 % in the first round to 7.3 % in the fourth, then level off; each person has a lasting
   susceptibility, so repeat offenders exist. Non-regular staff fail somewhat more and report less.
4. Reports rise from about a third to about four in five per round, and come faster (log-normal delays);
   some who clicked report afterwards (「クリック後に報告」).
5. Automated hits: wards behind a link-rewriting gateway see a scanner hit (and the trap link) on nearly
   every mail within seconds, from a scanner address and user agent; elsewhere a few stray ones. They are
   classified automated and never set a delivery's first-failure time.
6. People who failed reach the teachable moment (a learning assignment); most complete it.

Everything comes from one ``random.Random(seed)``: the same arguments give the same data.
"""

import datetime
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from mamori.core.demo import EXTRA_STAFF_WEIGHTS, GIVEN_NAMES, SURNAMES, department_paths, ensure_departments
from mamori.core.models import Organization, Person, VerifiedDomain
from mamori.core.models.people import PATH_SEPARATOR
from mamori.drills.fiscal import JST, fiscal_year_bounds, fiscal_year_of, today_in_japan
from mamori.drills.models import Campaign, Delivery, Event, Scenario, SendingProfile
from mamori.drills.tracking.reasons import Reason
from mamori.learning.models import Assignment, Completion, Module

BATCH_SIZE = 5000
# The seed's story (支援策①): the click rate of the first round and of the fourth.
FIRST_ROUND_FAILURE_RATE = 0.227
FOURTH_ROUND_FAILURE_RATE = 0.073
LATER_FAILURE_RATE = 0.055
FIRST_ROUND_REPORT_RATE = 0.32
LATER_REPORT_RATE = 0.80
# Median minutes from delivery to report: slow at first, fast once the habit forms.
FIRST_ROUND_REPORT_MINUTES = 80.0
LATER_REPORT_MINUTES = 14.0
# Month of each quarter's round (fiscal year from April): May, August, November, February.
ROUND_MONTHS = (5, 8, 11, 2)
ROUND_DAY = 12
ROUND_DAYS = 3
# One library scenario per round, easiest first, then harder ones (NIST Phish Scale 易 → 中 → 難).
ROUND_SCENARIOS = ("mailbox-yoryo", "password-shikko", "itaku-seikyusho", "qr-mfa-koshin", "soumu-tsutatsu")
FAILURE_FACTOR = {
    Person.EmploymentType.REGULAR: 1.0,
    Person.EmploymentType.FISCAL_YEAR: 1.3,
    Person.EmploymentType.DISPATCHED: 1.4,
    Person.EmploymentType.CONTRACTOR: 1.2,
}
REPORT_FACTOR = {
    Person.EmploymentType.REGULAR: 1.0,
    Person.EmploymentType.FISCAL_YEAR: 0.8,
    Person.EmploymentType.DISPATCHED: 0.7,
    Person.EmploymentType.CONTRACTOR: 0.75,
}
LEAVER_SHARE = 0.04
JOINER_SHARE = 0.05
ON_LEAVE_SHARE = 0.01
BOUNCE_SHARE = 0.003
# Most clients load images: the open pixel fires each time the mail is viewed (once, sometimes again).
HUMAN_OPEN_SHARE = 0.7
REOPEN_SHARE = 0.4
CLICKED_THEN_REPORTED = 0.35
SUBMIT_AFTER_CLICK = 0.45
MOMENT_REACHED = 0.9
MOMENT_COMPLETED = 0.8
SCANNED_MAIL_SHARE = 0.93
STRAY_AUTOMATED_SHARE = 0.04
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
SCANNER = "Mozilla/5.0 (compatible; SafeLinks)"
SCANNER_ADDRESS = "40.107.20.0"
LEAD_POSITIONS = ("部長", "課長", "係長")


@dataclass(frozen=True)
class WardTraits:
    """How one ward differs from the average: its staff's habits and its mail gateway."""

    failure_factor: float
    report_factor: float
    scans_links: bool

    @classmethod
    def draw(cls, rng: random.Random) -> "WardTraits":
        return cls(
            failure_factor=rng.uniform(0.7, 1.35),
            report_factor=rng.uniform(0.8, 1.15),
            scans_links=rng.random() < 0.7,
        )


@dataclass
class Totals:
    """What a generation wrote, for the benchmark's figures and the tests."""

    wards: int = 0
    people: int = 0
    campaigns: int = 0
    deliveries: int = 0
    events: int = 0
    assignments: int = 0
    campaign_ids: list[int] = field(default_factory=list)

    def add(self, other: "Totals") -> None:
        self.wards += other.wards
        self.people += other.people
        self.campaigns += other.campaigns
        self.deliveries += other.deliveries
        self.events += other.events
        self.assignments += other.assignments
        self.campaign_ids += other.campaign_ids


@dataclass(frozen=True)
class Trait:
    """One person's lasting habits: how easily they are fooled and how readily they report."""

    failure: float
    report: float


# --- the curves ---------------------------------------------------------------------------------------


def failure_rate(step: int) -> float:
    """The average human failure rate of the ``step``-th round (0-based): 22.7 % → 7.3 % over four, then flat."""
    if step >= 3:
        return max(LATER_FAILURE_RATE, FOURTH_ROUND_FAILURE_RATE * (0.9 ** (step - 3)))
    return FIRST_ROUND_FAILURE_RATE * (FOURTH_ROUND_FAILURE_RATE / FIRST_ROUND_FAILURE_RATE) ** (step / 3)


def report_rate(step: int) -> float:
    return LATER_REPORT_RATE - (LATER_REPORT_RATE - FIRST_ROUND_REPORT_RATE) * 0.6**step


def report_minutes(step: int) -> float:
    return LATER_REPORT_MINUTES + (FIRST_ROUND_REPORT_MINUTES - LATER_REPORT_MINUTES) * 0.55**step


def round_dates(fiscal_year: int, round_number: int) -> tuple[datetime.date, datetime.date]:
    """The round's first and last sending day: the quarter's second month, from the 12th (weekend → Monday)."""
    month = ROUND_MONTHS[(round_number - 1) % len(ROUND_MONTHS)]
    year = fiscal_year + 1 if month < 4 else fiscal_year
    starts_on = datetime.date(year, month, ROUND_DAY)
    while starts_on.weekday() >= 5:
        starts_on += datetime.timedelta(days=1)
    return starts_on, starts_on + datetime.timedelta(days=ROUND_DAYS - 1)


def at_jst(day: datetime.date, seconds: float) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=JST) + datetime.timedelta(seconds=seconds)


def minutes_later(moment: datetime.datetime, minutes: float) -> datetime.datetime:
    return moment + datetime.timedelta(minutes=minutes)


def lognormal_minutes(rng: random.Random, median: float, sigma: float, cap: float) -> float:
    return min(cap, rng.lognormvariate(math.log(median), sigma))


# --- wards, rosters, campaigns ------------------------------------------------------------------------


def create_ward(code: str, name: str) -> Organization:
    ward = Organization.objects.create(code=code, name=name, kind=Organization.Kind.WARD)
    VerifiedDomain.objects.create(organization=ward, domain=f"{code}.example.jp", verified_at=timezone.now())
    return ward


def team_paths() -> list[str]:
    return [path for path in department_paths() if path.count(PATH_SEPARATOR) == 2]


def create_roster(ward: Organization, staff: int, fiscal_year: int, rng: random.Random) -> list[Person]:
    """``staff`` people over the demo tree: heads first, then the rest by the demo's position weights.

    Most were hired before the year; ``JOINER_SHARE`` join during it and ``LEAVER_SHARE`` leave during it
    (inactive, ``deactivated_at`` set), so participation and the roster's denominator have both cases.
    """
    departments = ensure_departments(ward)
    domain = f"{ward.code}.example.jp"
    leads = [(path, LEAD_POSITIONS[path.count(PATH_SEPARATOR)]) for path in department_paths()]
    if staff < 3 * len(leads):  # a small ward: heads of 部 only, the teams get the rest
        leads = [(path, position) for path, position in leads if PATH_SEPARATOR not in path]
    teams = team_paths()
    kinds, weights = zip(*EXTRA_STAFF_WEIGHTS, strict=True)
    year_start, year_end = fiscal_year_bounds(fiscal_year)
    year_seconds = (year_end - year_start).total_seconds()
    people = []
    for number in range(staff):
        if number < len(leads):
            path, position = leads[number]
            employment_type = Person.EmploymentType.REGULAR
        else:
            path = rng.choice(teams)
            position, employment_type = rng.choices(kinds, weights)[0]
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN_NAMES)
        created_at = year_start - datetime.timedelta(days=rng.randint(30, 9000))
        active, deactivated_at = True, None
        draw = rng.random()
        if draw < JOINER_SHARE:
            created_at = year_start + datetime.timedelta(seconds=rng.uniform(0, year_seconds * 0.9))
        elif draw < JOINER_SHARE + LEAVER_SHARE:
            active = False
            deactivated_at = year_start + datetime.timedelta(seconds=rng.uniform(year_seconds * 0.05, year_seconds))
        people.append(
            Person(
                organization=ward,
                employee_number=f"S{number + 1:06d}",
                name=f"{surname[0]} {given[0]}",
                name_kana=f"{surname[1]} {given[1]}",
                email=f"s{number + 1:06d}@{domain}",
                department=departments[path],
                position=position,
                employment_type=employment_type,
                active=active,
                deactivated_at=deactivated_at,
                created_at=created_at,
                updated_at=created_at,
            )
        )
    return Person.objects.bulk_create(people, batch_size=BATCH_SIZE)


def round_scenarios() -> list[Scenario]:
    """The library scenarios of the rounds, in ROUND_SCENARIOS order (those the library has)."""
    found = {
        scenario.library_key: scenario
        for scenario in Scenario.objects.filter(organization__isnull=True, library_key__in=ROUND_SCENARIOS)
    }
    scenarios = [found[key] for key in ROUND_SCENARIOS if key in found]
    if not scenarios:
        raise RuntimeError("the scenario library is empty: run `mamori migrate` (it loads the library)")
    return scenarios


def sending_profile(ward: Organization) -> SendingProfile:
    profile, _ = SendingProfile.objects.get_or_create(
        organization=ward, name="庁内SMTP", defaults={"host": "127.0.0.1", "port": 25, "security": "none"}
    )
    return profile


def create_campaign(ward, profile, scenario, fiscal_year: int, round_number: int, today) -> Campaign:
    starts_on, ends_on = round_dates(fiscal_year, round_number)
    launched_at = at_jst(starts_on, 8.5 * 3600)
    finished = ends_on < today
    campaign = Campaign.objects.create(
        organization=ward,
        fiscal_year=fiscal_year,
        round_number=round_number,
        title=scenario.name,
        starts_on=starts_on,
        ends_on=ends_on,
        sending_profile=profile,
        state=Campaign.State.CLOSED if finished else Campaign.State.RUNNING,
        launched_at=launched_at,
        closed_at=at_jst(ends_on + datetime.timedelta(days=7), 17 * 3600) if finished else None,
        created_at=launched_at - datetime.timedelta(days=14),
    )
    campaign.scenarios.set([scenario])
    return campaign


def person_traits(people: Sequence[Person], rng: random.Random) -> dict[int, Trait]:
    """Log-normal habits with mean one: the same people tend to fail again (repeat offenders)."""
    return {
        person.pk: Trait(
            failure=rng.lognormvariate(-0.32, 0.8) * FAILURE_FACTOR.get(person.employment_type, 1.0),
            report=min(1.6, rng.lognormvariate(-0.045, 0.3)) * REPORT_FACTOR.get(person.employment_type, 1.0),
        )
        for person in people
    }


def on_roster(person: Person, moment: datetime.datetime) -> bool:
    """In post at ``moment`` (the launch: the audience is fixed then)."""
    return person.created_at <= moment and (person.deactivated_at is None or person.deactivated_at > moment)


# --- one round ----------------------------------------------------------------------------------------


@dataclass
class RoundWriter:
    """Builds one campaign's deliveries and, once they have ids, their events and learning rows."""

    campaign: Campaign
    scenario: Scenario
    step: int
    traits: WardTraits
    rng: random.Random
    module: Module
    address_prefix: str
    deliveries: list[Delivery] = field(default_factory=list)
    # Per delivery: (kind, at, source, user agent, address, automated, reasons, filled fields).
    hits: list[list[tuple]] = field(default_factory=list)
    moments: list[datetime.datetime | None] = field(default_factory=list)

    def failure_kind(self) -> str:
        return {
            Scenario.LureType.QR_CODE: Event.Kind.QR_SCAN,
            Scenario.LureType.ATTACHMENT: Event.Kind.ATTACHMENT,
            Scenario.LureType.REPLY_BAIT: Event.Kind.REPLY,
        }.get(self.scenario.lure_type, Event.Kind.CLICK)

    def add(self, person: Person, trait: Trait) -> None:
        rng = self.rng
        starts_on = self.campaign.starts_on
        day = starts_on + datetime.timedelta(days=rng.randrange(ROUND_DAYS))
        scheduled_at = at_jst(day, 9 * 3600 + rng.uniform(0, 8 * 3600))
        if person.deactivated_at is not None and person.deactivated_at <= scheduled_at:
            return  # left after the launch, before their mail was due: the sender skips inactive people
        delivery = Delivery(
            organization_id=self.campaign.organization_id,
            campaign=self.campaign,
            person_id=person.pk,
            scenario_id=self.scenario.pk,
            email=person.email,
            scheduled_at=scheduled_at,
            attempts=1,
        )
        hits: list[tuple] = []
        moment = None
        if rng.random() < BOUNCE_SHARE:
            delivery.state = Delivery.State.FAILED
            delivery.last_error = f"550 5.1.1 <{person.email}>: Recipient address rejected"
        else:
            delivery.state = Delivery.State.SENT
            delivery.sent_at = delivery.scheduled_at + datetime.timedelta(seconds=rng.uniform(0.2, 3))
            delivery.message_id = f"<{rng.getrandbits(64):016x}@mamori.example.jp>"
            hits += self.automated_hits(delivery.sent_at)
            moment = self.human_outcome(delivery, trait, hits)
        self.deliveries.append(delivery)
        self.hits.append(hits)
        self.moments.append(moment)

    def automated_hits(self, sent_at: datetime.datetime) -> list[tuple]:
        """A gateway following the mail's links on arrival: the lure's link and the hidden trap link."""
        rng = self.rng
        if not (rng.random() < (SCANNED_MAIL_SHARE if self.traits.scans_links else STRAY_AUTOMATED_SHARE)):
            return []
        at = sent_at + datetime.timedelta(seconds=rng.uniform(1, 8))
        reasons = [Reason.TRAP, Reason.LATENCY, Reason.SCANNER_USER_AGENT, Reason.SCANNER_ADDRESS]
        kind = Event.Kind.ATTACHMENT if self.failure_kind() == Event.Kind.ATTACHMENT else Event.Kind.CLICK
        hits = [
            (kind, at, "url", SCANNER, SCANNER_ADDRESS, True, reasons, []),
            (Event.Kind.TRAP, at, "url", SCANNER, SCANNER_ADDRESS, True, reasons, []),
        ]
        if rng.random() < 0.3:  # a second scanner pass (sandbox detonation) a little later
            later = at + datetime.timedelta(seconds=rng.uniform(20, 90))
            hits.append((kind, later, "url", SCANNER, SCANNER_ADDRESS, True, reasons, []))
        return hits

    def human_outcome(self, delivery: Delivery, trait: Trait, hits: list[tuple]) -> datetime.datetime | None:
        """The recipient's own hits, failure times and report; returns when they reached the teachable moment."""
        rng = self.rng
        sent_at = delivery.sent_at
        address = f"{self.address_prefix}.{rng.randrange(256)}.0"
        read_at = minutes_later(sent_at, lognormal_minutes(rng, 25, 1.3, 3 * 24 * 60))
        failed_at = None
        p_failure = failure_rate(self.step) * self.traits.failure_factor * trait.failure
        if rng.random() < min(0.95, p_failure):
            failed_at = read_at
            self.record_failure(delivery, failed_at, address, hits)
        p_report = report_rate(self.step) * self.traits.report_factor * trait.report
        if failed_at is not None:
            p_report = CLICKED_THEN_REPORTED * trait.report
        if rng.random() < min(0.98, p_report):
            if failed_at is not None:
                delivery.reported_at = minutes_later(failed_at, lognormal_minutes(rng, 12, 1.0, 2 * 24 * 60))
            else:
                median = report_minutes(self.step) / max(0.5, trait.report)
                delivery.reported_at = minutes_later(sent_at, lognormal_minutes(rng, median, 1.1, 5 * 24 * 60))
        if failed_at is not None or rng.random() < HUMAN_OPEN_SHARE:
            opened_at = max(sent_at, read_at - datetime.timedelta(seconds=rng.uniform(5, 60)))
            hits.append((Event.Kind.OPEN, opened_at, "html", BROWSER, address, False, [], []))
            while rng.random() < REOPEN_SHARE:
                opened_at = minutes_later(opened_at, lognormal_minutes(rng, 90, 1.0, 3 * 24 * 60))
                hits.append((Event.Kind.OPEN, opened_at, "html", BROWSER, address, False, [], []))
        if failed_at is None or self.failure_kind() == Event.Kind.REPLY:
            return None
        return failed_at + datetime.timedelta(seconds=rng.uniform(2, 20)) if rng.random() < MOMENT_REACHED else None

    def record_failure(self, delivery: Delivery, at: datetime.datetime, address: str, hits: list[tuple]) -> None:
        rng = self.rng
        kind = self.failure_kind()
        if kind == Event.Kind.REPLY:
            delivery.first_replied_at = at
            hits.append((kind, at, "mailbox", "", "", False, [], []))
            return
        agent, source = (PHONE, "qr") if kind == Event.Kind.QR_SCAN else (BROWSER, "url")
        if kind == Event.Kind.ATTACHMENT:
            source = "download"
            delivery.first_attachment_at = at
        elif kind == Event.Kind.QR_SCAN:
            delivery.first_scanned_at = at
        else:
            delivery.first_clicked_at = at
        hits.append((kind, at, source, agent, address, False, [], []))
        hits.append((Event.Kind.CONFIRM, at + datetime.timedelta(seconds=2), source, agent, address, False, [], []))
        form = self.scenario.lure_type in (Scenario.LureType.CREDENTIAL_FORM, Scenario.LureType.QR_CODE)
        if form and rng.random() < SUBMIT_AFTER_CLICK:
            submitted_at = at + datetime.timedelta(seconds=rng.uniform(15, 120))
            delivery.first_submitted_at = submitted_at
            filled = ["username", "password"]
            hits.append((Event.Kind.SUBMIT, submitted_at, "form", agent, address, False, [], filled))

    def write(self) -> Totals:
        """Insert the deliveries, then their events and learning rows (they need the deliveries' ids)."""
        Delivery.objects.bulk_create(self.deliveries, batch_size=BATCH_SIZE)
        events = [
            Event(
                organization_id=delivery.organization_id,
                delivery_id=delivery.pk,
                kind=kind,
                at=at,
                source=source,
                user_agent=agent,
                client_address=address,
                filled_fields=filled,
                automated=automated,
                reasons=reasons,
                classified_at=at + datetime.timedelta(minutes=2),
            )
            for delivery, hits in zip(self.deliveries, self.hits, strict=True)
            for kind, at, source, agent, address, automated, reasons, filled in hits
        ]
        Event.objects.bulk_create(events, batch_size=BATCH_SIZE)
        assignments = self.write_learning()
        return Totals(deliveries=len(self.deliveries), events=len(events), assignments=assignments)

    def write_learning(self) -> int:
        """The teachable moment reached after a failure, and how most of those visits ended."""
        reached = [
            (delivery, moment)
            for delivery, moment in zip(self.deliveries, self.moments, strict=True)
            if moment is not None
        ]
        assignments = Assignment.objects.bulk_create(
            [
                Assignment(
                    organization_id=delivery.organization_id,
                    module=self.module,
                    person_id=delivery.person_id,
                    delivery_id=delivery.pk,
                    assigned_at=moment,
                )
                for delivery, moment in reached
            ],
            batch_size=BATCH_SIZE,
        )
        completions = []
        for assignment in assignments:
            if self.rng.random() >= MOMENT_COMPLETED:
                continue
            seconds = self.rng.randint(60, 420)
            completions.append(
                Completion(
                    organization_id=assignment.organization_id,
                    assignment=assignment,
                    started_at=assignment.assigned_at,
                    last_activity_at=assignment.assigned_at + datetime.timedelta(seconds=seconds),
                    seconds_spent=seconds,
                    completed_at=assignment.assigned_at + datetime.timedelta(seconds=seconds),
                    quiz_score=self.rng.choice((2, 3, 3)),
                    quiz_questions=3,
                )
            )
        Completion.objects.bulk_create(completions, batch_size=BATCH_SIZE)
        return len(assignments)


def teachable_module(ward: Organization, scenario: Scenario) -> Module:
    module, _ = Module.objects.get_or_create(
        organization=ward,
        kind=Module.Kind.TEACHABLE_MOMENT,
        scenario=scenario,
        defaults={"title": scenario.name, "estimated_minutes": 3},
    )
    return module


# --- putting it together ------------------------------------------------------------------------------


def drill_history(
    ward: Organization,
    people: Sequence[Person],
    rounds: Sequence[tuple[int, int]],
    rng: random.Random,
    *,
    traits: WardTraits | None = None,
    today: datetime.date | None = None,
) -> Totals:
    """Run the ``rounds`` ((fiscal year, round number), oldest first) for ``people`` of ``ward``.

    The round's position in the list is its step on the improvement curve, so a series spanning two
    fiscal years keeps improving. A person gets a delivery if on the roster on the round's first day.
    """
    traits = traits or WardTraits.draw(rng)
    today = today or today_in_japan()
    scenarios = round_scenarios()
    profile = sending_profile(ward)
    habits = person_traits(people, rng)
    address_prefix = f"10.{rng.randrange(1, 255)}"
    totals = Totals()
    for step, (fiscal_year, round_number) in enumerate(rounds):
        scenario = scenarios[step % len(scenarios)]
        campaign = create_campaign(ward, profile, scenario, fiscal_year, round_number, today)
        writer = RoundWriter(
            campaign=campaign,
            scenario=scenario,
            step=step,
            traits=traits,
            rng=rng,
            module=teachable_module(ward, scenario),
            address_prefix=address_prefix,
        )
        for person in people:
            if on_roster(person, campaign.launched_at) and rng.random() >= ON_LEAVE_SHARE:
                writer.add(person, habits[person.pk])
        totals.add(writer.write())
        totals.campaigns += 1
        totals.campaign_ids.append(campaign.pk)
    return totals


def generate_wards(
    *,
    wards: int,
    staff: int,
    rounds: int,
    fiscal_year: int,
    seed: int = 20260401,
    code_prefix: str = "synthetic",
    name_prefix: str = "合成",
    progress: Callable[[int, Totals], None] | None = None,
) -> Totals:
    """Create ``wards`` new wards of ``staff`` people with ``rounds`` drills each in ``fiscal_year``.

    Each ward is written in its own transaction. ``progress(ward_number, totals_so_far)`` is called after each.
    """
    rng = random.Random(seed)  # noqa: S311 (reproducible synthetic data, not a secret)
    plan = [(fiscal_year, number) for number in range(1, rounds + 1)]
    totals = Totals()
    for number in range(1, wards + 1):
        with transaction.atomic():
            ward = create_ward(f"{code_prefix}-{number:02d}", f"{name_prefix}第{number}区")
            people = create_roster(ward, staff, fiscal_year, rng)
            ward_totals = drill_history(ward, people, plan, rng, today=datetime.date(fiscal_year + 1, 4, 30))
        ward_totals.wards, ward_totals.people = 1, len(people)
        totals.add(ward_totals)
        if progress:
            progress(number, totals)
    return totals


# --- the demo -----------------------------------------------------------------------------------------

# Small fictional neighbours of デモ区, so the joint view has wards to compare (names never shown there).
DEMO_NEIGHBOURS = (("demo-higashi", "デモ東区", 60), ("demo-nishi", "デモ西区", 45), ("demo-minami", "デモ南区", 30))
DEMO_SEED = 20260402


def demo_rounds(today: datetime.date) -> list[tuple[int, int]]:
    """Last fiscal year's four rounds, then this year's rounds that have started by ``today``."""
    current = fiscal_year_of(today)
    rounds = [(current - 1, number) for number in range(1, 5)]
    rounds += [(current, number) for number in range(1, 5) if round_dates(current, number)[0] <= today]
    return rounds


@transaction.atomic
def seed_demo_outcomes(ward: Organization, *, today: datetime.date | None = None) -> Totals:
    """Past drill rounds for デモ区 and its small neighbours; wards that already have campaigns are left alone.

    Safe to repeat: a second run adds nothing. The demo's people are dated back to before the first seeded
    round (the roster existed then), so participation counts them. Rollups are refreshed afterwards.
    """
    today = today or today_in_japan()
    rng = random.Random(DEMO_SEED)  # noqa: S311 (reproducible demo data, not a secret)
    rounds = demo_rounds(today)
    first_year_start = fiscal_year_bounds(rounds[0][0])[0]
    totals = Totals()
    if not Campaign.objects.filter(organization=ward).exists():
        Person.objects.filter(organization=ward, created_at__gt=first_year_start).update(
            created_at=first_year_start - datetime.timedelta(days=365)
        )
        people = list(Person.objects.filter(organization=ward, active=True))
        totals.add(drill_history(ward, people, rounds, rng, today=today))
    for code, name, staff in DEMO_NEIGHBOURS:
        if Organization.objects.filter(code=code).exists():
            continue
        neighbour = create_ward(code, name)
        people = create_roster(neighbour, staff, rounds[0][0], rng)
        totals.add(drill_history(neighbour, people, rounds, rng, today=today))
    refresh_rollups(totals.campaign_ids)
    return totals


def refresh_rollups(campaign_ids: Sequence[int]) -> None:
    """Compute the metrics rollups of freshly written campaigns, so dashboards show them at once."""
    from mamori.metrics import rollups

    years = Campaign.objects.filter(pk__in=campaign_ids).values_list("organization", "fiscal_year").distinct()
    organizations = Organization.objects.in_bulk({organization_id for organization_id, _year in years})
    for organization_id, fiscal_year in sorted(set(years)):
        rollups.refresh_organization(organizations[organization_id], fiscal_year)
