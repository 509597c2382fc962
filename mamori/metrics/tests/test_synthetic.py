"""The synthetic drill outcomes: consistent with what the drill pipeline itself would have stored."""

import datetime

from django.db.models import Count, F, Q
from django.test import TestCase

from mamori.core.models import Organization, Person
from mamori.drills.fiscal import fiscal_year_of
from mamori.drills.models import Campaign, Delivery, Event
from mamori.drills.results import HUMAN_FAILURE
from mamori.learning.models import Assignment
from mamori.metrics import synthetic


class GeneratedWardsTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.totals = synthetic.generate_wards(wards=2, staff=200, rounds=4, fiscal_year=2025, seed=7)

    def test_it_writes_what_it_reports(self):
        self.assertEqual(Organization.objects.filter(code__startswith="synthetic-").count(), 2)
        self.assertEqual(self.totals.people, 400)
        self.assertEqual(Campaign.objects.filter(pk__in=self.totals.campaign_ids).count(), 8)
        self.assertEqual(Delivery.objects.count(), self.totals.deliveries)
        self.assertEqual(Event.objects.count(), self.totals.events)
        self.assertEqual(Assignment.objects.count(), self.totals.assignments)
        self.assertGreater(self.totals.events, self.totals.deliveries)

    def test_failures_fall_over_the_rounds_like_the_seed(self):
        rates = []
        for round_number in range(1, 5):
            sent = Delivery.objects.filter(campaign__round_number=round_number, state=Delivery.State.SENT)
            rates.append(sent.filter(HUMAN_FAILURE).count() / sent.count())
        self.assertGreater(rates[0], 0.14)
        self.assertLess(rates[3], 0.11)
        self.assertGreater(rates[0], rates[3] * 1.8)

    def test_reports_come_after_delivery_and_rise(self):
        sent = Delivery.objects.filter(state=Delivery.State.SENT)
        self.assertFalse(sent.filter(reported_at__lt=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)).exists())
        for delivery in sent.exclude(reported_at=None)[:200]:
            self.assertGreater(delivery.reported_at, delivery.sent_at)
        first = sent.filter(campaign__round_number=1)
        fourth = sent.filter(campaign__round_number=4)
        self.assertGreater(
            fourth.exclude(reported_at=None).count() / fourth.count(),
            first.exclude(reported_at=None).count() / first.count() + 0.15,
        )
        self.assertTrue(sent.filter(HUMAN_FAILURE, reported_at__isnull=False).exists(), "clicked then reported")

    def test_every_failure_time_has_its_human_event_and_automated_hits_set_none(self):
        failed = Delivery.objects.exclude(first_clicked_at=None)
        self.assertTrue(failed.exists())
        for delivery in failed[:100]:
            self.assertTrue(
                delivery.events.filter(kind=Event.Kind.CLICK, automated=False, at=delivery.first_clicked_at).exists()
            )
        automated = Event.objects.filter(automated=True)
        self.assertTrue(automated.filter(kind=Event.Kind.TRAP).exists())
        # A delivery with only automated hits has no failure time: the KPIs do not count scanners.
        scanned_only = (
            Delivery.objects.annotate(human=Count("events", filter=Q(events__automated=False)))
            .filter(human=0, events__automated=True)
            .distinct()
        )
        self.assertTrue(scanned_only.exists())
        self.assertFalse(scanned_only.filter(HUMAN_FAILURE).exists())
        self.assertFalse(Event.objects.filter(automated=None).exists())

    def test_leavers_and_joiners_are_drilled_only_while_on_the_roster(self):
        leavers = Person.objects.filter(active=False)
        self.assertTrue(leavers.exists())
        self.assertFalse(Delivery.objects.filter(person__active=False, scheduled_at__gte=F("person__deactivated_at")))
        self.assertTrue(Delivery.objects.filter(person__active=False).exists(), "drilled before they left")
        joiners = Person.objects.filter(created_at__gt=datetime.datetime(2025, 4, 1, tzinfo=datetime.UTC))
        self.assertTrue(joiners.exists())
        for person in joiners:
            for delivery in person.deliveries.select_related("campaign"):
                self.assertGreaterEqual(delivery.campaign.launched_at, person.created_at)
        self.assertTrue(Person.objects.exclude(employment_type=Person.EmploymentType.REGULAR).exists())

    def test_the_same_seed_gives_the_same_history(self):
        again = synthetic.generate_wards(wards=2, staff=200, rounds=4, fiscal_year=2025, seed=7, code_prefix="again")
        self.assertEqual(again.deliveries, self.totals.deliveries)
        self.assertEqual(again.events, self.totals.events)

        def history(prefix: str) -> list:
            deliveries = Delivery.objects.filter(organization__code__startswith=prefix).order_by("pk")
            return list(deliveries.values_list("first_clicked_at", "reported_at", "person__employee_number")[:50])

        self.assertEqual(history("again-"), history("synthetic-"))


class RoundDatesTest(TestCase):
    def test_rounds_fall_one_a_quarter_inside_the_fiscal_year_on_weekdays(self):
        for round_number in range(1, 5):
            starts_on, ends_on = synthetic.round_dates(2026, round_number)
            self.assertEqual(fiscal_year_of(starts_on), 2026)
            self.assertLess(starts_on.weekday(), 5)
            self.assertEqual((ends_on - starts_on).days, synthetic.ROUND_DAYS - 1)

    def test_the_curve_is_the_seeds(self):
        self.assertAlmostEqual(synthetic.failure_rate(0), 0.227)
        self.assertAlmostEqual(synthetic.failure_rate(3), 0.073)
        self.assertLess(synthetic.report_minutes(3), synthetic.report_minutes(0))

    def test_demo_rounds_are_last_year_and_this_years_started_ones(self):
        rounds = synthetic.demo_rounds(datetime.date(2026, 12, 6))
        self.assertEqual(rounds, [(2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2), (2026, 3)])


class DemoOutcomesTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        from mamori.core.demo import seed_demo_ward

        cls.ward = seed_demo_ward()
        cls.totals = synthetic.seed_demo_outcomes(cls.ward, today=datetime.date(2026, 12, 6))

    def test_the_demo_ward_and_its_neighbours_get_past_rounds_and_rollups(self):
        from mamori.metrics import kpis
        from mamori.metrics.models import CampaignRollup

        self.assertEqual(Campaign.objects.filter(organization=self.ward).count(), 7)
        self.assertEqual(Campaign.objects.filter(organization=self.ward, state=Campaign.State.CLOSED).count(), 7)
        neighbours = Organization.objects.filter(code__in=[code for code, _name, _staff in synthetic.DEMO_NEIGHBOURS])
        self.assertEqual(neighbours.filter(kind=Organization.Kind.WARD).count(), 3)
        self.assertTrue(CampaignRollup.objects.filter(organization=self.ward).exists())
        dashboard = kpis.ward_dashboard(self.ward, 2025)
        self.assertEqual(len(dashboard.rounds), 4)
        self.assertIsNotNone(dashboard.figures["report_rate_1h"].value)
        self.assertEqual(len(kpis.ward_dashboard(self.ward, 2026).rounds), 3)

    def test_the_demo_staff_are_drilled_and_stay_unchanged_in_number(self):
        people = Person.objects.filter(organization=self.ward)
        self.assertEqual(people.count(), 300)
        self.assertEqual(people.filter(active=True).count(), 300)
        self.assertGreater(Delivery.objects.filter(organization=self.ward).count(), 7 * 280)

    def test_seeding_again_adds_nothing(self):
        before = (Campaign.objects.count(), Delivery.objects.count(), Event.objects.count(), Person.objects.count())
        again = synthetic.seed_demo_outcomes(self.ward, today=datetime.date(2026, 12, 6))
        self.assertEqual(again.deliveries, 0)
        after = (Campaign.objects.count(), Delivery.objects.count(), Event.objects.count(), Person.objects.count())
        self.assertEqual(after, before)
