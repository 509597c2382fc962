import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mamori.core.models import AuditEntry, Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person, make_user
from mamori.drills.actions.campaigns import launch_campaign
from mamori.drills.fiscal import current_fiscal_year, fiscal_year_last_day, today_in_japan
from mamori.drills.models import Campaign, Delivery, Scenario
from mamori.drills.schedule import JST, business_days
from mamori.drills.tests.makers import make_campaign, make_scenario, make_sending_profile

BEFORE_WINDOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=JST)


def upcoming_window() -> tuple[datetime.date, datetime.date]:
    """Two business days from tomorrow on, inside the current fiscal year (or next year's first days)."""
    days = business_days(today_in_japan() + datetime.timedelta(days=1), today_in_japan() + datetime.timedelta(days=30))
    last_day = fiscal_year_last_day(current_fiscal_year())
    in_year = [day for day in days if day <= last_day] or days
    return in_year[0], in_year[min(1, len(in_year) - 1)]


class CampaignViewTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.scenario = make_scenario(cls.ward_a, "委託先からの請求書")
        cls.profile = make_sending_profile(cls.ward_a, "A区SMTP")
        cls.campaign = make_campaign(cls.ward_a, scenarios=[cls.scenario], profile=cls.profile, title="請求書訓練")
        cls.csirt = make_user("carol", organization=cls.ward_a, role=Membership.Role.CSIRT)
        cls.manager = make_user("dave", organization=cls.ward_a, role=Membership.Role.DEPT_MANAGER)
        Membership.objects.filter(user=cls.manager).update(department=cls.general_affairs)

    def url(self, name: str, campaign=None) -> str:
        campaign = campaign or self.campaign
        return reverse(f"drills:{name}", kwargs={"campaign_id": campaign.public_id})

    def launch(self):
        launch_campaign(self.campaign, self.alice, now=BEFORE_WINDOW, seed=1)


class CampaignListTests(CampaignViewTestCase):
    def test_it_lists_the_fiscal_years_campaigns_with_counts(self):
        self.launch()
        self.login(self.alice)
        response = self.client.get(reverse("drills:campaigns"), {"year": 2026})
        self.assertContains(response, "2026年度 第1回 請求書訓練")
        self.assertContains(response, "予約済み")
        self.assertContains(response, "新しい訓練実施回")

    def test_other_years_are_not_listed(self):
        self.login(self.alice)
        response = self.client.get(reverse("drills:campaigns"), {"year": 2025})
        self.assertNotContains(response, "請求書訓練")
        self.assertContains(response, "2025年度の訓練実施回はまだありません。")

    def test_the_list_costs_the_same_with_more_campaigns(self):
        self.launch()
        self.login(self.alice)
        url = reverse("drills:campaigns") + "?year=2026"
        with CaptureQueriesContext(connection) as one_campaign:
            self.client.get(url)
        for number in range(2, 6):
            make_campaign(self.ward_a, scenarios=[self.scenario], profile=self.profile, round_number=number)
        with self.assertNumQueries(len(one_campaign)):
            response = self.client.get(url)
        self.assertContains(response, "2026年度 第5回")

    def test_an_auditor_sees_the_list_without_the_create_button(self):
        self.login(self.bob)
        response = self.client.get(reverse("drills:campaigns"), {"year": 2026})
        self.assertContains(response, "請求書訓練")
        self.assertNotContains(response, "新しい訓練実施回")

    def test_it_hides_other_wards_campaigns(self):
        self.login(self.charlie)
        response = self.client.get(reverse("drills:campaigns"), {"year": 2026})
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "請求書訓練")

    def test_a_dept_manager_is_sent_to_the_plan(self):
        self.login(self.manager)
        self.assertRedirects(self.client.get(reverse("drills:campaigns")), reverse("drills:plan"))
        self.assertEqual(self.client.get(self.url("campaign-detail")).status_code, 403)

    def test_the_navigation_links_to_the_campaigns(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:home"))
        self.assertContains(response, f'href="{reverse("drills:campaigns")}"')


class CampaignDetailTests(CampaignViewTestCase):
    def test_a_draft_shows_the_audience_preview_and_the_actions(self):
        self.login(self.alice)
        response = self.client.get(self.url("campaign-detail"))
        self.assertContains(response, "1 人に送ります。")
        self.assertContains(response, "総務部 › 総務課 › 文書係")
        self.assertContains(response, self.url("campaign-launch"))
        self.assertContains(response, self.url("campaign-edit"))

    def test_it_names_the_holidays_it_skips(self):
        campaign = make_campaign(
            self.ward_a,
            round_number=2,
            starts_on=datetime.date(2026, 11, 20),
            ends_on=datetime.date(2026, 11, 25),
        )
        self.login(self.alice)
        response = self.client.get(self.url("campaign-detail", campaign))
        self.assertContains(response, "11月23日（勤労感謝の日）")
        self.assertContains(response, "3 日")

    def test_it_warns_about_explicit_outsiders_before_launch(self):
        self.campaign.included_people.add(self.person_b)
        self.login(self.alice)
        response = self.client.get(self.url("campaign-detail"))
        self.assertContains(response, "名簿にない（他の組織の）職員 1 名")
        self.assertContains(response, "このままでは開始できません。")

    def test_a_launched_campaign_shows_progress_and_the_frozen_audience(self):
        self.launch()
        self.login(self.alice)
        response = self.client.get(self.url("campaign-detail"))
        self.assertContains(response, "送信の進み具合")
        self.assertContains(response, 'hx-trigger="every 5s"')
        self.assertContains(response, "対象者（開始時に確定）")
        self.assertNotContains(response, self.url("campaign-edit"))
        self.assertContains(response, self.url("campaign-pause"))

    def test_an_auditor_sees_the_campaign_without_actions(self):
        self.login(self.bob)
        response = self.client.get(self.url("campaign-detail"))
        self.assertContains(response, "請求書訓練")
        self.assertNotContains(response, self.url("campaign-launch"))

    def test_charlie_gets_404_for_ward_as_campaign(self):
        self.login(self.charlie)
        for name in ("campaign-detail", "campaign-edit", "campaign-progress", "campaign-launch", "campaign-cancel"):
            self.assertEqual(self.client.get(self.url(name)).status_code, 404, name)


class CampaignFormTests(CampaignViewTestCase):
    def form_data(self, **overrides) -> dict:
        starts_on, ends_on = upcoming_window()
        data = {
            "fiscal_year": current_fiscal_year(),
            "round_number": 5,
            "title": "",
            "scenarios": [self.scenario.pk],
            "assignment": Campaign.Assignment.BALANCED,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "business_hours_start": "09:00",
            "business_hours_end": "17:00",
            "sending_profile": self.profile.pk,
            "include_list": "",
            "exclude_list": "",
        }
        data.update(overrides)
        return data

    def test_the_new_form_proposes_the_next_free_round(self):
        make_campaign(self.ward_a, fiscal_year=current_fiscal_year(), round_number=3, profile=self.profile)
        self.login(self.alice)
        response = self.client.get(reverse("drills:campaign-create"))
        self.assertEqual(response.context["form"]["round_number"].value(), 4)

    def test_it_offers_own_and_library_scenarios_and_own_profiles_only(self):
        library = Scenario.objects.create(
            name="ライブラリの通達", subject="s", sender_name="n", sender_address="a@example.jp", text_body="b"
        )
        make_scenario(self.ward_b, "B区のシナリオ")
        make_scenario(self.ward_a, "アーカイブ済み", archived=True)
        make_sending_profile(self.ward_b, "B区SMTP")
        self.login(self.alice)
        response = self.client.get(reverse("drills:campaign-create"))
        self.assertContains(response, library.name)
        self.assertContains(response, "委託先からの請求書")
        self.assertNotContains(response, "B区のシナリオ")
        self.assertNotContains(response, "アーカイブ済み")
        self.assertNotContains(response, "B区SMTP")

    def test_it_saves_a_draft_with_its_audience_and_records_it(self):
        make_person(self.ward_a, "課長", department=self.tax, position="課長")
        extra = make_person(self.ward_a, "追加 職員", employee_number="E900001", department=self.tax)
        self.login(self.alice)
        data = self.form_data(
            audience_departments=[self.general_affairs.pk],
            audience_positions=["課長"],
            audience_employment_types=["fiscal_year"],
            include_list="E900001 追加 職員\n",
            exclude_list="yamada@city-a.lg.jp",
        )
        response = self.client.post(reverse("drills:campaign-create"), data)
        campaign = Campaign.objects.get(round_number=5, fiscal_year=current_fiscal_year())
        self.assertRedirects(response, self.url("campaign-detail", campaign))
        self.assertEqual(campaign.organization, self.ward_a)
        self.assertEqual(campaign.created_by, self.alice)
        self.assertEqual(list(campaign.audience_departments.all()), [self.general_affairs])
        self.assertEqual(campaign.audience_positions, ["課長"])
        self.assertEqual(list(campaign.included_people.all()), [extra])
        self.assertEqual(list(campaign.excluded_people.all()), [self.person_a])
        self.assertTrue(AuditEntry.objects.filter(action="campaign.created", actor=self.alice).exists())

    def test_it_rejects_a_window_without_business_days_in_japanese(self):
        self.login(self.alice)
        year = current_fiscal_year()
        response = self.client.post(
            reverse("drills:campaign-create"),
            self.form_data(fiscal_year=year + 1, starts_on=f"{year + 1}-12-29", ends_on=f"{year + 2}-01-03"),
        )
        self.assertContains(response, "期間中に送信できる日（土日・祝日・年末年始を除く平日）がありません。")
        self.assertFalse(Campaign.objects.filter(fiscal_year=year + 1).exists())

    def test_it_rejects_dates_outside_the_fiscal_year(self):
        self.login(self.alice)
        year = current_fiscal_year()
        response = self.client.post(reverse("drills:campaign-create"), self.form_data(ends_on=f"{year + 1}-04-02"))
        self.assertContains(response, f"{year}年度（{year}/04/01〜{year + 1}/03/31）の日付にしてください。")

    def test_it_rejects_hours_in_the_wrong_order_and_a_taken_round(self):
        self.login(self.alice)
        make_campaign(self.ward_a, fiscal_year=current_fiscal_year(), round_number=5, profile=self.profile)
        response = self.client.post(
            reverse("drills:campaign-create"),
            self.form_data(business_hours_start="17:00", business_hours_end="09:00"),
        )
        self.assertContains(response, "送信開始時刻は送信終了時刻より前にしてください。")
        self.assertContains(response, "第5回はすでにあります。")

    def test_it_rejects_unknown_and_unreachable_explicit_people(self):
        make_person(self.ward_a, "私用", employee_number="E900002", email="p@gmail.example")
        self.login(self.alice)
        response = self.client.post(
            reverse("drills:campaign-create"),
            self.form_data(include_list="E999999\nE900002", exclude_list="suzuki@city-b.lg.jp"),
        )
        self.assertContains(response, "名簿に見つかりません: E999999")
        self.assertContains(response, "名簿に見つかりません: suzuki@city-b.lg.jp")
        self.assertEqual(Campaign.objects.count(), 1)

    def test_it_rejects_a_profile_or_scenario_of_another_ward(self):
        self.login(self.alice)
        response = self.client.post(
            reverse("drills:campaign-create"),
            self.form_data(
                sending_profile=make_sending_profile(self.ward_b).pk, scenarios=[make_scenario(self.ward_b).pk]
            ),
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(response.context["form"].errors), {"sending_profile", "scenarios"})

    def test_a_draft_can_be_edited_and_the_edit_is_recorded(self):
        self.login(self.alice)
        data = self.form_data(title="新しい名前", round_number=9)
        campaign = make_campaign(self.ward_a, fiscal_year=current_fiscal_year(), profile=self.profile, round_number=9)
        response = self.client.post(self.url("campaign-edit", campaign), data)
        self.assertRedirects(response, self.url("campaign-detail", campaign))
        campaign.refresh_from_db()
        self.assertEqual(campaign.title, "新しい名前")
        self.assertTrue(AuditEntry.objects.filter(action="campaign.updated").exists())

    def test_the_edit_form_shows_the_explicit_people_as_lines(self):
        self.campaign.included_people.add(self.person_a)
        self.login(self.alice)
        response = self.client.get(self.url("campaign-edit"))
        self.assertContains(response, f"{self.person_a.employee_number} 山田 太郎")

    def test_a_launched_campaign_cannot_be_edited(self):
        self.launch()
        self.login(self.alice)
        response = self.client.post(self.url("campaign-edit"), self.form_data(title="変更"))
        self.assertRedirects(response, self.url("campaign-detail"), fetch_redirect_response=False)
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.title, "請求書訓練")

    def test_an_auditor_cannot_create_or_edit(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("drills:campaign-create")).status_code, 403)
        self.assertEqual(self.client.post(self.url("campaign-edit"), self.form_data()).status_code, 403)

    def test_charlie_cannot_edit_ward_as_campaign(self):
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url("campaign-edit"), self.form_data(title="x")).status_code, 404)
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.title, "請求書訓練")


class CampaignActionViewTests(CampaignViewTestCase):
    def test_launch_asks_for_confirmation_first(self):
        self.login(self.alice)
        response = self.client.get(self.url("campaign-launch"))
        self.assertContains(response, "訓練を開始しますか")
        self.assertContains(response, "1 人")
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.state, Campaign.State.DRAFT)

    def test_launch_refusal_is_shown_and_changes_nothing(self):
        self.campaign.included_people.add(self.person_b)
        self.login(self.alice)
        response = self.client.post(self.url("campaign-launch"), follow=True)
        self.assertContains(response, "名簿にない（他の組織の）職員 1 名")
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.state, Campaign.State.DRAFT)

    def test_bob_the_auditor_cannot_launch(self):
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url("campaign-launch")).status_code, 403)
        self.assertEqual(self.client.get(self.url("campaign-launch")).status_code, 403)
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.state, Campaign.State.DRAFT)

    def test_csirt_cannot_pause_or_cancel(self):
        self.launch()
        self.login(self.csirt)
        self.assertEqual(self.client.post(self.url("campaign-pause")).status_code, 403)
        self.assertEqual(self.client.post(self.url("campaign-cancel")).status_code, 403)

    def test_charlie_cannot_launch_ward_as_campaign(self):
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url("campaign-launch")).status_code, 404)
        self.assertFalse(Delivery.objects.exists())

    def test_pause_resume_and_cancel_through_the_pages(self):
        self.launch()
        self.login(self.alice)
        self.client.post(self.url("campaign-pause"))
        self.campaign.refresh_from_db()
        self.assertTrue(self.campaign.is_paused)
        self.client.post(self.url("campaign-resume"))
        self.campaign.refresh_from_db()
        self.assertFalse(self.campaign.is_paused)
        self.assertContains(self.client.get(self.url("campaign-cancel")), "まだ送信していない 1 通は送信されません。")
        response = self.client.post(self.url("campaign-cancel"), follow=True)
        self.assertContains(response, "を中止しました。")
        self.assertEqual(Delivery.objects.get().state, Delivery.State.CANCELLED)

    def test_an_invalid_transition_is_explained(self):
        self.login(self.alice)
        response = self.client.post(self.url("campaign-close"), follow=True)
        self.assertContains(response, "は下書きのため、終了できません。")

    def test_actions_need_post(self):
        self.launch()
        self.login(self.alice)
        for name in ("campaign-pause", "campaign-resume", "campaign-close"):
            self.assertEqual(self.client.get(self.url(name)).status_code, 405, name)


class CampaignProgressTests(CampaignViewTestCase):
    def test_the_page_and_the_partial_come_from_the_same_view(self):
        self.launch()
        self.login(self.bob)
        page = self.client.get(self.url("campaign-progress"))
        self.assertContains(page, "<html", html=False)
        partial = self.client.get(self.url("campaign-progress"), headers={"HX-Request": "true"})
        self.assertNotContains(partial, "<html", html=False)
        self.assertContains(partial, 'id="campaign-progress"')
        self.assertContains(partial, "every 5s")

    def test_it_counts_by_state_and_estimates_the_finish(self):
        for number in range(3):
            make_person(self.ward_a, f"職員{number}", department=self.tax)
        self.launch()
        deliveries = list(Delivery.objects.order_by("scheduled_at"))
        Delivery.objects.filter(pk=deliveries[0].pk).update(state=Delivery.State.SENT, sent_at=timezone.now())
        Delivery.objects.filter(pk=deliveries[1].pk).update(state=Delivery.State.FAILED)
        self.login(self.alice)
        progress = self.client.get(self.url("campaign-progress"), headers={"HX-Request": "true"}).context["progress"]
        self.assertEqual((progress.total, progress.sent, progress.failed, progress.queued), (4, 1, 1, 2))
        self.assertEqual(progress.next_send, deliveries[2].scheduled_at)
        self.assertIsNotNone(progress.finish)

    def test_polling_stops_when_nothing_more_will_be_sent(self):
        self.launch()
        Campaign.objects.filter(pk=self.campaign.pk).update(state=Campaign.State.RUNNING)
        self.login(self.alice)
        partial = self.client.get(self.url("campaign-progress"), headers={"HX-Request": "true"})
        self.assertNotContains(partial, "hx-trigger")

    def test_the_partial_costs_a_constant_number_of_queries(self):
        self.launch()
        self.login(self.alice)
        url = self.url("campaign-progress")
        self.client.get(url, headers={"HX-Request": "true"})
        # session, user, memberships, the campaign with its profile, one aggregate of the deliveries,
        # and the session saved again (savepoint, update, release: sessions slide on every request)
        with self.assertNumQueries(8):
            self.client.get(url, headers={"HX-Request": "true"})
        for number in range(30):
            person = make_person(self.ward_a, f"追加{number}", department=self.tax)
            Delivery.objects.create(
                organization=self.ward_a,
                campaign=self.campaign,
                person=person,
                scenario=self.scenario,
                email=person.email,
                scheduled_at=BEFORE_WINDOW,
            )
        with self.assertNumQueries(8):
            self.client.get(url, headers={"HX-Request": "true"})


class PeopleSearchTests(CampaignViewTestCase):
    def test_it_finds_the_wards_active_staff_with_their_numbers(self):
        self.login(self.alice)
        response = self.client.get(
            reverse("drills:campaign-people-search"), {"q": "山田"}, headers={"HX-Request": "true"}
        )
        self.assertContains(response, self.person_a.employee_number)
        self.assertNotContains(response, "<html", html=False)

    def test_without_javascript_it_is_a_page(self):
        self.login(self.alice)
        response = self.client.get(reverse("drills:campaign-people-search"), {"q": "山田"})
        self.assertContains(response, "<html", html=False)
        self.assertContains(response, self.person_a.employee_number)

    def test_charlie_finds_nobody_of_ward_a(self):
        self.login(self.charlie)
        response = self.client.get(reverse("drills:campaign-people-search"), {"q": "山田"})
        self.assertNotContains(response, self.person_a.employee_number)
        self.assertNotContains(response, "yamada@city-a.lg.jp")
        self.assertContains(response, "該当する在籍職員はいません。")
