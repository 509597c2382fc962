"""Rollup refresh: counts on hand-built deliveries with known answers, idempotence, query counts, the worker."""

import datetime

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mamori.core import worker
from mamori.core.models import Person
from mamori.core.tests.makers import make_department, make_organization, make_person
from mamori.drills.models import Campaign, Event
from mamori.learning.models import Assignment, Completion, Module
from mamori.metrics import kpis, rollups
from mamori.metrics.models import CampaignRollup, Dimension, FiscalYearRollup
from mamori.metrics.tests.rollup_builders import deliver, hit, launched_campaign

minutes = datetime.timedelta(minutes=1)
seconds = datetime.timedelta(seconds=1)
LONG_AGO = datetime.datetime(2020, 4, 1, tzinfo=datetime.UTC)


def total_of(campaign) -> CampaignRollup:
    return CampaignRollup.objects.get(campaign=campaign, dimension=Dimension.TOTAL)


class CampaignCountsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-m", "M区")
        cls.soumu = make_department(cls.ward, "総務部/総務課")
        cls.zeimu = make_department(cls.ward, "区民部/税務課")
        cls.people = [
            make_person(cls.ward, f"職員{number}", department=cls.soumu if number < 4 else cls.zeimu)
            for number in range(8)
        ]
        cls.campaign = launched_campaign(cls.ward, 1)

    def test_the_one_hour_rule_counts_3600_seconds_and_not_3601(self):
        people = self.people
        deliver(self.campaign, people[0], reported_at=3600 * seconds)
        deliver(self.campaign, people[1], reported_at=3601 * seconds)
        deliver(self.campaign, people[2], reported_at=10 * minutes)
        deliver(self.campaign, people[3])
        rollups.refresh_campaign(self.campaign)
        total = total_of(self.campaign)
        self.assertEqual((total.delivered, total.reported, total.reported_within_hour), (4, 3, 2))
        # 10 min in (5, 10], 3,600 s in (45, 60], 3,601 s in (60, 90].
        edges = rollups.HISTOGRAM_EDGES_MINUTES
        self.assertEqual(total.report_histogram[edges.index(10)], 1)
        self.assertEqual(total.report_histogram[edges.index(60)], 1)
        self.assertEqual(total.report_histogram[edges.index(90)], 1)
        self.assertEqual(sum(total.report_histogram), 3)

    def test_the_in_campaign_report_rate_stops_at_the_close_and_the_late_report_still_counts_as_a_report(self):
        # SENT is 2026-06-01 10:00 JST; the campaign closed two days later.
        closed_at = datetime.datetime(2026, 6, 3, 10, 0, tzinfo=datetime.UTC)
        Campaign.objects.filter(pk=self.campaign.pk).update(closed_at=closed_at)
        self.campaign.refresh_from_db()
        people = self.people
        deliver(self.campaign, people[0], reported_at=5 * minutes)
        on_the_close = closed_at - datetime.datetime(2026, 6, 1, 1, 0, tzinfo=datetime.UTC)
        deliver(self.campaign, people[1], reported_at=on_the_close)
        deliver(self.campaign, people[2], reported_at=on_the_close + seconds, first_clicked_at=minutes)
        deliver(self.campaign, people[3])
        rollups.refresh_campaign(self.campaign)
        total = total_of(self.campaign)
        self.assertEqual((total.reported, total.reported_in_campaign), (3, 2))

        dashboard = kpis.ward_dashboard(self.ward, 2026)
        self.assertEqual(dashboard.figures["report_rate"].numerator, 2)
        self.assertEqual(dashboard.figures["report_rate"].value, 50.0)
        # The late reporter still reported after clicking: the resilience ratio counts every report.
        self.assertEqual(dashboard.figures["resilience"].value, 3.0)
        self.assertEqual(dashboard.figures["failed_then_reported"].value, 100.0)

    def test_while_a_campaign_is_open_every_report_is_in_it(self):
        Campaign.objects.filter(pk=self.campaign.pk).update(state=Campaign.State.RUNNING, closed_at=None)
        self.campaign.refresh_from_db()
        deliver(self.campaign, self.people[0], reported_at=datetime.timedelta(days=30))
        rollups.refresh_campaign(self.campaign)
        total = total_of(self.campaign)
        self.assertEqual((total.reported, total.reported_in_campaign), (1, 1))

    def test_only_sent_deliveries_count(self):
        deliver(self.campaign, self.people[0])
        deliver(self.campaign, self.people[1], state="queued")
        deliver(self.campaign, self.people[2], state="failed")
        rollups.refresh_campaign(self.campaign)
        self.assertEqual(total_of(self.campaign).delivered, 1)

    def test_automated_hits_are_excluded_from_failures_and_counted_beside(self):
        scanned_only = deliver(self.campaign, self.people[0])
        clicked = deliver(self.campaign, self.people[1], first_clicked_at=5 * minutes)
        hit(scanned_only, Event.Kind.CLICK, automated=True, after=2 * seconds)
        hit(scanned_only, Event.Kind.TRAP, automated=True, after=2 * seconds)
        hit(clicked, Event.Kind.CLICK, automated=True, after=2 * seconds)
        hit(clicked, Event.Kind.CLICK, automated=False, after=5 * minutes)
        hit(clicked, Event.Kind.SUBMIT, automated=None, after=6 * minutes)
        hit(clicked, Event.Kind.CONFIRM, automated=False, after=5 * minutes)  # the page's beacon: not a hit
        rollups.refresh_campaign(self.campaign)
        total = total_of(self.campaign)
        self.assertEqual((total.delivered, total.failed, total.clicked, total.submitted), (2, 1, 1, 0))
        self.assertEqual((total.automated_hits, total.human_hits, total.pending_hits), (3, 1, 1))
        department = CampaignRollup.objects.get(
            campaign=self.campaign, dimension=Dimension.DEPARTMENT, key=str(self.soumu.public_id)
        )
        self.assertEqual((department.automated_hits, department.failed), (3, 1))

    def test_failed_then_reported_needs_the_report_after_the_failure(self):
        deliver(self.campaign, self.people[0], first_clicked_at=5 * minutes, reported_at=10 * minutes)
        deliver(self.campaign, self.people[1], first_clicked_at=20 * minutes, reported_at=3 * minutes)
        deliver(self.campaign, self.people[2], first_attachment_at=5 * minutes, reported_at=5 * minutes)
        deliver(self.campaign, self.people[3], reported_at=2 * minutes)
        deliver(self.campaign, self.people[4], first_submitted_at=2 * minutes, first_clicked_at=1 * minutes)
        rollups.refresh_campaign(self.campaign)
        total = total_of(self.campaign)
        self.assertEqual(total.failed, 4)
        self.assertEqual(total.failed_then_reported, 2)
        self.assertEqual(total.reported_without_failure, 1)
        self.assertEqual((total.clicked, total.attachment, total.submitted), (3, 1, 1))

    def test_repeat_offenders_failed_this_round_and_the_previous_one(self):
        first = self.campaign
        second = launched_campaign(self.ward, 2)
        a, b, c, d = self.people[:4]
        deliver(first, a, first_clicked_at=minutes)
        deliver(first, b, first_scanned_at=minutes)
        deliver(first, c)
        deliver(first, d, first_clicked_at=minutes)  # not in the second round
        deliver(second, a, first_submitted_at=minutes)
        deliver(second, b, reported_at=minutes)
        deliver(second, c, first_clicked_at=minutes)
        rollups.refresh_campaign(second)
        total = total_of(second)
        self.assertEqual((total.previously_failed, total.repeat_failed), (2, 1))
        rollups.refresh_campaign(first)
        self.assertEqual((total_of(first).previously_failed, total_of(first).repeat_failed), (0, 0))

    def test_a_cancelled_round_in_between_is_skipped(self):
        first = self.campaign
        cancelled = launched_campaign(self.ward, 2, state=Campaign.State.CANCELLED)
        third = launched_campaign(self.ward, 3)
        deliver(first, self.people[0], first_clicked_at=minutes)
        deliver(cancelled, self.people[0])
        deliver(third, self.people[0], first_clicked_at=minutes)
        rollups.refresh_campaign(third)
        self.assertEqual(total_of(third).repeat_failed, 1)

    def test_groups_by_department_position_and_employment_type(self):
        for index, person in enumerate(self.people[:6]):
            person.position = "係長" if index < 2 else ""
            person.employment_type = Person.EmploymentType.FISCAL_YEAR if index == 5 else "regular"
            person.save()
            deliver(self.campaign, person, reported_at=minutes if index % 2 else None)
        rollups.refresh_campaign(self.campaign)
        rows = {(row.dimension, row.key): row for row in CampaignRollup.objects.filter(campaign=self.campaign)}
        self.assertEqual(rows[(Dimension.DEPARTMENT, str(self.soumu.public_id))].delivered, 4)
        self.assertEqual(rows[(Dimension.DEPARTMENT, str(self.zeimu.public_id))].delivered, 2)
        # Every ancestor has a row of its own (no own members) so the tree can be drawn from rollups.
        parent = rows[(Dimension.DEPARTMENT, str(self.soumu.parent.public_id))]
        self.assertEqual((parent.delivered, parent.path, parent.label), (0, "総務部", "総務部"))
        self.assertEqual(rows[(Dimension.POSITION, "係長")].delivered, 2)
        self.assertEqual(rows[(Dimension.POSITION, "")].delivered, 4)
        self.assertEqual(rows[(Dimension.EMPLOYMENT, "fiscal_year")].delivered, 1)
        self.assertEqual(rows[(Dimension.EMPLOYMENT, "regular")].reported, 2)
        self.assertEqual(rows[(Dimension.DIFFICULTY, "moderately")].weighted_delivered, 6.0)

    def test_refresh_is_idempotent_and_drops_groups_that_vanished(self):
        deliver(self.campaign, self.people[0], reported_at=minutes)
        deliver(self.campaign, self.people[5], reported_at=minutes)
        rollups.refresh_campaign(self.campaign)
        first = sorted(
            CampaignRollup.objects.filter(campaign=self.campaign).values_list("dimension", "key", "reported")
        )
        rollups.refresh_campaign(self.campaign)
        second = sorted(
            CampaignRollup.objects.filter(campaign=self.campaign).values_list("dimension", "key", "reported")
        )
        self.assertEqual(first, second)
        # The tax department's only recipient moves: its row goes.
        Person.objects.filter(pk=self.people[5].pk).update(department=self.soumu)
        rollups.refresh_campaign(self.campaign)
        keys = set(CampaignRollup.objects.filter(campaign=self.campaign).values_list("key", flat=True))
        self.assertNotIn(str(self.zeimu.public_id), keys)
        self.assertIn(str(self.soumu.public_id), keys)

    def test_a_campaign_without_deliveries_still_gets_its_total_row(self):
        rollups.refresh_campaign(self.campaign)
        self.assertEqual(total_of(self.campaign).delivered, 0)

    def test_the_number_of_queries_does_not_grow_with_deliveries_or_events(self):
        deliver(self.campaign, self.people[0], reported_at=minutes)
        with CaptureQueriesContext(connection) as small:
            rollups.refresh_campaign(self.campaign)
        for person in self.people[1:]:
            delivery = deliver(self.campaign, person, first_clicked_at=minutes, reported_at=2 * minutes)
            hit(delivery, Event.Kind.CLICK, automated=False)
            hit(delivery, Event.Kind.OPEN, automated=True)
        make_department(self.ward, "区民部/税務課/課税係")
        with CaptureQueriesContext(connection) as large:
            rollups.refresh_campaign(self.campaign)
        self.assertEqual(len(small.captured_queries), len(large.captured_queries))
        self.assertLessEqual(len(large.captured_queries), 12)


class FiscalYearTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-f", "F区")
        cls.department = make_department(cls.ward, "総務部/総務課")
        long_ago = LONG_AGO
        cls.regular = make_person(cls.ward, "正規", department=cls.department, created_at=long_ago)
        cls.non_regular = make_person(
            cls.ward, "会計年度", department=cls.department, employment_type="fiscal_year", created_at=long_ago
        )
        left_in_year = datetime.datetime(2026, 8, 1, tzinfo=datetime.UTC)
        cls.drilled_leaver = make_person(
            cls.ward,
            "退職A",
            department=cls.department,
            active=False,
            deactivated_at=left_in_year,
            created_at=long_ago,
        )
        cls.undrilled_leaver = make_person(
            cls.ward,
            "退職B",
            department=cls.department,
            active=False,
            deactivated_at=left_in_year,
            created_at=long_ago,
        )
        cls.first = launched_campaign(cls.ward, 1, fiscal_year=2026)
        cls.second = launched_campaign(cls.ward, 2, fiscal_year=2026)
        deliver(cls.first, cls.regular)
        deliver(cls.second, cls.regular)
        deliver(cls.first, cls.drilled_leaver)
        deliver(cls.second, cls.non_regular, state="failed")  # never reached them

    def year(self, dimension=Dimension.TOTAL, key="", fiscal_year=2026) -> FiscalYearRollup:
        return FiscalYearRollup.objects.get(
            organization=self.ward, fiscal_year=fiscal_year, dimension=dimension, key=key
        )

    def test_roster_counts_staff_in_post_and_leavers_who_were_drilled(self):
        rollups.refresh_fiscal_year(self.ward, 2026)
        total = self.year()
        # regular + non-regular (in post) + the leaver who got a drill; the undrilled leaver is out.
        self.assertEqual((total.roster, total.reached, total.deliveries, total.leavers), (3, 2, 3, 1))
        self.assertEqual(total.drills_distribution, [1, 1, 1, 0, 0, 0])

    def test_non_regular_staff_are_in_the_roster_and_their_own_row(self):
        rollups.refresh_fiscal_year(self.ward, 2026)
        non_regular = self.year(Dimension.EMPLOYMENT, "fiscal_year")
        self.assertEqual((non_regular.roster, non_regular.reached), (1, 0))
        self.assertEqual(self.year(Dimension.DEPARTMENT, str(self.department.public_id)).roster, 3)

    def test_a_past_year_counts_who_was_in_post_at_its_end(self):
        # 2025年度 ended on 2026-04-01: the two who left in August 2026 were still in post then, and a
        # person who joined afterwards was not.
        make_person(self.ward, "新規採用", department=self.department)
        rollups.refresh_fiscal_year(self.ward, 2025)
        self.assertEqual(self.year(fiscal_year=2025).roster, 4)

    def test_the_fiscal_year_turns_at_midnight_in_japan(self):
        # Left at 08:00 on 1 April JST (23:00 UTC the day before): in post at the end of 2025年度, and an
        # undrilled leaver of 2026年度.
        make_person(
            self.ward, "年度初日に退職", department=self.department, active=False, created_at=LONG_AGO,
            deactivated_at=datetime.datetime(2026, 3, 31, 23, 0, tzinfo=datetime.UTC),
        )  # fmt: skip
        rollups.refresh_fiscal_year(self.ward, 2025)
        rollups.refresh_fiscal_year(self.ward, 2026)
        self.assertEqual(self.year(fiscal_year=2025).roster, 5)
        self.assertEqual(self.year(fiscal_year=2026).roster, 3)

    def test_learning_assigned_in_the_year_and_completed(self):
        module = Module.objects.create(organization=self.ward, title="訓練の振り返り")
        in_year = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
        done = Assignment.objects.create(
            organization=self.ward, module=module, person=self.regular, assigned_at=in_year
        )
        Completion.objects.create(organization=self.ward, assignment=done, completed_at=in_year)
        Assignment.objects.create(organization=self.ward, module=module, person=self.non_regular, assigned_at=in_year)
        Assignment.objects.create(
            organization=self.ward,
            module=module,
            person=self.non_regular,
            assigned_at=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC),
        )
        rollups.refresh_fiscal_year(self.ward, 2026)
        total = self.year()
        self.assertEqual((total.learning_assigned, total.learning_completed), (2, 1))

    def test_the_number_of_queries_does_not_grow_with_people_or_deliveries(self):
        with CaptureQueriesContext(connection) as small:
            rollups.refresh_fiscal_year(self.ward, 2026)
        other = make_department(self.ward, "区民部/税務課")
        for number in range(6):
            person = make_person(self.ward, f"追加{number}", department=other, position="主事", created_at=LONG_AGO)
            deliver(self.first, person)
        with CaptureQueriesContext(connection) as large:
            rollups.refresh_fiscal_year(self.ward, 2026)
        self.assertEqual(len(small.captured_queries), len(large.captured_queries))
        self.assertEqual(self.year().reached, 8)

    def test_refresh_is_idempotent(self):
        rollups.refresh_fiscal_year(self.ward, 2026)
        rollups.refresh_fiscal_year(self.ward, 2026)
        self.assertEqual(FiscalYearRollup.objects.filter(organization=self.ward, dimension=Dimension.TOTAL).count(), 1)


class WorkerTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-w", "W区")
        cls.person = make_person(cls.ward, "職員")
        cls.running = launched_campaign(cls.ward, 1, state=Campaign.State.RUNNING)
        cls.old = launched_campaign(cls.ward, 2, state=Campaign.State.CLOSED)
        Campaign.objects.filter(pk=cls.old.pk).update(closed_at=timezone.now() - datetime.timedelta(days=60))
        cls.draft = launched_campaign(cls.ward, 3, state=Campaign.State.DRAFT)
        deliver(cls.running, cls.person)

    def test_the_handler_is_registered(self):
        self.assertIn(rollups.refresh_due_rollups, worker.HANDLERS)

    def test_due_campaigns_are_refreshed_once_then_not_again_until_stale(self):
        now = timezone.now()
        self.assertTrue(rollups.refresh_due_rollups(now=now))
        # Both launched campaigns had no rollup; the draft is never rolled up.
        self.assertEqual(
            set(CampaignRollup.objects.filter(dimension=Dimension.TOTAL).values_list("campaign_id", flat=True)),
            {self.running.pk, self.old.pk},
        )
        self.assertFalse(rollups.refresh_due_rollups(now=now + datetime.timedelta(seconds=10)))
        later = now + datetime.timedelta(seconds=301)
        self.assertEqual(rollups.due_campaigns(now=later), [self.running])

    def test_drain_terminates(self):
        worker.drain(max_rounds=5)
        self.assertFalse(rollups.refresh_due_rollups())

    def test_refresh_organization_does_every_launched_campaign_and_the_year(self):
        self.assertEqual(rollups.refresh_organization(self.ward, 2026), 2)
        self.assertTrue(FiscalYearRollup.objects.filter(organization=self.ward, fiscal_year=2026).exists())

    def test_a_failing_after_refresh_hook_is_logged_and_the_years_are_still_refreshed(self):
        other = make_organization("ward-w2", "W2区")
        deliver(launched_campaign(other, 1, state=Campaign.State.RUNNING), make_person(other, "職員"))
        called = []

        def broken_hook(organization, fiscal_year):
            called.append(organization.pk)
            raise RuntimeError("chart drawing failed")

        rollups.AFTER_REFRESH.append(broken_hook)
        self.addCleanup(rollups.AFTER_REFRESH.remove, broken_hook)

        with self.assertLogs("mamori.metrics.rollups", level="ERROR") as logs:
            rollups.refresh_due_rollups()

        self.assertEqual(sorted(called), sorted([self.ward.pk, other.pk]))
        self.assertEqual(FiscalYearRollup.objects.filter(dimension=Dimension.TOTAL).count(), 2)
        self.assertIn("broken_hook", logs.output[0])
