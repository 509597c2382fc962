import datetime

from mamori.core.models import AuditEntry
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_department, make_person
from mamori.drills.actions.campaigns import (
    CampaignError,
    cancel_campaign,
    close_campaign,
    launch_campaign,
    pause_campaign,
    resume_campaign,
)
from mamori.drills.models import Campaign, Delivery
from mamori.drills.schedule import JST, is_business_day
from mamori.drills.tests.makers import make_campaign, make_scenario, make_sending_profile

State = Campaign.State
# The campaign's window is 2026-12-01 (Tue) to 2026-12-04 (Fri), 9:00–17:00; it is launched the day before.
BEFORE_WINDOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=JST)


class LaunchTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.clerical = make_department(cls.ward_a, "総務部/総務課/庶務係")
        for number in range(12):
            department = cls.clerical if number % 2 else cls.tax
            make_person(cls.ward_a, f"職員{number:02d}", email=f"staff{number}@city-a.lg.jp", department=department)
        cls.invoice = make_scenario(cls.ward_a, "委託先からの請求書")
        cls.password = make_scenario(cls.ward_a, "パスワード失効通知")

    def setUp(self):
        self.campaign = make_campaign(self.ward_a, scenarios=[self.invoice, self.password])

    def launch(self, campaign=None, **kwargs):
        return launch_campaign(campaign or self.campaign, self.alice, now=BEFORE_WINDOW, seed=1, **kwargs)

    def assert_refused(self, message_part: str, campaign=None):
        campaign = campaign or self.campaign
        audit_before = AuditEntry.objects.count()
        with self.assertRaisesMessage(CampaignError, message_part):
            self.launch(campaign)
        campaign.refresh_from_db()
        self.assertEqual(campaign.state, State.DRAFT)
        self.assertFalse(Delivery.objects.filter(campaign=campaign).exists())
        self.assertEqual(AuditEntry.objects.count(), audit_before)

    def test_it_creates_exactly_one_delivery_per_person_with_unique_tokens(self):
        created = self.launch()
        deliveries = list(Delivery.objects.filter(campaign=self.campaign).select_related("person"))
        self.assertEqual(created, 13)  # 12 staff and 山田 太郎
        self.assertEqual(len(deliveries), 13)
        self.assertEqual(len({d.person_id for d in deliveries}), 13)
        self.assertEqual(len({d.token for d in deliveries}), 13)
        self.assertTrue(all(len(d.token) >= 22 for d in deliveries))
        for delivery in deliveries:
            self.assertEqual(delivery.organization, self.ward_a)
            self.assertEqual(delivery.email, delivery.person.email)
            self.assertEqual(delivery.state, Delivery.State.QUEUED)
            self.assertIn(delivery.scenario, [self.invoice, self.password])

    def test_it_schedules_every_delivery_in_the_window(self):
        self.launch()
        for scheduled_at in Delivery.objects.filter(campaign=self.campaign).values_list("scheduled_at", flat=True):
            local = scheduled_at.astimezone(JST)
            self.assertTrue(datetime.date(2026, 12, 1) <= local.date() <= datetime.date(2026, 12, 4))
            self.assertTrue(is_business_day(local.date()))
            self.assertTrue(datetime.time(9) <= local.time() < datetime.time(17))

    def test_balanced_assignment_shares_the_scenarios_evenly(self):
        self.launch()
        shares = Delivery.objects.filter(campaign=self.campaign).values_list("scenario", flat=True)
        counts = [list(shares).count(self.invoice.pk), list(shares).count(self.password.pk)]
        self.assertEqual(sorted(counts), [6, 7])

    def test_it_moves_the_campaign_to_scheduled_and_records_who_launched_it(self):
        self.launch()
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.state, State.SCHEDULED)
        self.assertEqual(self.campaign.launched_at, BEFORE_WINDOW)
        entry = AuditEntry.objects.get(action="campaign.launched")
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.organization, self.ward_a)
        self.assertEqual(entry.details["recipients"], 13)
        self.assertEqual(entry.target, "2026年度 第1回")

    def test_the_frozen_address_does_not_follow_later_roster_changes(self):
        self.launch()
        self.person_a.email = "new-yamada@city-a.lg.jp"
        self.person_a.save()
        self.assertEqual(Delivery.objects.get(person=self.person_a).email, "yamada@city-a.lg.jp")

    def test_it_refuses_an_explicit_person_outside_the_verified_domains(self):
        outsider = make_person(self.ward_a, "私用 アドレス", email="private@gmail.example", department=self.tax)
        self.campaign.included_people.add(outsider)
        self.assert_refused("確認済みドメイン以外のアドレス 1 名")

    def test_it_refuses_an_explicit_person_of_another_organization(self):
        self.campaign.included_people.add(self.person_b)
        self.assert_refused("名簿にない（他の組織の）職員 1 名")

    def test_it_refuses_an_explicit_person_who_left(self):
        self.campaign.included_people.add(make_person(self.ward_a, "退職者", active=False))
        self.assert_refused("在籍していない職員 1 名")

    def test_people_with_outsider_addresses_in_a_department_are_left_out_not_mailed(self):
        make_person(self.ward_a, "私用 アドレス", email="private@gmail.example", department=self.tax)
        self.assertEqual(self.launch(), 13)
        self.assertFalse(Delivery.objects.filter(email__endswith="gmail.example").exists())

    def test_it_refuses_without_a_scenario(self):
        self.campaign.scenarios.clear()
        self.assert_refused("シナリオを1つ以上選んでください。")

    def test_it_refuses_an_archived_scenario_or_one_of_another_ward(self):
        self.campaign.scenarios.add(make_scenario(self.ward_b, "B区のシナリオ"))
        self.assert_refused("B区のシナリオ")

    def test_it_refuses_a_sending_profile_of_another_organization(self):
        campaign = make_campaign(self.ward_a, round_number=2, profile=make_sending_profile(self.ward_b))
        self.assert_refused("送信設定はこの組織のものを選んでください。", campaign)

    def test_it_refuses_a_window_that_has_ended(self):
        with self.assertRaisesMessage(CampaignError, "送信期間が終わっています"):
            launch_campaign(self.campaign, self.alice, now=datetime.datetime(2026, 12, 4, 17, tzinfo=JST))

    def test_it_refuses_an_empty_audience(self):
        self.campaign.audience_positions = ["区長"]
        self.campaign.save()
        self.assert_refused("対象者がいません。")

    def test_it_cannot_launch_twice(self):
        self.launch()
        with self.assertRaisesMessage(CampaignError, "予約済みのため、開始できません"):
            self.launch()
        self.assertEqual(Delivery.objects.filter(campaign=self.campaign).count(), 13)

    def test_a_launch_mid_window_schedules_nothing_in_the_past(self):
        now = datetime.datetime(2026, 12, 3, 15, 30, tzinfo=JST)
        launch_campaign(self.campaign, self.alice, now=now, seed=3)
        earliest = Delivery.objects.filter(campaign=self.campaign).order_by("scheduled_at").first().scheduled_at
        self.assertGreaterEqual(earliest, now)


class StateTransitionTests(BaseTestCase):
    def setUp(self):
        self.campaign = make_campaign(self.ward_a)
        make_person(self.ward_a, "職員 一", department=self.tax)

    def launched(self) -> Campaign:
        launch_campaign(self.campaign, self.alice, now=BEFORE_WINDOW, seed=1)
        return self.campaign

    def assert_refused(self, action, *args, **kwargs):
        before = Campaign.objects.values("state", "paused_at", "closed_at").get(pk=self.campaign.pk)
        deliveries_before = list(Delivery.objects.values_list("state", flat=True))
        audit_before = AuditEntry.objects.count()
        with self.assertRaises(CampaignError) as caught:
            action(self.campaign, self.alice, *args, **kwargs)
        self.assertIn("できません", str(caught.exception))
        self.assertEqual(Campaign.objects.values("state", "paused_at", "closed_at").get(pk=self.campaign.pk), before)
        self.assertEqual(list(Delivery.objects.values_list("state", flat=True)), deliveries_before)
        self.assertEqual(AuditEntry.objects.count(), audit_before)

    def test_pause_and_resume_set_and_clear_paused_at_with_audit_entries(self):
        self.launched()
        pause_campaign(self.campaign, self.alice)
        self.campaign.refresh_from_db()
        self.assertIsNotNone(self.campaign.paused_at)
        resume_campaign(self.campaign, self.alice)
        self.campaign.refresh_from_db()
        self.assertIsNone(self.campaign.paused_at)
        self.assertEqual(
            list(AuditEntry.objects.order_by("id").values_list("action", flat=True)),
            ["campaign.launched", "campaign.paused", "campaign.resumed"],
        )

    def test_a_draft_cannot_be_paused_resumed_or_closed(self):
        self.assert_refused(pause_campaign)
        self.assert_refused(resume_campaign)
        self.assert_refused(close_campaign)

    def test_a_paused_campaign_cannot_be_paused_again(self):
        self.launched()
        pause_campaign(self.campaign, self.alice)
        self.assert_refused(pause_campaign)

    def test_resuming_spreads_mail_that_fell_due_during_the_pause_over_the_rest_of_the_window(self):
        self.launched()
        pause_campaign(self.campaign, self.alice, now=BEFORE_WINDOW)
        Delivery.objects.update(scheduled_at=datetime.datetime(2026, 12, 1, 10, tzinfo=JST))
        resume_at = datetime.datetime(2026, 12, 3, 16, tzinfo=JST)
        self.assertEqual(resume_campaign(self.campaign, self.alice, now=resume_at, seed=2), 2)
        for scheduled_at in Delivery.objects.values_list("scheduled_at", flat=True):
            self.assertTrue(resume_at <= scheduled_at < datetime.datetime(2026, 12, 4, 17, tzinfo=JST))

    def test_resuming_after_the_window_sends_the_rest_on_the_next_business_day(self):
        self.launched()
        pause_campaign(self.campaign, self.alice, now=BEFORE_WINDOW)
        resume_at = datetime.datetime(2026, 12, 25, 18, tzinfo=JST)  # Friday evening before 年末年始
        resume_campaign(self.campaign, self.alice, now=resume_at, seed=2)
        for scheduled_at in Delivery.objects.values_list("scheduled_at", flat=True):
            self.assertEqual(scheduled_at.astimezone(JST).date(), datetime.date(2026, 12, 28))

    def test_cancel_cancels_the_queued_mail_only(self):
        self.launched()
        sent = Delivery.objects.first()
        sent.state = Delivery.State.SENT
        sent.save()
        self.assertEqual(cancel_campaign(self.campaign, self.alice), 1)
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.state, State.CANCELLED)
        self.assertEqual(
            sorted(Delivery.objects.values_list("state", flat=True)), [Delivery.State.CANCELLED, Delivery.State.SENT]
        )
        self.assertEqual(AuditEntry.objects.get(action="campaign.cancelled").details["cancelled_deliveries"], 1)

    def test_a_draft_can_be_cancelled(self):
        cancel_campaign(self.campaign, self.alice)
        self.assertEqual(self.campaign.state, State.CANCELLED)

    def test_a_cancelled_campaign_can_do_nothing_more(self):
        cancel_campaign(self.campaign, self.alice)
        for action in (launch_campaign, pause_campaign, resume_campaign, cancel_campaign, close_campaign):
            self.assert_refused(action)

    def test_close_ends_a_running_campaign(self):
        self.launched()
        Campaign.objects.filter(pk=self.campaign.pk).update(state=State.RUNNING)  # the sender's move
        close_campaign(self.campaign, self.alice)
        self.campaign.refresh_from_db()
        self.assertEqual(self.campaign.state, State.CLOSED)
        self.assertIsNotNone(self.campaign.closed_at)
        self.assertTrue(AuditEntry.objects.filter(action="campaign.closed", actor=self.alice).exists())

    def test_a_scheduled_campaign_cannot_be_closed_and_a_running_one_cannot_be_paused(self):
        self.launched()
        self.assert_refused(close_campaign)
        Campaign.objects.filter(pk=self.campaign.pk).update(state=State.RUNNING)
        self.assert_refused(pause_campaign)
        self.assert_refused(cancel_campaign)

    def test_the_error_names_the_campaign_and_its_state_in_japanese(self):
        with self.assertRaisesMessage(CampaignError, "「2026年度 第1回」は下書きのため、一時停止できません。"):
            pause_campaign(self.campaign, self.alice)
