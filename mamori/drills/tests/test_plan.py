import datetime
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mamori.core.models import Membership, Person
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_department, make_person, make_user
from mamori.drills.models import Delivery
from mamori.drills.plan import fiscal_year_plan
from mamori.drills.schedule import JST
from mamori.drills.tests.makers import make_campaign, make_scenario, make_sending_profile

AS_OF = datetime.date(2026, 11, 24)  # two quarters of 2026年度 have ended: two rounds expected so far
IN_FY_2026 = datetime.datetime(2026, 6, 10, 10, 0, tzinfo=JST)
IN_FY_2025 = datetime.datetime(2026, 3, 31, 23, 59, tzinfo=JST)
Employment = Person.EmploymentType


class PlanTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.citizens = make_department(cls.ward_a, "区民部/区民課")
        cls.four_rounds = make_person(cls.ward_a, "四回 受信", department=cls.tax)
        cls.five_rounds = make_person(
            cls.ward_a, "五回 受信", department=cls.tax, employment_type=Employment.FISCAL_YEAR
        )
        cls.one_round = make_person(
            cls.ward_a, "一回 受信", department=cls.general_affairs, employment_type=Employment.FISCAL_YEAR
        )
        cls.no_round = make_person(cls.ward_a, "未受信", department=cls.citizens, employment_type=Employment.DISPATCHED)
        cls.retired = make_person(cls.ward_a, "退職者", department=cls.tax, active=False)
        scenario = make_scenario(cls.ward_a)
        profile = make_sending_profile(cls.ward_a)
        cls.campaigns = [
            make_campaign(cls.ward_a, scenarios=[scenario], profile=profile, round_number=n) for n in range(1, 7)
        ]
        last_year = make_campaign(cls.ward_a, scenarios=[scenario], profile=profile, fiscal_year=2025)
        received = {cls.four_rounds: 4, cls.five_rounds: 5, cls.one_round: 1, cls.person_a: 2, cls.retired: 3}
        for person, rounds in received.items():
            for campaign in cls.campaigns[:rounds]:
                cls.deliver(person, campaign, Delivery.State.SENT, IN_FY_2026)
        # Not counted: last year's mail, mail not sent (queued, failed), and other wards' staff.
        cls.deliver(cls.one_round, last_year, Delivery.State.SENT, IN_FY_2025)
        cls.deliver(cls.one_round, cls.campaigns[4], Delivery.State.QUEUED, None)
        cls.deliver(cls.one_round, cls.campaigns[5], Delivery.State.FAILED, None)
        ward_b_campaign = make_campaign(cls.ward_b, scenarios=[make_scenario(cls.ward_b)])
        cls.deliver(cls.person_b, ward_b_campaign, Delivery.State.SENT, IN_FY_2026)

    @staticmethod
    def deliver(person, campaign, state, sent_at):
        Delivery.objects.create(
            organization=campaign.organization,
            campaign=campaign,
            person=person,
            scenario=campaign.scenarios.first(),
            email=person.email,
            scheduled_at=sent_at or IN_FY_2026,
            state=state,
            sent_at=sent_at,
        )


class FiscalYearPlanTests(PlanTestCase):
    def plan(self, **kwargs):
        people = Person.objects.filter(organization=self.ward_a)
        return fiscal_year_plan(self.ward_a, people, 2026, as_of=AS_OF, **kwargs)

    def test_the_distribution_counts_sent_mail_of_the_fiscal_year_for_active_staff(self):
        plan = self.plan()
        self.assertEqual(plan.overall.counts, [1, 1, 1, 0, 2])
        self.assertEqual(plan.overall.total, 5)
        self.assertEqual(plan.overall.on_target, 2)
        self.assertAlmostEqual(plan.overall.on_target_percent, 40.0)

    def test_departments_are_counted_at_the_chosen_level(self):
        by_division = {group.label: group.counts for group in self.plan(level=1).by_department}
        self.assertEqual(
            by_division,
            {
                "総務部 › 総務課": [0, 1, 1, 0, 0],
                "区民部 › 税務課": [0, 0, 0, 0, 2],
                "区民部 › 区民課": [1, 0, 0, 0, 0],
            },
        )
        by_bureau = {group.label: group.counts for group in self.plan(level=0).by_department}
        self.assertEqual(by_bureau, {"総務部": [0, 1, 1, 0, 0], "区民部": [1, 0, 0, 0, 2]})

    def test_non_regular_staff_are_counted_by_employment_type(self):
        by_type = {group.label: group.counts for group in self.plan().by_employment_type}
        self.assertEqual(by_type, {"正規": [0, 0, 1, 0, 1], "会計年度任用": [0, 1, 0, 0, 1], "派遣": [1, 0, 0, 0, 0]})

    def test_the_missed_are_those_behind_the_quarterly_pace(self):
        plan = self.plan()
        self.assertEqual(plan.expected_so_far, 2)
        self.assertEqual([(p.name, p.rounds) for p in plan.missed], [("未受信", 0), ("一回 受信", 1)])

    def test_nobody_is_missed_before_the_first_quarter_ends(self):
        people = Person.objects.filter(organization=self.ward_a)
        plan = fiscal_year_plan(self.ward_a, people, 2026, as_of=datetime.date(2026, 6, 30))
        self.assertFalse(plan.missed.exists())

    def test_the_cost_does_not_grow_with_the_number_of_people(self):
        with CaptureQueriesContext(connection) as before:
            self.plan().missed.count()
        for number in range(30):
            make_person(self.ward_a, f"追加{number}", department=self.citizens)
        with self.assertNumQueries(len(before)):
            self.plan().missed.count()


@mock.patch("mamori.drills.views.campaigns.today_in_japan", return_value=AS_OF)
class PlanPageTests(PlanTestCase):
    def test_it_shows_the_distribution_and_who_was_missed(self, _today):
        self.login(self.alice)
        response = self.client.get(reverse("drills:plan"), {"year": 2026})
        self.assertContains(response, "在籍職員 5 人のうち、年4回以上受け取った職員は 2 人（40.0%）です。")
        self.assertContains(response, "受け取った回数が目安（2 回）より少ない職員: 2 人")
        self.assertContains(response, "未受信")
        self.assertContains(response, "会計年度任用")

    def test_an_auditor_and_csirt_may_see_the_plan(self, _today):
        csirt = make_user("carol", organization=self.ward_a, role=Membership.Role.CSIRT)
        for user in (self.bob, csirt):
            self.login(user)
            self.assertEqual(self.client.get(reverse("drills:plan")).status_code, 200)

    def test_a_dept_manager_sees_their_own_department_only(self, _today):
        manager = make_user("dave", organization=self.ward_a, role=Membership.Role.DEPT_MANAGER)
        Membership.objects.filter(user=manager).update(department=self.general_affairs)
        self.login(manager)
        response = self.client.get(reverse("drills:plan"), {"year": 2026})
        self.assertContains(response, "在籍職員 2 人のうち")
        self.assertContains(response, "一回 受信")
        self.assertNotContains(response, "未受信")

    def test_charlie_sees_nothing_of_ward_a(self, _today):
        self.login(self.charlie)
        response = self.client.get(reverse("drills:plan"), {"year": 2026})
        self.assertContains(response, "在籍職員 1 人のうち、年4回以上受け取った職員は 0 人")
        self.assertNotContains(response, "未受信")
        self.assertNotContains(response, "税務課")

    def test_the_missed_list_is_paginated(self, _today):
        for number in range(60):
            make_person(self.ward_a, f"追加{number:02d}", department=self.citizens)
        self.login(self.alice)
        response = self.client.get(reverse("drills:plan"), {"year": 2026, "page": 2})
        self.assertContains(response, "2 / 2 ページ")
        self.assertEqual(len(response.context["page"].object_list), 12)

    def test_an_unknown_year_falls_back_to_the_current_one(self, _today):
        self.login(self.alice)
        response = self.client.get(reverse("drills:plan"), {"year": "99999", "level": "x"})
        self.assertEqual(response.status_code, 200)
