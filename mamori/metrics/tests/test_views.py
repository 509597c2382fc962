"""The metrics pages: the ward dashboard, the refresh button, a department's view, the ranking, the joint view."""

import base64
import datetime
import re
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache
from django.db import connection
from django.test import SimpleTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from mamori.core.models import AuditEntry, Membership, Organization, Person
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_department, make_organization, make_person, make_user
from mamori.drills.models import Campaign
from mamori.metrics import charts, kpis, rollups, views
from mamori.metrics.models import CampaignRollup, FiscalYearRollup
from mamori.metrics.tests.rollup_builders import deliver, launched_campaign

MINUTES = datetime.timedelta(minutes=1)
STAFF_NAME = "訓練対象職員"
REPORT_TARGET = kpis.KPIS["report_rate_1h"].target_label  # 「80%以上」, as kpis words it


def drill_staff(organization, departments, *, per_department: int, first_number: int = 0) -> list[Person]:
    """``per_department`` people in each department; the first of each is a 会計年度任用職員."""
    people = []
    for department in departments:
        for number in range(per_department):
            people.append(
                make_person(
                    organization,
                    f"{STAFF_NAME}{first_number + len(people):03d}",
                    department=department,
                    position="主任" if number % 2 else "主事",
                    employment_type=Person.EmploymentType.FISCAL_YEAR if number == 0 else Person.EmploymentType.REGULAR,
                )
            )
    return people


def run_round(organization, round_number: int, people: list[Person], *, fiscal_year: int = 2026):
    """A closed round: every other person reports within 10 minutes, every third clicks first."""
    starts_on = datetime.date(fiscal_year, 4, 1) + datetime.timedelta(days=50 * (round_number - 1))
    campaign = launched_campaign(organization, round_number, fiscal_year=fiscal_year, starts_on=starts_on)
    for index, person in enumerate(people):
        times = {}
        if index % 2 == 0:
            times["reported_at"] = 10 * MINUTES
        if index % 3 == 0:
            times["first_clicked_at"] = 2 * MINUTES
        deliver(campaign, person, **times)
    return campaign


def grow(organization, *, rounds: range, departments: int, per_department: int = 6) -> None:
    """More rounds and more departments for the query-count tests, then refreshed."""
    paths = [f"拡張部{number}/拡張課{number}" for number in range(departments)]
    people = drill_staff(
        organization,
        [make_department(organization, path) for path in paths],
        per_department=per_department,
        first_number=500,
    )
    for round_number in rounds:
        run_round(organization, round_number, people)
    rollups.refresh_organization(organization, 2026)


def decoded_images(html: str) -> list[str]:
    return [
        base64.b64decode(match).decode()
        for match in re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)
    ]


class MetricsTestCase(BaseTestCase):
    """Ward A ran round 1 of 2026 for 12 people in two departments; ward B ran nothing."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.people = drill_staff(cls.ward_a, [cls.general_affairs, cls.tax], per_department=6)
        cls.campaign = run_round(cls.ward_a, 1, cls.people)
        rollups.refresh_organization(cls.ward_a, 2026)
        cls.general_affairs_division = cls.general_affairs.parent.parent  # 総務部
        cls.manager = make_user("dora", organization=cls.ward_a, role=Membership.Role.DEPT_MANAGER)
        Membership.objects.filter(user=cls.manager).update(department=cls.general_affairs_division)

    def get(self, url: str, user=None, **query):
        self.login(user or self.alice)
        return self.client.get(url, query)

    def assertNothingOfWardA(self, response):
        content = response.content.decode()
        for marker in ("A区", "総務部", "区民部", "税務課", STAFF_NAME, "山田"):
            self.assertNotIn(marker, content)


@override_settings(METRICS_ROLLUP_SECONDS=300)
class DashboardTests(MetricsTestCase):
    URL = "/metrics/"

    def test_it_shows_each_kpi_against_its_target_with_a_traffic_light(self):
        response = self.get(self.URL, fy=2026)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "区の指標")
        card = self.card(response, "report_rate_1h")
        self.assertIn("1時間以内の報告率", card)
        self.assertIn("50.0%", card)  # 6 of 12 within the hour
        self.assertIn("6 / 12", card)
        self.assertIn(f"目標 {REPORT_TARGET}", card)
        # Between the amber threshold (50%) and the target: in words and a symbol, not colour only.
        self.assertIn("あと一歩", card)
        self.assertIn("△", card)
        failures = self.card(response, "failure_rate")
        self.assertIn("33.3%", failures)  # 4 of 12 clicked
        self.assertIn(f"目標 {kpis.KPIS['failure_rate'].target_label}", failures)
        self.assertIn("目標未達", failures)
        self.assertIn("✕", failures)

    def test_each_trend_chart_is_an_svg_image_with_its_figures_in_words(self):
        response = self.get(self.URL, fy=2026)

        card = self.card(response, "report_rate_1h")
        self.assertIn(f'alt="1時間以内の報告率の推移: 2026年度 第1回 50.0%（目標 {REPORT_TARGET}）"', card)
        svg = decoded_images(card)[0]
        self.assertIn("<svg", svg)
        self.assertIn("50.0%", svg)
        self.assertIn("第1回", svg)
        # The same figures as a table, for screen readers and for copying.
        self.assertContains(response, "実施回ごとの数値")

    @override_settings(METRICS_ROLLUP_SECONDS=300, TRACKING_CLASSIFY_AFTER_SECONDS=120, WORKER_POLL_SECONDS=2)
    def test_it_states_when_the_figures_were_computed_and_how_stale_they_may_be(self):
        computed_at = datetime.datetime(2026, 6, 2, 1, 30, tzinfo=datetime.UTC)
        CampaignRollup.objects.update(computed_at=computed_at)

        response = self.get(self.URL, fy=2026)

        # The round closed just now, so the worker still recomputes it: 120 s to classify a hit, 300 s until
        # the next refresh, two polls of 2 s = 424 s, stated rounded up.
        self.assertContains(response, "集計日時 2026年6月2日 10:30（最大8分遅れ）")
        self.assertContains(response, "終了から14日以内の訓練は、ワーカーが定期的に集計し直します")
        # In English the date is written the English way.
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        english = self.client.get(self.URL, {"fy": 2026})
        self.assertContains(english, "Computed at 10:30 on June 2, 2026 (up to 8 minutes behind)")

    @override_settings(METRICS_REFRESH_CLOSED_DAYS=14)
    def test_rounds_closed_long_ago_are_stated_as_settled(self):
        Campaign.objects.filter(pk=self.campaign.pk).update(
            closed_at=datetime.datetime(2026, 6, 5, tzinfo=datetime.UTC)
        )
        CampaignRollup.objects.update(computed_at=datetime.datetime(2026, 6, 19, 1, 30, tzinfo=datetime.UTC))
        rollups.refresh_due_rollups()  # the worker leaves a settled round alone

        response = self.get(self.URL, fy=2026)

        self.assertContains(response, "集計日時 2026年6月19日 10:30（終了した訓練の数値）")
        self.assertNotContains(response, "分遅れ")

    def test_before_anything_is_computed_it_says_so(self):
        response = self.get(self.URL, fy=2025)

        self.assertContains(response, "まだ集計されていません")
        self.assertContains(response, "この年度に配信した訓練はまだありません")
        self.assertNotContains(response, "data:image/svg+xml")

    def test_the_fiscal_year_selector_offers_the_years_with_data(self):
        response = self.get(self.URL, fy=2025)

        self.assertContains(response, '<option value="2026">2026年度</option>', html=True)
        self.assertContains(response, '<option value="2025" selected>2025年度</option>', html=True)
        self.assertContains(response, "区の指標 — 2025年度")

    def test_an_unreadable_fiscal_year_gets_a_japanese_error_and_the_current_year(self):
        response = self.get(self.URL, fy="二〇二六")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "年度は西暦の数字で指定してください")
        self.assertContains(response, "今年度を表示しています")

    def test_a_fiscal_year_out_of_range_is_refused_with_a_message(self):
        response = self.get(self.URL, fy=99999)

        self.assertContains(response, "年度は2100年度以前を指定してください")

    def test_it_breaks_the_figures_down_by_department_position_and_employment_type(self):
        response = self.get(self.URL, fy=2026)

        self.assertContains(response, "文書係")
        self.assertContains(response, "税務課")
        self.assertContains(response, "主任")
        self.assertContains(response, "会計年度任用")
        self.assertContains(response, f"?department={self.tax.public_id}&amp;fy=2026")
        self.assertNotContains(response, STAFF_NAME)

    def test_it_links_the_exports_of_the_year_shown(self):
        response = self.get(self.URL, fy=2026)

        for url in ("/metrics/export.xlsx?fy=2026", "/metrics/report.pdf?fy=2026"):
            self.assertContains(response, f'href="{url}"')
        self.assertContains(response, 'href="/metrics/export.csv?fy=2026&amp;encoding=cp932"')

    def test_its_query_count_does_not_grow_with_rounds_and_departments(self):
        self.login(self.alice)
        with CaptureQueriesContext(connection) as small:
            self.client.get(self.URL, {"fy": 2026})
        grow(self.ward_a, rounds=range(2, 5), departments=6)
        self.assertGreater(CampaignRollup.objects.filter(organization=self.ward_a).count(), 40)

        with self.assertNumQueries(len(small.captured_queries)):
            response = self.client.get(self.URL, {"fy": 2026})

        self.assertContains(response, "2026年度 第4回")

    def test_charlie_sees_only_his_own_empty_ward(self):
        response = self.get(self.URL, self.charlie, fy=2026)

        self.assertEqual(response.status_code, 200)
        self.assertNothingOfWardA(response)
        self.assertContains(response, "この年度に配信した訓練はまだありません")

    def test_a_department_manager_is_sent_to_his_department(self):
        response = self.get(self.URL, self.manager)

        self.assertRedirects(response, "/metrics/department/", fetch_redirect_response=False)

    def test_a_joint_admin_is_sent_to_the_joint_view(self):
        joint_admin = make_user("jo", organization=self.ward_a, role=Membership.Role.JOINT_ADMIN)

        response = self.get(self.URL, joint_admin)

        self.assertRedirects(response, "/metrics/joint/", fetch_redirect_response=False)

    def test_a_vendor_is_refused(self):
        vendor = make_user("vendor", organization=self.ward_a, role=Membership.Role.VENDOR)

        response = self.get(self.URL, vendor)

        self.assertEqual(response.status_code, 403)

    def test_an_auditor_reads_it_without_the_refresh_button(self):
        response = self.get(self.URL, self.bob, fy=2026)

        self.assertContains(response, "50.0%")
        self.assertNotContains(response, "今すぐ再集計")

    def card(self, response, key: str) -> str:
        content = response.content.decode()
        match = re.search(rf'<li class="kpi-card[^"]*" data-kpi="{key}">(.*?)</li>', content, re.S)
        self.assertIsNotNone(match, key)
        return match.group(1)


class ChartCacheTests(SimpleTestCase):
    """Charts are kept in Django's cache (shared by the server's processes), keyed by their figures."""

    def test_a_chart_is_drawn_once_per_set_of_figures_and_shared_through_the_cache(self):
        drawn = []

        def draw(label):
            def drawing():
                drawn.append(label)
                return f"data:image/svg+xml;base64,{label}"

            return drawing

        parts = ("trend", (("第1回", 22.7), ("第2回", 7.3)), "percent", 3, "", f"test-{uuid.uuid4()}")
        first = views._cached_chart(parts, draw("a"))
        again = views._cached_chart(parts, draw("b"))
        changed = views._cached_chart((*parts[:1], (("第1回", 22.7), ("第2回", 7.4)), *parts[2:]), draw("c"))

        self.assertEqual((first, again), ("data:image/svg+xml;base64,a",) * 2)
        self.assertEqual(changed, "data:image/svg+xml;base64,c")
        self.assertEqual(drawn, ["a", "c"])
        # Another process reads the same entry: it is in the shared file cache, not in this process's memory.
        self.assertEqual(views.chart_cache().get(views.chart_key(parts)), first)
        # Not in the default cache, whose rate-limit counters a full file cache would evict.
        self.assertIsNone(caches["default"].get(views.chart_key(parts)))
        self.assertIsInstance(views.chart_cache(), FileBasedCache)

    def test_the_page_s_charts_are_the_ones_drawn_from_its_figures(self):
        points = (("第1回", 50.0),)
        uri = views.trend_chart_uri(points, "percent", 80, "", "ja")

        self.assertEqual(uri, charts.data_uri(charts.trend_chart(points, unit="percent", target=80)))


class ChartWarmingTests(MetricsTestCase):
    def chart_keys(self) -> list[str]:
        """The cache keys of the dashboard's 1-hour report rate chart, in Japanese and in English."""
        keys = []
        kpi = kpis.KPIS["report_rate_1h"]
        for language in ("ja", "en"):
            with translation.override(language):
                dashboard = kpis.ward_dashboard(self.ward_a, 2026)
                self.assertEqual(len(dashboard.rounds), 2)
                points = views.trend_points(dashboard.rounds, kpi.key)
                keys.append(views.chart_key(("trend", points, kpi.unit, kpi.target, "", language)))
        return keys

    def test_the_worker_draws_the_dashboard_s_charts_after_a_refresh(self):
        self.assertIn(views.warm_dashboard_charts, rollups.AFTER_REFRESH)
        campaign = run_round(self.ward_a, 2, self.people[:6])
        Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.RUNNING, closed_at=None)
        rollups.refresh_due_rollups()
        keys = self.chart_keys()
        # The figures may have been drawn before (the cache outlives a test): forget them, let the rollups
        # age and have the worker refresh them again.
        views.chart_cache().delete_many(keys)
        long_ago = timezone.now() - datetime.timedelta(hours=1)
        CampaignRollup.objects.update(computed_at=long_ago)
        FiscalYearRollup.objects.update(computed_at=long_ago)

        rollups.refresh_due_rollups()

        for key in keys:
            self.assertTrue(views.chart_cache().get(key, "").startswith("data:image/svg+xml;base64,"))


class RefreshTests(MetricsTestCase):
    URL = "/metrics/refresh/"

    def test_an_admin_recomputes_the_year_now_and_it_is_audited(self):
        deliver(self.campaign, person := make_person(self.ward_a, "追加の職員", department=self.tax))
        self.login(self.alice)

        response = self.client.post(self.URL, {"fy": 2026})

        self.assertRedirects(response, "/metrics/?fy=2026", fetch_redirect_response=False)
        total = CampaignRollup.objects.get(campaign=self.campaign, dimension="total")
        self.assertEqual(total.delivered, 13)
        entry = AuditEntry.objects.get(action="metrics.refresh")
        self.assertEqual(entry.organization, self.ward_a)
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.details["campaigns"], 1)
        self.assertTrue(person.pk)
        page = self.client.get(response.url)
        self.assertContains(page, "2026年度の数値を再集計しました。")

    def test_an_auditor_may_not_refresh(self):
        self.login(self.bob)

        response = self.client.post(self.URL, {"fy": 2026})

        self.assertEqual(response.status_code, 403)
        self.assertFalse(AuditEntry.objects.filter(action="metrics.refresh").exists())

    def test_it_only_takes_a_post(self):
        self.login(self.alice)

        self.assertEqual(self.client.get(self.URL).status_code, 405)

    def test_charlie_refreshes_only_his_own_ward(self):
        before = dict(CampaignRollup.objects.filter(organization=self.ward_a).values_list("pk", "computed_at"))
        self.login(self.charlie)

        self.client.post(self.URL, {"fy": 2026})

        after = dict(CampaignRollup.objects.filter(organization=self.ward_a).values_list("pk", "computed_at"))
        self.assertEqual(before, after)
        self.assertEqual(AuditEntry.objects.get(action="metrics.refresh").organization, self.ward_b)


class DepartmentViewTests(MetricsTestCase):
    URL = "/metrics/department/"

    def test_a_manager_sees_his_own_sub_tree_only(self):
        response = self.get(self.URL, self.manager, fy=2026)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "所属の指標 — 総務部")
        self.assertContains(response, "文書係")
        self.assertNotContains(response, "税務課")
        self.assertNotContains(response, STAFF_NAME)
        self.assertNotContains(response, "今すぐ再集計")
        # His six staff: every other one reported within the hour.
        self.assertContains(response, "3 / 6")

    def test_a_round_that_reached_only_a_few_of_his_staff_is_shown_without_figures(self):
        staff = [person for person in self.people if person.department_id == self.general_affairs.pk]
        run_round(self.ward_a, 2, staff[:2])  # both report; 1 of 2 clicks
        rollups.refresh_organization(self.ward_a, 2026)

        response = self.get(self.URL, self.manager, fy=2026)

        self.assertContains(response, "個人が特定されないよう数値を「－」で示します")
        rounds = {point.round_number: point for point in response.context["dashboard"].rounds}
        self.assertTrue(rounds[2].withheld)
        self.assertIsNone(rounds[2].figures["report_rate_1h"].value)
        self.assertNotIn("%", response.context["rounds"][1][1])  # every cell of round 2 is 「－」

    def test_a_manager_sees_a_round_only_once_it_is_closed(self):
        # Round 1 is closed; round 2 is still running. Its figures would let a manager warn his staff.
        Campaign.objects.filter(pk=self.campaign.pk).update(round_number=2, state=Campaign.State.RUNNING)
        run_round(self.ward_a, 1, self.people)
        rollups.refresh_organization(self.ward_a, 2026)

        manager_page = self.get(self.URL, self.manager, fy=2026).content.decode()
        admin_page = self.get(self.URL, self.alice, fy=2026, department=self.general_affairs_division.public_id)

        self.assertIn("第1回", manager_page)
        self.assertNotIn("第2回", manager_page)
        self.assertContains(admin_page, "第2回")

    def test_its_exports_are_narrowed_to_the_department(self):
        response = self.get(self.URL, self.manager, fy=2026)

        query = f"fy=2026&amp;department={self.general_affairs_division.public_id}"
        self.assertContains(response, f'href="/metrics/export.xlsx?{query}"')

    def test_a_manager_cannot_open_another_department(self):
        response = self.get(self.URL, self.manager, department=self.tax.public_id)

        self.assertEqual(response.status_code, 404)

    def test_a_manager_may_open_a_department_below_his_own(self):
        response = self.get(self.URL, self.manager, department=self.general_affairs.public_id, fy=2026)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "所属の指標 — 総務部 › 総務課 › 文書係")

    def test_a_manager_cannot_see_the_ward_pages(self):
        for url in ("/metrics/ranking/", "/metrics/joint/"):
            with self.subTest(url=url):
                self.assertEqual(self.get(url, self.manager).status_code, 403)

    def test_the_figures_of_a_team_below_the_minimum_size_are_withheld_from_its_manager(self):
        small = make_department(self.ward_a, "区民部/税務課/小係")
        campaign = launched_campaign(self.ward_a, 2)
        for person in drill_staff(self.ward_a, [small], per_department=2, first_number=900):
            deliver(campaign, person, reported_at=5 * MINUTES)
        rollups.refresh_organization(self.ward_a, 2026)
        manager = make_user("eve", organization=self.ward_a, role=Membership.Role.DEPT_MANAGER)
        Membership.objects.filter(user=manager).update(department=small)

        response = self.get(self.URL, manager, fy=2026)

        self.assertContains(response, "対象者が 5 人未満のため")
        self.assertNotContains(response, "100.0%")
        self.assertNotContains(response, "data:image/svg+xml")

    def test_a_manager_without_a_department_is_told_so(self):
        manager = make_user("fay", organization=self.ward_a, role=Membership.Role.DEPT_MANAGER)

        response = self.get(self.URL, manager)

        self.assertContains(response, "所属長として担当する所属が設定されていません")
        self.assertNotContains(response, "税務課")

    def test_an_admin_chooses_any_department_of_the_ward(self):
        choose = self.get(self.URL)
        self.assertContains(choose, f'<option value="{self.tax.public_id}">区民部 › 税務課</option>', html=True)

        response = self.client.get(self.URL, {"department": self.tax.public_id, "fy": 2026})

        self.assertContains(response, "所属の指標 — 区民部 › 税務課")
        self.assertContains(response, "3 / 6")

    def test_an_unreadable_department_is_not_found(self):
        self.assertEqual(self.get(self.URL, department="../../etc").status_code, 404)

    def test_charlie_gets_404_for_a_department_of_ward_a(self):
        response = self.get(self.URL, self.charlie, department=self.tax.public_id)

        self.assertEqual(response.status_code, 404)
        self.assertNothingOfWardA(response)

    def test_charlie_is_offered_none_of_ward_a_departments(self):
        response = self.get(self.URL, self.charlie)

        self.assertEqual(response.status_code, 200)
        self.assertNothingOfWardA(response)

    def test_its_query_count_does_not_grow_with_rounds_and_departments(self):
        self.login(self.manager)
        with CaptureQueriesContext(connection) as small:
            self.client.get(self.URL, {"fy": 2026})
        paths = [f"総務部/拡張課{number}" for number in range(5)]
        people = drill_staff(self.ward_a, [make_department(self.ward_a, path) for path in paths], per_department=5)
        for round_number in (2, 3):
            run_round(self.ward_a, round_number, people)
        rollups.refresh_organization(self.ward_a, 2026)

        with self.assertNumQueries(len(small.captured_queries)):
            response = self.client.get(self.URL, {"fy": 2026})

        self.assertContains(response, "拡張課4")


class RankingTests(MetricsTestCase):
    URL = "/metrics/ranking/"

    def test_departments_are_ranked_without_naming_anyone(self):
        # Tax does better: all its six report within the hour in round 2.
        campaign = launched_campaign(self.ward_a, 2)
        for person in self.people[6:]:
            deliver(campaign, person, reported_at=3 * MINUTES)
        rollups.refresh_organization(self.ward_a, 2026)

        response = self.get(self.URL, fy=2026)

        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertLess(content.index("区民部 › 税務課"), content.index("総務部 › 総務課 › 文書係"))
        self.assertContains(response, "1位")
        self.assertContains(response, "2位")
        self.assertNotContains(response, STAFF_NAME)
        self.assertEqual(len(decoded_images(content)), 2)

    def test_a_department_below_the_minimum_size_is_merged(self):
        small = make_department(self.ward_a, "区民部/税務課/小係")
        campaign = launched_campaign(self.ward_a, 2)
        for person in drill_staff(self.ward_a, [small], per_department=2, first_number=900):
            deliver(campaign, person)
        rollups.refresh_organization(self.ward_a, 2026)

        response = self.get(self.URL, fy=2026)

        self.assertNotContains(response, "小係")
        self.assertContains(response, "少人数の所属を含む")

    def test_its_query_count_does_not_grow_with_rounds_and_departments(self):
        self.login(self.alice)
        with CaptureQueriesContext(connection) as small:
            self.client.get(self.URL, {"fy": 2026})
        grow(self.ward_a, rounds=range(2, 4), departments=5)

        with self.assertNumQueries(len(small.captured_queries)):
            response = self.client.get(self.URL, {"fy": 2026})

        self.assertContains(response, "拡張部4 › 拡張課4")

    def test_charlie_sees_no_department_of_ward_a(self):
        response = self.get(self.URL, self.charlie, fy=2026)

        self.assertEqual(response.status_code, 200)
        self.assertNothingOfWardA(response)


class JointViewTests(MetricsTestCase):
    URL = "/metrics/joint/"

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.joint_body = make_organization("joint-csirt", "特別区共同CSIRT", kind=Organization.Kind.JOINT)
        # A joint admin of the joint body who also works in ward B: ward B is named, ward A is not.
        cls.joanna = make_user("joanna", organization=cls.joint_body, role=Membership.Role.JOINT_ADMIN)
        Membership.objects.create(user=cls.joanna, organization=cls.ward_b, role=Membership.Role.AUDITOR)
        department_b = make_department(cls.ward_b, "企画部/企画課")
        people_b = drill_staff(cls.ward_b, [department_b], per_department=8, first_number=200)
        campaign = launched_campaign(cls.ward_b, 1)
        for person in people_b:
            deliver(campaign, person, reported_at=30 * MINUTES)
        rollups.refresh_organization(cls.ward_b, 2026)

    def joint_page(self, **query):
        self.login(self.joanna)
        self.client.post(reverse("core:switch-organization"), {"organization": "joint-csirt"})
        return self.client.get(self.URL, {"fy": 2026, **query})

    def test_other_wards_are_anonymised_and_the_viewer_s_own_ward_is_named(self):
        response = self.joint_page()

        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertIn("B区（自区）", content)
        self.assertRegex(content, r"区[A-Z]</th>")
        self.assertNotIn("A区", content)
        self.assertNotIn("ward-a", content)
        self.assertNotIn(str(self.ward_a.public_id), content)
        self.assertNotIn(str(self.campaign.public_id), content)
        for svg in decoded_images(content):
            self.assertNotIn("A区", svg)

    def test_it_links_the_joint_exports(self):
        response = self.joint_page()

        self.assertContains(response, 'href="/metrics/joint/export.pdf?fy=2026"')

    def test_it_shows_the_average_of_the_wards_with_data(self):
        response = self.joint_page()

        # Ward A: 50% within the hour; ward B: 100%. Each ward counts once: 75%.
        self.assertContains(response, "平均（データのある 2 区）")
        self.assertContains(response, "75.0%")

    def test_only_a_joint_admin_may_see_it(self):
        for user in (self.alice, self.bob, self.charlie):
            with self.subTest(user=user.username):
                self.assertEqual(self.get(self.URL, user).status_code, 403)

    def test_its_query_count_does_not_grow_with_the_wards(self):
        self.joint_page()
        with CaptureQueriesContext(connection) as small:
            self.client.get(self.URL, {"fy": 2026})
        for number in range(3):
            ward = make_organization(f"ward-x{number}", f"X{number}区")
            staff = drill_staff(
                ward, [make_department(ward, "総務部")], per_department=5, first_number=300 + number * 10
            )
            for round_number in (1, 2):
                run_round(ward, round_number, staff)
            rollups.refresh_organization(ward, 2026)

        with self.assertNumQueries(len(small.captured_queries)):
            response = self.client.get(self.URL, {"fy": 2026})

        self.assertContains(response, "平均（データのある 5 区）")
        for number in range(3):
            self.assertNotContains(response, f"X{number}区")
