"""The results pages: who sees what, filters, htmx partials, and a cost that does not grow with the data."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mamori.core.models import Membership
from mamori.core.tests.makers import make_department, make_person, make_user
from mamori.drills.models import Campaign, Event
from mamori.drills.results import SMALL_GROUP_MINIMUM
from mamori.drills.tests.makers import make_campaign, make_scenario
from mamori.drills.tests.test_results import ResultsTestCase, after, deliver, hit
from mamori.drills.tracking.reasons import Reason


class ResultsViewTestCase(ResultsTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("carol", organization=cls.ward_a, role=Membership.Role.CSIRT)
        cls.manager = make_user("dave", organization=cls.ward_a, role=Membership.Role.DEPT_MANAGER)
        Membership.objects.filter(user=cls.manager).update(department=cls.tax)

    def url(self, name: str = "campaign-results", campaign=None) -> str:
        return reverse(f"drills:{name}", kwargs={"campaign_id": (campaign or self.campaign).public_id})

    def close(self):
        Campaign.objects.filter(pk=self.campaign.pk).update(state=Campaign.State.CLOSED)


class CampaignResultsTests(ResultsViewTestCase):
    def test_it_shows_the_funnel_with_automated_hits_beside_the_human_ones(self):
        self.login(self.alice)
        response = self.client.get(self.url())
        self.assertContains(response, "訓練結果 — 2026年度 第1回")
        funnel = response.context["funnel"]
        self.assertEqual((funnel.delivered, funnel.failed, funnel.reported), (5, 3, 3))
        self.assertContains(response, '<th scope="row">リンクをクリック</th>\n        <td>2</td>', html=False)
        self.assertContains(response, "自動アクセスとして除外")
        self.assertContains(response, "判定待ち")
        self.assertContains(response, "1時間30分")  # the median time to report

    def test_it_explains_every_reason_for_excluding_a_hit(self):
        self.login(self.alice)
        response = self.client.get(self.url())
        for reason in Reason:
            self.assertContains(response, reason.label)
        self.assertContains(response, "一人の職員の操作では起こりません")

    def test_it_says_opens_are_unreliable(self):
        self.login(self.alice)
        response = self.client.get(self.url())
        self.assertContains(response, "開封（HTMLメールの画像の表示）: 1 人（20.0%）")
        self.assertContains(response, "開封は参考値です")

    def test_department_aggregates_come_first_at_the_chosen_level(self):
        self.login(self.alice)
        response = self.client.get(self.url(), {"level": 0})
        body = response.content.decode()
        self.assertLess(body.index("所属別"), body.index("自動アクセスとして除外したもの"))
        self.assertEqual([row.label for row in response.context["groups"].departments], ["区民部", "総務部"])

    def test_it_filters_by_department_position_and_employment_type(self):
        self.login(self.alice)
        response = self.client.get(self.url(), {"department": self.tax.public_id})
        self.assertEqual(response.context["funnel"].delivered, 3)
        self.assertContains(response, "絞り込み: 区民部 › 税務課（配下を含む）")
        response = self.client.get(self.url(), {"position": "主事", "employment_type": "regular"})
        self.assertEqual(response.context["funnel"].delivered, 2)

    def test_an_other_wards_department_is_refused_and_the_other_filters_still_apply(self):
        ward_b_department = make_department(self.ward_b, "B区総務部")
        self.login(self.alice)
        response = self.client.get(
            self.url(), {"department": ward_b_department.public_id, "employment_type": "dispatched"}
        )
        self.assertEqual(response.context["funnel"].delivered, 1)
        self.assertTrue(response.context["form"].errors["department"])
        self.assertNotContains(response, "B区総務部")

    def test_the_filter_form_swaps_only_the_results_with_htmx(self):
        self.login(self.alice)
        response = self.client.get(
            self.url(), {"employment_type": "regular"}, headers={"HX-Request": "true", "HX-Target": "results-body"}
        )
        self.assertNotContains(response, "<html")
        self.assertContains(response, "絞り込み: 正規")

    def test_security_admin_and_csirt_get_the_link_to_people_but_the_auditor_does_not(self):
        for user in (self.alice, self.csirt):
            self.login(user)
            self.assertContains(self.client.get(self.url()), self.url("campaign-results-people"))
        self.login(self.bob)
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["funnel"].delivered, 5)
        self.assertNotContains(response, self.url("campaign-results-people"))
        self.assertNotContains(response, "山田 太郎")

    def test_the_cost_is_the_same_with_5_or_50_deliveries(self):
        self.login(self.alice)
        url = self.url() + f"?department={self.tax.public_id}&position=主事"
        with CaptureQueriesContext(connection) as five:
            self.client.get(url)
        for number in range(45):
            person = make_person(self.ward_a, f"追加 {number}", department=self.tax, position="主事")
            mail = deliver(self.campaign, person, first_clicked_at=after(minutes=number), reported_at=after(hours=1))
            hit(mail, Event.Kind.CLICK, after(seconds=1), automated=True, reasons=["latency"])
            hit(mail, Event.Kind.CLICK, after(minutes=number), automated=False)
        with self.assertNumQueries(len(five)):
            response = self.client.get(url)
        self.assertEqual(response.context["funnel"].delivered, 48)

    def test_a_draft_shows_zeros(self):
        draft = make_campaign(self.ward_a, scenarios=[make_scenario(self.ward_a, "下書き")], round_number=2)
        self.login(self.alice)
        response = self.client.get(self.url(campaign=draft))
        self.assertEqual(response.context["funnel"].delivered, 0)
        self.assertContains(response, "配信した職員はいません。")

    def test_charlie_gets_404(self):
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url()).status_code, 404)
        self.assertEqual(self.client.get(self.url("campaign-results-people")).status_code, 404)

    def test_the_campaign_page_links_to_the_results_once_launched(self):
        self.login(self.alice)
        self.assertContains(self.client.get(self.url("campaign-detail")), self.url())


class DepartmentManagerTests(ResultsViewTestCase):
    def test_the_results_of_a_running_campaign_are_not_found(self):
        self.login(self.manager)
        self.assertEqual(self.client.get(self.url()).status_code, 404)

    def test_once_closed_only_their_own_departments_figures_are_shown(self):
        self.close()
        for number in range(SMALL_GROUP_MINIMUM):
            deliver(self.campaign, make_person(self.ward_a, f"税務 {number}", department=self.tax, position="主事"))
        self.login(self.manager)
        response = self.client.get(self.url())
        self.assertEqual(response.context["funnel"].delivered, 3 + SMALL_GROUP_MINIMUM)
        self.assertEqual([row.label for row in response.context["groups"].departments], ["区民部 › 税務課"])
        self.assertNotContains(response, "総務部")
        self.assertNotContains(response, self.url("campaign-results-people"))
        self.assertContains(response, "ご自身の所属（配下を含む）の集計だけ")

    def test_groups_too_small_to_hide_a_person_are_withheld(self):
        self.close()
        self.login(self.manager)
        response = self.client.get(self.url())
        self.assertTrue(response.context["funnel_withheld"])
        self.assertContains(response, f"対象者が {SMALL_GROUP_MINIMUM} 人未満のため、結果を表示しません。")
        self.assertContains(response, f"{SMALL_GROUP_MINIMUM} 人未満のため表示しません")
        self.assertNotContains(response, "リンクをクリック")

    def test_other_departments_cannot_be_chosen(self):
        self.close()
        self.login(self.manager)
        response = self.client.get(self.url(), {"department": self.general_affairs.public_id})
        self.assertTrue(response.context["form"].errors["department"])
        self.assertNotContains(response, "文書係")

    def test_they_never_see_the_people_list(self):
        self.close()
        self.login(self.manager)
        self.assertEqual(self.client.get(self.url("campaign-results-people")).status_code, 403)


class PeopleResultsPageTests(ResultsViewTestCase):
    def test_it_lists_each_person_with_their_timeline(self):
        self.login(self.alice)
        response = self.client.get(self.url("campaign-results-people"))
        self.assertContains(response, "5 人")
        self.assertContains(response, "山田 太郎")
        self.assertContains(response, "自動アクセス（除外）")
        self.assertContains(
            response,
            "理由: メールの配信直後（数秒以内）のアクセス、セキュリティ製品・プログラムのユーザーエージェント",
        )
        self.assertContains(response, "LinkScanner/2.0")
        self.assertContains(response, "判定待ち")
        self.assertContains(response, "12月1日 10:05:00")  # times in JST
        self.assertNotContains(response, "鈴木 花子")  # ward B's recipient

    def test_csirt_sees_it_and_the_auditor_does_not(self):
        self.login(self.csirt)
        self.assertEqual(self.client.get(self.url("campaign-results-people")).status_code, 200)
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url("campaign-results-people")).status_code, 403)

    def test_it_filters_by_outcome_and_department(self):
        self.login(self.alice)
        response = self.client.get(
            self.url("campaign-results-people"), {"outcome": "failed", "department": self.tax.public_id}
        )
        self.assertEqual([delivery.person.name for delivery, _, _ in response.context["rows"]], ["田中 四郎"])

    def test_it_is_paginated_and_costs_the_same_with_5_or_50_people(self):
        self.login(self.alice)
        url = self.url("campaign-results-people")
        with CaptureQueriesContext(connection) as five:
            self.client.get(url)
        for number in range(45):
            person = make_person(self.ward_a, f"追加 {number:02d}", department=self.tax)
            mail = deliver(self.campaign, person, first_clicked_at=after(minutes=number))
            hit(mail, Event.Kind.CLICK, after(seconds=1), automated=True, reasons=["latency"])
            hit(mail, Event.Kind.CLICK, after(minutes=number), automated=False)
        with self.assertNumQueries(len(five)):
            response = self.client.get(url)
        self.assertEqual(len(response.context["rows"]), 50)
        make_person(self.ward_a, "五十一人目", department=self.tax)
        deliver(self.campaign, self.ward_a.people.get(name="五十一人目"))
        response = self.client.get(url, {"page": 2})
        self.assertEqual(len(response.context["rows"]), 1)
        self.assertContains(response, "2 / 2 ページ")


class ResultsIndexTests(ResultsViewTestCase):
    def test_it_lists_campaigns_with_results_and_their_headline_figures(self):
        make_campaign(self.ward_a, scenarios=[make_scenario(self.ward_a, "下書き")], round_number=2, title="下書きの回")
        self.login(self.bob)
        response = self.client.get(reverse("drills:results"))
        campaign = response.context["campaigns"].get()
        self.assertEqual((campaign.delivered, campaign.failed, campaign.reported), (5, 3, 3))
        self.assertNotContains(response, "下書きの回")

    def test_a_department_manager_sees_closed_campaigns_only(self):
        self.login(self.manager)
        self.assertEqual(list(self.client.get(reverse("drills:results")).context["campaigns"]), [])
        self.close()
        response = self.client.get(reverse("drills:results"))
        self.assertContains(response, "5 人未満のため表示しません")
        self.assertEqual(response.context["campaigns"].get().delivered, 3)

    def test_a_department_manager_finds_it_from_the_plan(self):
        self.login(self.manager)
        self.assertContains(self.client.get(reverse("drills:plan")), reverse("drills:results"))

    def test_charlie_sees_none_of_ward_as_campaigns(self):
        self.login(self.charlie)
        response = self.client.get(reverse("drills:results"))
        self.assertEqual(list(response.context["campaigns"]), [])
