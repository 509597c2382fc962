"""The KPI figures over the API: a ward's dashboard (whole ward or a manager's sub-tree) and the joint view."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from mamori.accounts.models import APIToken
from mamori.core.models import Membership, Organization
from mamori.core.tests.makers import make_department, make_organization, make_user
from mamori.metrics import rollups
from mamori.metrics.tests.rollup_builders import deliver, launched_campaign
from mamori.metrics.tests.test_views import MINUTES, STAFF_NAME, MetricsTestCase, drill_staff, grow

DASHBOARD = "/api/v1/metrics/dashboard"
JOINT = "/api/v1/metrics/joint"


def figure(figures: list[dict], key: str) -> dict:
    return next(item for item in figures if item["key"] == key)


class MetricsAPITestCase(MetricsTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        _, cls.alice_token = APIToken.issue(user=cls.alice, organization=cls.ward_a, name="dashboard")
        _, cls.manager_token = APIToken.issue(user=cls.manager, organization=cls.ward_a, name="manager")
        _, cls.charlie_token = APIToken.issue(user=cls.charlie, organization=cls.ward_b, name="charlie")

    def call(self, url: str, token: str, **query):
        return self.client.get(url, query, headers={"Authorization": f"Bearer {token}"})


class DashboardAPITests(MetricsAPITestCase):
    def test_it_returns_the_ward_s_figures_rounds_and_breakdowns(self):
        response = self.call(DASHBOARD, self.alice_token, fiscal_year=2026)

        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["organization"], "A区")
        self.assertEqual(body["fiscal_year"], 2026)
        report = figure(body["figures"], "report_rate_1h")
        self.assertEqual((report["value"], report["numerator"], report["denominator"]), (50.0, 6, 12))
        self.assertEqual(report["status"], "warn")
        self.assertEqual(report["target"], 80)
        self.assertEqual(figure(body["figures"], "failure_rate")["display"], "33.3%")
        self.assertEqual([point["label"] for point in body["rounds"]], ["2026年度 第1回"])
        self.assertEqual(body["rounds"][0]["campaign"], str(self.campaign.public_id))
        self.assertIn(str(self.tax.public_id), [row["key"] for row in body["departments"]])
        self.assertTrue(body["employment_types"])
        self.assertIsNotNone(body["computed_at"])
        # The round closed just now: still recomputed by the worker, within the stated lag.
        self.assertTrue(body["refreshing"])
        self.assertEqual(body["stale_seconds"], rollups.staleness_seconds())
        self.assertNotIn(STAFF_NAME, response.content.decode())

    def test_a_manager_s_token_gets_his_sub_tree_only(self):
        response = self.call(DASHBOARD, self.manager_token, fiscal_year=2026)

        body = response.json()
        self.assertEqual(body["department"], "総務部")
        self.assertEqual(figure(body["figures"], "report_rate_1h")["denominator"], 6)
        self.assertNotIn("税務課", response.content.decode())
        self.assertEqual(body["positions"], [])

    def test_a_manager_s_small_team_stays_anonymous(self):
        small = make_department(self.ward_a, "区民部/税務課/小係")
        campaign = launched_campaign(self.ward_a, 2)
        for person in drill_staff(self.ward_a, [small], per_department=2, first_number=900):
            deliver(campaign, person, reported_at=5 * MINUTES)
        rollups.refresh_organization(self.ward_a, 2026)
        manager = make_user("eve", organization=self.ward_a, role=Membership.Role.DEPT_MANAGER)
        Membership.objects.filter(user=manager).update(department=small)
        _, token = APIToken.issue(user=manager, organization=self.ward_a, name="small")

        response = self.call(DASHBOARD, token, fiscal_year=2026)

        self.assertEqual(response.status_code, 403)
        self.assertIn("5 人未満", response.json()["detail"])
        self.assertNotIn("100.0", response.content.decode())

    def test_a_manager_s_token_cannot_ask_for_another_department(self):
        response = self.call(DASHBOARD, self.manager_token, department=str(self.tax.public_id))

        self.assertEqual(response.status_code, 404)

    def test_charlie_s_token_sees_nothing_of_ward_a(self):
        own = self.call(DASHBOARD, self.charlie_token, fiscal_year=2026)
        foreign = self.call(DASHBOARD, self.charlie_token, department=str(self.tax.public_id))

        self.assertEqual(own.status_code, 200)
        self.assertEqual(own.json()["rounds"], [])
        self.assertNotIn("A区", own.content.decode())
        self.assertEqual(foreign.status_code, 404)
        self.assertNotIn("税務課", foreign.content.decode())

    def test_a_fiscal_year_out_of_range_is_refused(self):
        response = self.call(DASHBOARD, self.alice_token, fiscal_year=12026)

        self.assertEqual(response.status_code, 422)

    def test_a_joint_admin_token_may_not_read_a_ward_dashboard(self):
        joint_admin = make_user("jo", organization=self.ward_a, role=Membership.Role.JOINT_ADMIN)
        _, token = APIToken.issue(user=joint_admin, organization=self.ward_a, name="joint")

        self.assertEqual(self.call(DASHBOARD, token).status_code, 403)

    def test_it_needs_a_token(self):
        self.assertEqual(self.client.get(DASHBOARD).status_code, 401)

    def test_its_query_count_does_not_grow_with_rounds_and_departments(self):
        self.call(DASHBOARD, self.alice_token)  # the token's first use writes its last_used_at once
        with CaptureQueriesContext(connection) as small:
            self.call(DASHBOARD, self.alice_token, fiscal_year=2026)
        grow(self.ward_a, rounds=range(2, 4), departments=4)

        with self.assertNumQueries(len(small.captured_queries)):
            response = self.call(DASHBOARD, self.alice_token, fiscal_year=2026)

        self.assertEqual(len(response.json()["rounds"]), 3)


class JointAPITests(MetricsAPITestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        joint_body = make_organization("joint-csirt", "特別区共同CSIRT", kind=Organization.Kind.JOINT)
        cls.joint_admin = make_user("joanna", organization=joint_body, role=Membership.Role.JOINT_ADMIN)
        _, cls.joint_token = APIToken.issue(user=cls.joint_admin, organization=joint_body, name="joint")
        campaign = launched_campaign(cls.ward_b, 1)
        for person in drill_staff(cls.ward_b, [make_department(cls.ward_b, "企画部")], per_department=6):
            deliver(campaign, person, reported_at=20 * MINUTES)
        rollups.refresh_organization(cls.ward_b, 2026)

    def test_every_ward_is_anonymised_with_the_average(self):
        response = self.call(JOINT, self.joint_token, fiscal_year=2026)

        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["wards_with_data"], 2)
        self.assertEqual(sorted(ward["label"] for ward in body["wards"]), ["区A", "区B"])
        self.assertFalse(any(ward["own"] for ward in body["wards"]))
        self.assertEqual(figure(body["average"], "report_rate_1h")["value"], 75.0)
        text = json.dumps(body, ensure_ascii=False)
        for secret in ("A区", "B区", "ward-a", "ward-b", str(self.ward_a.public_id), str(self.campaign.public_id)):
            self.assertNotIn(secret, text)
        self.assertNotIn("campaign", body["wards"][0]["rounds"][0])

    def test_a_token_for_a_ward_names_that_ward_only(self):
        Membership.objects.create(user=self.alice, organization=self.ward_a, role=Membership.Role.JOINT_ADMIN)

        response = self.call(JOINT, self.alice_token, fiscal_year=2026)

        labels = sorted(ward["label"] for ward in response.json()["wards"])
        self.assertEqual(len(labels), 2)
        self.assertIn("A区", labels)
        self.assertNotIn("B区", response.content.decode())

    def test_only_a_joint_admin_may_read_it(self):
        for token in (self.alice_token, self.manager_token, self.charlie_token):
            with self.subTest(token=token[:10]):
                response = self.call(JOINT, token)
                self.assertEqual(response.status_code, 403)
                self.assertNotIn("区A", response.content.decode())
