"""KPI formulas on hand-built drills with known answers, anonymity of small groups, the joint view."""

import datetime

from django.test import SimpleTestCase, TestCase, override_settings
from django.utils import timezone

from mamori.core.models import Organization, Person
from mamori.core.tests.makers import make_department, make_organization, make_person
from mamori.drills.models import Campaign
from mamori.drills.tests.makers import make_scenario
from mamori.metrics import kpis, rollups
from mamori.metrics.models import CampaignRollup, FiscalYearRollup
from mamori.metrics.rollups import HISTOGRAM_BUCKETS, HISTOGRAM_EDGES_MINUTES
from mamori.metrics.tests.rollup_builders import deliver, launched_campaign

minutes = datetime.timedelta(minutes=1)
seconds = datetime.timedelta(seconds=1)
LONG_AGO = datetime.datetime(2020, 4, 1, tzinfo=datetime.UTC)


def histogram(**counts_by_upper_edge) -> list[int]:
    """histogram(m5=4) = 4 reports in the bucket ending at 5 minutes."""
    values = [0] * HISTOGRAM_BUCKETS
    for name, count in counts_by_upper_edge.items():
        values[HISTOGRAM_EDGES_MINUTES.index(int(name[1:]))] = count
    return values


class PercentileTests(SimpleTestCase):
    def test_interpolates_inside_the_bucket(self):
        # Four reports in (3, 5] minutes: the median's rank 2 is half-way through the bucket.
        self.assertEqual(kpis.percentile_minutes(histogram(m5=4), 0.5), 4.0)
        self.assertAlmostEqual(kpis.percentile_minutes(histogram(m5=4), 0.9), 4.8)

    def test_walks_across_buckets(self):
        spread = histogram(m2=1, m5=1, m30=1, m60=1, m120=1)
        self.assertEqual(kpis.percentile_minutes(spread, 0.5), 25.0)
        self.assertEqual(kpis.percentile_minutes(spread, 0.9), 105.0)

    def test_first_bucket_starts_at_zero_and_the_open_bucket_gives_its_lower_edge(self):
        self.assertEqual(kpis.percentile_minutes(histogram(m1=2), 0.5), 0.5)
        late = [0] * HISTOGRAM_BUCKETS
        late[-1] = 3
        self.assertEqual(kpis.percentile_minutes(late, 0.5), float(HISTOGRAM_EDGES_MINUTES[-1]))

    def test_no_reports_no_value(self):
        self.assertIsNone(kpis.percentile_minutes([0] * HISTOGRAM_BUCKETS, 0.5))


class StatusTests(SimpleTestCase):
    def test_higher_is_better_against_the_target_and_the_warning_line(self):
        kpi = kpis.KPIS["report_rate_1h"]
        self.assertEqual(
            [kpi.status(value) for value in (80, 79.9, 50, 49.9, None)], ["good", "warn", "warn", "bad", "none"]
        )
        self.assertEqual(kpi.target_label, "80%以上")

    def test_lower_is_better_with_the_seed_s_strict_under_three_percent(self):
        kpi = kpis.KPIS["failure_rate"]
        self.assertEqual([kpi.status(value) for value in (2.99, 3, 9.99, 10)], ["good", "warn", "warn", "bad"])
        self.assertEqual(kpi.target_label, "3%未満")

    def test_without_target_there_is_no_light(self):
        self.assertEqual(kpis.KPIS["resilience"].status(2.0), "none")
        self.assertEqual(kpis.KPIS["drills_per_person"].target_label, "年4")

    def test_every_kpi_of_the_issue_is_defined_with_a_formula(self):
        expected = {
            "report_rate_1h", "report_rate", "median_minutes", "p90_minutes", "failure_rate", "click_rate",
            "scan_rate", "attachment_rate", "submit_rate", "automated_hits", "drills_per_person", "participation",
            "resilience", "failed_then_reported", "repeat_offenders", "learning_completion",
            "normalised_failure_rate",
        }  # fmt: skip
        self.assertEqual(set(kpis.KPIS), expected)
        for kpi in kpis.KPIS.values():
            self.assertTrue(str(kpi.formula) and str(kpi.label), kpi.key)

    def test_formatting(self):
        self.assertEqual(kpis.format_number(12.345, kpis.PERCENT), "12.3%")
        self.assertEqual(kpis.format_number(25.0, kpis.MINUTES), "25分")
        self.assertEqual(kpis.format_number(4.5, kpis.MINUTES), "4.5分")
        self.assertEqual(kpis.format_number(2.5, kpis.RATIO), "2.50")
        self.assertEqual(kpis.format_number(1234, kpis.COUNT), "1,234")
        self.assertEqual(kpis.format_number(None, kpis.PERCENT), "－")


class WardFiguresTests(TestCase):
    """Ten people of one department, two rounds with known outcomes."""

    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-k", "K区")
        cls.department = make_department(cls.ward, "総務部/総務課")
        cls.people = [
            make_person(cls.ward, f"職員{number}", department=cls.department, created_at=LONG_AGO)
            for number in range(10)
        ]
        cls.first = launched_campaign(cls.ward, 1, starts_on=datetime.date(2026, 6, 1))
        cls.second = launched_campaign(cls.ward, 2, starts_on=datetime.date(2026, 9, 1))
        p = cls.people
        # Round 1: reports at 2, 4, 30 and exactly 60 minutes (within the hour) and at 120 minutes; two
        # clicked, one of whom reported afterwards.
        deliver(cls.first, p[0], reported_at=2 * minutes)
        deliver(cls.first, p[1], reported_at=4 * minutes)
        deliver(cls.first, p[2], reported_at=30 * minutes)
        deliver(cls.first, p[3], reported_at=3600 * seconds)
        deliver(cls.first, p[4], first_clicked_at=10 * minutes, reported_at=120 * minutes)
        deliver(cls.first, p[5], first_clicked_at=10 * minutes)
        for person in p[6:]:
            deliver(cls.first, person)
        # Round 2: nine report within the hour, nobody fails.
        for person in p[:9]:
            deliver(cls.second, person, reported_at=3 * minutes)
        deliver(cls.second, p[9])
        rollups.refresh_organization(cls.ward, 2026)

    def test_fiscal_year_figures(self):
        figures = kpis.ward_dashboard(self.ward, 2026).figures
        self.assertEqual(figures["report_rate_1h"].value, 65.0)
        self.assertEqual((figures["report_rate_1h"].numerator, figures["report_rate_1h"].denominator), (13, 20))
        self.assertEqual(figures["report_rate_1h"].status, "warn")
        self.assertEqual(figures["report_rate"].value, 70.0)
        self.assertEqual(figures["failure_rate"].value, 10.0)
        self.assertEqual(figures["failure_rate"].status, "bad")
        self.assertEqual(figures["click_rate"].value, 10.0)
        self.assertEqual(figures["resilience"].value, 7.0)
        self.assertEqual(figures["failed_then_reported"].value, 50.0)
        self.assertEqual(figures["participation"].value, 100.0)
        self.assertEqual(figures["participation"].status, "good")
        self.assertEqual(figures["drills_per_person"].value, 2.0)
        self.assertEqual(figures["drills_per_person"].status, "warn")
        self.assertEqual(figures["repeat_offenders"].value, 0.0)
        self.assertEqual(figures["repeat_offenders"].denominator, 2)
        self.assertIsNone(figures["learning_completion"].value)
        # A moderately difficult scenario: normalising changes nothing.
        self.assertEqual(figures["normalised_failure_rate"].value, 10.0)

    def test_round_figures_and_percentiles(self):
        dashboard = kpis.ward_dashboard(self.ward, 2026)
        first, second = dashboard.rounds
        self.assertEqual((first.label, second.label), ("2026年度 第1回", "2026年度 第2回"))
        self.assertEqual(first.figures["report_rate_1h"].value, 40.0)
        self.assertEqual(first.figures["median_minutes"].value, 25.0)
        self.assertEqual(first.figures["p90_minutes"].value, 105.0)
        self.assertEqual(first.figures["resilience"].value, 2.5)
        self.assertEqual(second.figures["report_rate_1h"].value, 90.0)
        self.assertEqual(second.figures["failure_rate"].value, 0.0)
        self.assertEqual(second.figures["participation"].value, 100.0)
        self.assertIsNone(second.figures["drills_per_person"].value)
        self.assertEqual((first.difficulty_label, first.difficulty_factor), ("中", 1.0))
        self.assertEqual(dashboard.latest_round, second)

    def test_quarters_sum_the_rounds_that_started_in_them(self):
        third = launched_campaign(self.ward, 3, starts_on=datetime.date(2026, 7, 15))
        for person in self.people[:5]:
            deliver(third, person, reported_at=minutes)
        for person in self.people[5:]:
            deliver(third, person)
        rollups.refresh_campaign(third)
        quarters = kpis.ward_dashboard(self.ward, 2026).quarters
        self.assertEqual([quarter.quarter for quarter in quarters], [1, 2])
        self.assertEqual(quarters[0].label, "第1四半期（4〜6月）")
        # Q2 = round 2 (9 of 10 within the hour) + round 3 (5 of 10).
        self.assertEqual(quarters[1].figures["report_rate_1h"].value, 70.0)
        self.assertEqual(quarters[1].delivered, 20)

    @override_settings(METRICS_ROLLUP_SECONDS=300, TRACKING_CLASSIFY_AFTER_SECONDS=120, WORKER_POLL_SECONDS=2)
    def test_freshness_is_stated(self):
        dashboard = kpis.ward_dashboard(self.ward, 2026)
        self.assertIsNotNone(dashboard.computed_at)
        # Classification delay + rollup period + two worker polls: the worst case of a live round.
        self.assertEqual(dashboard.stale_seconds, 424)
        self.assertTrue(dashboard.refreshing)
        self.assertEqual(dashboard.fiscal_years, [2026])

    def test_a_settled_round_does_not_make_the_live_figures_look_old(self):
        campaigns = list(Campaign.objects.filter(organization=self.ward).order_by("round_number"))
        long_ago = timezone.now() - datetime.timedelta(days=200)
        Campaign.objects.filter(pk=campaigns[0].pk).update(closed_at=long_ago)
        CampaignRollup.objects.filter(campaign=campaigns[0]).update(computed_at=long_ago)
        live_time = timezone.now() - datetime.timedelta(minutes=3)
        CampaignRollup.objects.exclude(campaign=campaigns[0]).update(computed_at=live_time)
        FiscalYearRollup.objects.update(computed_at=live_time)

        dashboard = kpis.ward_dashboard(self.ward, 2026)

        self.assertEqual(dashboard.computed_at, live_time)
        self.assertTrue(dashboard.refreshing)

        Campaign.objects.filter(organization=self.ward).update(closed_at=long_ago)
        settled = kpis.ward_dashboard(self.ward, 2026)
        self.assertEqual(settled.computed_at, long_ago)
        self.assertFalse(settled.refreshing)

    def test_a_year_without_drills_has_no_values(self):
        dashboard = kpis.ward_dashboard(self.ward, 2024)
        self.assertFalse(dashboard.has_data)
        self.assertIsNone(dashboard.figures["report_rate_1h"].value)
        self.assertEqual(dashboard.figures["report_rate_1h"].status, "none")
        self.assertIsNone(dashboard.computed_at)


class DifficultyTests(TestCase):
    def test_failures_are_normalised_by_the_phish_scale_factor(self):
        ward = make_organization("ward-d", "D区")
        people = [make_person(ward, f"職員{number}", created_at=LONG_AGO) for number in range(10)]
        easy = make_scenario(ward, name="易しい", cue_count=20, premise_alignment="low")
        hard = make_scenario(ward, name="難しい", cue_count=2, premise_alignment="high")
        first = launched_campaign(ward, 1, scenario=easy)
        second = launched_campaign(ward, 2, scenario=hard)
        for index, person in enumerate(people):
            deliver(first, person, first_clicked_at=minutes if index < 1 else None)
            deliver(second, person, first_clicked_at=minutes if index < 2 else None)
        rollups.refresh_organization(ward, 2026)
        dashboard = kpis.ward_dashboard(ward, 2026)
        easy_round, hard_round = dashboard.rounds
        # 10% on an easy mail counts as 20% of a moderate one; 20% on a hard mail as 10%.
        self.assertEqual(easy_round.figures["failure_rate"].value, 10.0)
        self.assertEqual(easy_round.figures["normalised_failure_rate"].value, 20.0)
        self.assertEqual((easy_round.difficulty_label, easy_round.difficulty_factor), ("易", 0.5))
        self.assertEqual(hard_round.figures["normalised_failure_rate"].value, 10.0)
        # The year: 3 failures over 10 × 0.5 + 10 × 2.0 = 25 moderate-equivalent deliveries.
        self.assertEqual(dashboard.figures["normalised_failure_rate"].value, 12.0)


class SmallGroupTests(TestCase):
    """総務課 6 (+ 文書係 2), 税務課 5, 保険課 1: what may be shown with a minimum of 5."""

    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-s", "S区")
        cls.soumu = make_department(cls.ward, "総務部/総務課")
        cls.bunsho = make_department(cls.ward, "総務部/総務課/文書係")
        cls.zeimu = make_department(cls.ward, "区民部/税務課")
        cls.hoken = make_department(cls.ward, "区民部/保険課")
        campaign = launched_campaign(cls.ward, 1)
        sizes = [(cls.soumu, 6, 1), (cls.bunsho, 2, 0), (cls.zeimu, 5, 4), (cls.hoken, 1, 1)]
        for department, size, reporters in sizes:
            for number in range(size):
                person = make_person(cls.ward, f"{department.name}{number}", department=department, created_at=LONG_AGO)
                deliver(campaign, person, reported_at=minutes if number < reporters else None)
        rollups.refresh_organization(cls.ward, 2026)

    def test_tree_folds_small_departments_and_their_complement(self):
        rows = kpis.ward_dashboard(self.ward, 2026, min_size=5).departments
        shown = [(row.label, row.depth, row.size, row.merged) for row in rows]
        # 文書係 (2) folds into 総務課; 保険課 (1) is too small, and showing 税務課 (5) beside 区民部 (6)
        # would give 保険課 away by subtraction, so 税務課 is folded too.
        # In path order, like the results page.
        self.assertEqual(shown, [("区民部", 0, 6, True), ("総務部", 0, 8, False), ("総務課", 1, 8, True)])
        kumin = rows[0]
        self.assertEqual(kumin.figures["report_rate_1h"].numerator, 5)

    def test_ranking_merges_small_departments_into_their_parent_and_ranks(self):
        rows = kpis.department_ranking(self.ward, 2026, min_size=5)
        self.assertEqual(
            [(row.rank, row.label, row.size, row.merged) for row in rows],
            [(1, "区民部 › 税務課", 5, False), (2, "総務部 › 総務課", 8, True)],
        )
        # 保険課's one person is in no row: 区民部 alone would hold just them.
        self.assertEqual(sum(row.size for row in rows), 13)

    def test_ties_share_a_rank(self):
        ward = make_organization("ward-t", "T区")
        campaign = launched_campaign(ward, 1)
        for path, reporters in (("A部/甲課", 2), ("B部/乙課", 2), ("C部/丙課", 4)):
            department = make_department(ward, path)
            for number in range(5):
                person = make_person(ward, f"{path}{number}", department=department, created_at=LONG_AGO)
                deliver(campaign, person, reported_at=minutes if number < reporters else None)
        rollups.refresh_organization(ward, 2026)
        rows = kpis.department_ranking(ward, 2026, min_size=5)
        self.assertEqual(
            [(row.rank, row.label) for row in rows], [(1, "C部 › 丙課"), (2, "A部 › 甲課"), (2, "B部 › 乙課")]
        )

    def test_manager_view_is_the_sub_tree_only(self):
        dashboard = kpis.ward_dashboard(self.ward, 2026, department=self.soumu.parent, min_size=5)
        self.assertEqual(dashboard.figures["report_rate_1h"].denominator, 8)
        self.assertEqual(dashboard.figures["participation"].denominator, 8)
        self.assertEqual([row.label for row in dashboard.departments], ["総務部", "総務課"])
        self.assertEqual(dashboard.rounds[0].figures["report_rate_1h"].numerator, 1)
        self.assertEqual((dashboard.positions, dashboard.employment_types), ([], []))
        self.assertFalse(dashboard.too_small)
        small = kpis.ward_dashboard(self.ward, 2026, department=self.hoken, min_size=5)
        self.assertTrue(small.too_small)

    def test_a_round_that_reached_few_of_a_department_is_withheld_in_its_view(self):
        # Round 2 (the next quarter) reaches only three of 総務部's eight people.
        second = launched_campaign(self.ward, 2)
        people = Person.objects.filter(department=self.soumu).order_by("name")[:3]
        for person in people:
            deliver(second, person, reported_at=minutes)
        rollups.refresh_organization(self.ward, 2026)

        dashboard = kpis.ward_dashboard(self.ward, 2026, department=self.soumu.parent, min_size=5)

        first_round, second_round = dashboard.rounds
        self.assertFalse(first_round.withheld)
        self.assertEqual(first_round.figures["report_rate_1h"].numerator, 1)
        self.assertTrue(second_round.withheld)
        self.assertEqual(second_round.delivered, 3)
        self.assertTrue(all(figure.value is None for figure in second_round.figures.values()))
        self.assertEqual([quarter.withheld for quarter in dashboard.quarters], [False, True])
        self.assertTrue(dashboard.withheld_points)
        # The year's figures still count every round: 4 of 11 deliveries reported within the hour.
        self.assertEqual(dashboard.figures["report_rate_1h"].numerator, 4)
        # The whole ward's view shows every round.
        self.assertFalse(any(point.withheld for point in kpis.ward_dashboard(self.ward, 2026, min_size=5).rounds))

    @override_settings(METRICS_MIN_GROUP_SIZE=5)
    def test_positions_and_employment_types_fold_into_other(self):
        dashboard = kpis.ward_dashboard(self.ward, 2026)
        self.assertEqual([(row.label, row.size) for row in dashboard.positions], [("役職なし", 14)])
        self.assertEqual([(row.label, row.size) for row in dashboard.employment_types], [("正規", 14)])


class BreakdownTests(TestCase):
    def test_participation_counts_non_regular_staff_and_shows_them_in_their_own_row(self):
        ward = make_organization("ward-n", "N区")
        campaign = launched_campaign(ward, 1)
        regular = [make_person(ward, f"正規{number}", created_at=LONG_AGO) for number in range(6)]
        non_regular = [
            make_person(
                ward, f"会計年度{number}", employment_type=Person.EmploymentType.FISCAL_YEAR, created_at=LONG_AGO
            )
            for number in range(6)
        ]
        for person in [*regular, *non_regular[:5]]:  # one 会計年度任用職員 never received a drill
            deliver(campaign, person)
        rollups.refresh_organization(ward, 2026)

        dashboard = kpis.ward_dashboard(ward, 2026, min_size=5)

        participation = dashboard.figures["participation"]
        self.assertEqual((participation.numerator, participation.denominator), (11, 12))
        self.assertEqual(participation.status, "warn")  # 91.7%: below the seed's 98%
        rows = {row.key: row.figures["participation"] for row in dashboard.employment_types}
        self.assertEqual((rows["fiscal_year"].numerator, rows["fiscal_year"].denominator), (5, 6))
        self.assertEqual((rows["regular"].numerator, rows["regular"].denominator), (6, 6))

    def test_small_positions_fold_into_other_with_their_complement(self):
        ward = make_organization("ward-p", "P区")
        campaign = launched_campaign(ward, 1)
        # 主事 7 (all report), 係長 6 (none), 課長 2, 部長 1: the two small ones make 3, below 5, so the
        # smaller shown position (係長) is folded too; 「その他」 then holds 9.
        for position, size in (("主事", 7), ("係長", 6), ("課長", 2), ("部長", 1)):
            for number in range(size):
                person = make_person(ward, f"{position}{number}", position=position, created_at=LONG_AGO)
                deliver(campaign, person, reported_at=minutes if position == "主事" else None)
        rollups.refresh_organization(ward, 2026)
        rows = kpis.ward_dashboard(ward, 2026, min_size=5).positions
        self.assertEqual(
            [(row.label, row.size, row.merged) for row in rows],
            [("主事", 7, False), ("その他（少人数）", 9, True)],
        )
        self.assertEqual(rows[0].figures["report_rate_1h"].value, 100.0)
        self.assertEqual(rows[1].figures["report_rate_1h"].value, 0.0)


class QueryCountTests(TestCase):
    def build(self, ward_code: str, rounds: int, departments: int):
        ward = make_organization(ward_code, f"{ward_code}区")
        people = []
        for index in range(departments):
            department = make_department(ward, f"部{index}/課{index}")
            people += [
                make_person(ward, f"{index}-{n}", department=department, created_at=LONG_AGO, position=f"役{n}")
                for n in range(3)
            ]
        for number in range(1, rounds + 1):
            campaign = launched_campaign(ward, number)
            for person in people:
                deliver(campaign, person, reported_at=number * minutes)
        rollups.refresh_organization(ward, 2026)
        return ward, department

    def test_constant_queries_whatever_the_rounds_and_departments(self):
        small, small_department = self.build("q1", rounds=1, departments=1)
        large, large_department = self.build("q2", rounds=4, departments=6)
        for ward, department in ((small, small_department), (large, large_department)):
            with self.assertNumQueries(3):
                kpis.ward_dashboard(ward, 2026)
            with self.assertNumQueries(3):
                kpis.ward_dashboard(ward, 2026, department=department)
            with self.assertNumQueries(2):
                kpis.department_ranking(ward, 2026)
        with self.assertNumQueries(3):
            kpis.joint_view(2026, viewer_organizations={small.pk})


class JointViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.wards = [make_organization(f"ward-{code}", f"{name}区") for code, name in zip("xyz", "甲乙丙", strict=True)]
        cls.empty = make_organization("ward-e", "無集計区")
        cls.joint = make_organization("joint", "特別区共同組織", kind=Organization.Kind.JOINT)
        joint_person = make_person(cls.joint, "共同", created_at=LONG_AGO)
        deliver(launched_campaign(cls.joint, 1), joint_person)
        # 甲: 1 of 4 within the hour (25%); 乙: 3 of 4 (75%); 丙: 2 of 4 (50%).
        for ward, reporters in zip(cls.wards, (1, 3, 2), strict=True):
            campaign = launched_campaign(ward, 1)
            for number in range(4):
                person = make_person(ward, f"{ward.name}{number}", created_at=LONG_AGO)
                deliver(campaign, person, reported_at=minutes if number < reporters else None)
        for organization in [*cls.wards, cls.joint]:
            rollups.refresh_organization(organization, 2026)

    def test_only_the_viewer_s_ward_is_named(self):
        view = kpis.joint_view(2026, viewer_organizations={self.wards[0].pk})
        labels = [row.label for row in view.rows]
        self.assertEqual(len(labels), 3)  # wards with data only: not the empty ward, not the joint body
        self.assertIn("甲区", labels)
        self.assertEqual([row.is_own for row in view.rows if row.label == "甲区"], [True])
        for hidden in ("乙区", "丙区", "無集計区", "特別区共同組織"):
            self.assertNotIn(hidden, repr(view))
        for row in view.rows:
            if not row.is_own:
                self.assertRegex(row.label, r"^区[A-Z]$")

    def test_other_wards_rows_carry_rates_only(self):
        Campaign.objects.filter(organization=self.wards[1]).update(title="乙区 第1回 標的型メール訓練")
        for ward in self.wards:
            rollups.refresh_organization(ward, 2026)
        view = kpis.joint_view(2026, viewer_organizations={self.wards[0].pk})
        self.assertNotIn("乙区", repr(view))
        for row in view.rows:
            figure = row.figures["report_rate_1h"]
            point = row.rounds[0]
            if row.is_own:
                self.assertEqual((figure.numerator, figure.denominator, row.size, point.delivered), (1, 4, 4, 4))
                self.assertTrue(point.campaign_public_id)
                self.assertIsNotNone(point.starts_on)
            else:
                self.assertIsNotNone(figure.value)
                self.assertEqual((figure.numerator, figure.denominator, row.size, point.delivered), (None, None, 0, 0))
                self.assertEqual((point.title, point.campaign_public_id, point.counts), ("", "", None))
                self.assertIsNone(point.starts_on)
                self.assertIsNone(row.figures["automated_hits"].value)
                self.assertIsNone(point.figures["participation"].denominator)
        self.assertIsNone(view.average["automated_hits"].value)

    def test_a_ward_keeps_its_letter_whoever_looks(self):
        by_first = kpis.joint_view(2026, viewer_organizations={self.wards[0].pk})
        by_second = kpis.joint_view(2026, viewer_organizations={self.wards[1].pk})
        value_of_third = 50.0
        letter_for_first = [r.label for r in by_first.rows if r.figures["report_rate_1h"].value == value_of_third]
        letter_for_second = [r.label for r in by_second.rows if r.figures["report_rate_1h"].value == value_of_third]
        self.assertEqual(letter_for_first, letter_for_second)

    def test_average_is_the_mean_of_the_wards(self):
        view = kpis.joint_view(2026, viewer_organizations=set())
        self.assertEqual(view.wards_with_data, 3)
        self.assertEqual(view.average["report_rate_1h"].value, 50.0)
        self.assertEqual(view.average["report_rate_1h"].denominator, 3)
        self.assertEqual(sorted(row.figures["report_rate_1h"].value for row in view.rows), [25.0, 50.0, 75.0])
        self.assertTrue(all(not row.is_own for row in view.rows))

    def test_the_order_changes_with_the_year_and_the_secret(self):
        keys = [kpis.anonymous_order(ward.public_id, 2026) for ward in self.wards]
        self.assertNotEqual(keys, [kpis.anonymous_order(ward.public_id, 2027) for ward in self.wards])
        with override_settings(SECRET_KEY="another-secret-key-for-this-test-0123456789"):
            self.assertNotEqual(keys, [kpis.anonymous_order(ward.public_id, 2026) for ward in self.wards])
        self.assertEqual([kpis.anonymous_letter(index) for index in (0, 25, 26)], ["A", "Z", "AA"])
