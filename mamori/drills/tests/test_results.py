"""The results aggregates on hand-built deliveries and events whose answers are known."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from mamori.core.models import Person
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person
from mamori.drills.models import Campaign, Delivery, Event
from mamori.drills.results import (
    Outcome,
    ResultFilter,
    Verdict,
    delivered_to,
    duration_label,
    funnel_of,
    group_results,
    human_actions_of,
    people_results,
    positions_of,
    timeline_of,
)
from mamori.drills.schedule import JST
from mamori.drills.tests.makers import make_campaign, make_scenario

SENT = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=JST)
Employment = Person.EmploymentType
Kind = Event.Kind


def after(**delta) -> datetime.datetime:
    return SENT + datetime.timedelta(**delta)


def deliver(campaign, person, *, state=Delivery.State.SENT, **times) -> Delivery:
    return Delivery.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        person=person,
        scenario=campaign.scenarios.first(),
        email=person.email,
        scheduled_at=SENT,
        state=state,
        sent_at=SENT if state == Delivery.State.SENT else None,
        **times,
    )


def hit(delivery, kind, at, *, automated=None, reasons=(), **fields) -> Event:
    return Event.objects.create(
        organization=delivery.organization,
        delivery=delivery,
        kind=kind,
        at=at,
        automated=automated,
        reasons=list(reasons),
        classified_at=None if automated is None else at + datetime.timedelta(minutes=1),
        **fields,
    )


class ResultsTestCase(BaseTestCase):
    """Five recipients of a running campaign in two departments, with known human and automated hits.

    ============  ==========  ===========  ====  ============================================  ==========
    delivery      department  employment   役職  human (Delivery.first_*)                      reported
    ============  ==========  ===========  ====  ============================================  ==========
    yamada        総務課      regular      係長  click +5m (+ automated click, trap hit)        +30m
    sato          総務課      fiscal_year  主事  click +10m, submit +11m                       —
    suzuki        税務課      regular      主事  — (one automated click: many_tokens)          +1h30m
    tanaka        税務課      dispatched   主事  QR scan +20m, open; one click not classified  —
    ito           税務課      regular      主事  —                                             +2h
    ============  ==========  ===========  ====  ============================================  ==========

    Not counted: a queued delivery (with a stray click time) and ward B's campaign.
    """

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        Person.objects.filter(pk=cls.person_a.pk).update(position="係長")
        cls.person_a.refresh_from_db()
        cls.sato = make_person(
            cls.ward_a,
            "佐藤 次郎",
            department=cls.general_affairs,
            position="主事",
            employment_type=Employment.FISCAL_YEAR,
        )
        cls.suzuki = make_person(cls.ward_a, "鈴木 三郎", department=cls.tax, position="主事")
        cls.tanaka = make_person(
            cls.ward_a, "田中 四郎", department=cls.tax, position="主事", employment_type=Employment.DISPATCHED
        )
        cls.ito = make_person(cls.ward_a, "伊藤 五郎", department=cls.tax, position="主事")
        cls.kato = make_person(cls.ward_a, "加藤 未送", department=cls.tax, position="主任")
        cls.campaign = make_campaign(cls.ward_a, scenarios=[make_scenario(cls.ward_a, "委託先からの請求書")])
        Campaign.objects.filter(pk=cls.campaign.pk).update(state=Campaign.State.RUNNING)
        cls.campaign.refresh_from_db()

        cls.yamada_mail = deliver(
            cls.campaign, cls.person_a, first_clicked_at=after(minutes=5), reported_at=after(minutes=30)
        )
        hit(cls.yamada_mail, Kind.TRAP, after(seconds=1), automated=True, reasons=["trap"])
        hit(
            cls.yamada_mail,
            Kind.CLICK,
            after(seconds=2),
            automated=True,
            reasons=["latency", "scanner_user_agent"],
            user_agent="LinkScanner/2.0",
            client_address="198.51.100.0",
        )
        hit(cls.yamada_mail, Kind.CLICK, after(minutes=5), automated=False, user_agent="Mozilla/5.0 (Windows NT 10.0)")
        hit(cls.yamada_mail, Kind.CONFIRM, after(minutes=5, seconds=1), automated=False)

        cls.sato_mail = deliver(
            cls.campaign, cls.sato, first_clicked_at=after(minutes=10), first_submitted_at=after(minutes=11)
        )
        hit(cls.sato_mail, Kind.CLICK, after(minutes=10), automated=False)
        hit(cls.sato_mail, Kind.SUBMIT, after(minutes=11), automated=False, filled_fields=["username", "password"])

        cls.suzuki_mail = deliver(cls.campaign, cls.suzuki, reported_at=after(hours=1, minutes=30))
        hit(cls.suzuki_mail, Kind.CLICK, after(minutes=3), automated=True, reasons=["many_tokens"])

        cls.tanaka_mail = deliver(cls.campaign, cls.tanaka, first_scanned_at=after(minutes=20))
        hit(cls.tanaka_mail, Kind.OPEN, after(minutes=15), automated=False)
        hit(cls.tanaka_mail, Kind.QR_SCAN, after(minutes=20), automated=False, source="qr")
        hit(cls.tanaka_mail, Kind.CLICK, after(minutes=40))

        cls.ito_mail = deliver(cls.campaign, cls.ito, reported_at=after(hours=2))
        deliver(cls.campaign, cls.kato, state=Delivery.State.QUEUED, first_clicked_at=after(minutes=1))

        ward_b_campaign = make_campaign(cls.ward_b, scenarios=[make_scenario(cls.ward_b)])
        ward_b_mail = deliver(ward_b_campaign, cls.person_b, first_clicked_at=after(minutes=1))
        hit(ward_b_mail, Kind.CLICK, after(minutes=1), automated=False)
        hit(ward_b_mail, Kind.CLICK, after(seconds=1), automated=True, reasons=["trap"])


class FunnelTests(ResultsTestCase):
    def test_it_counts_human_actions_per_step_from_the_delivery_times(self):
        funnel = funnel_of(delivered_to(self.campaign))
        self.assertEqual(funnel.delivered, 5)
        self.assertEqual(
            [(step.label, step.people) for step in funnel.steps],
            [
                ("リンクをクリック", 2),
                ("QRコードを読み取り", 1),
                ("添付ファイルを開いた", 0),
                ("フォームに入力", 1),
                ("返信", 0),
            ],
        )
        self.assertEqual(funnel.failed, 3)  # yamada, sato, tanaka: sato's click and submit count once
        self.assertEqual(funnel.failed_percent, 60.0)
        self.assertEqual(funnel.reported, 3)
        self.assertEqual(funnel.opened_people, 1)

    def test_it_shows_automated_and_unclassified_hits_beside_each_step(self):
        click = funnel_of(delivered_to(self.campaign)).steps[0]
        self.assertEqual((click.hits, click.automated_hits, click.pending_hits), (5, 2, 1))

    def test_it_keeps_the_raw_counts_of_every_kind(self):
        raw = {row.kind: row for row in funnel_of(delivered_to(self.campaign)).raw}
        self.assertEqual((raw[Kind.CLICK].hits, raw[Kind.CLICK].human_hits, raw[Kind.CLICK].automated_hits), (5, 2, 2))
        self.assertEqual((raw[Kind.CLICK].human_people, raw[Kind.CLICK].automated_people), (2, 2))
        self.assertEqual((raw[Kind.TRAP].hits, raw[Kind.TRAP].automated_hits), (1, 1))
        self.assertEqual(raw[Kind.SUBMIT].human_hits, 1)
        self.assertEqual(raw[Kind.ATTACHMENT].hits, 0)
        self.assertNotIn(Kind.CONFIRM, raw)  # the page's own beacon is not something the recipient did

    def test_it_counts_automated_hits_per_reason_and_explains_every_reason(self):
        reasons = {reason.code: reason for reason in funnel_of(delivered_to(self.campaign)).reasons}
        self.assertEqual(
            {code: reason.hits for code, reason in reasons.items()},
            {
                "trap": 1,
                "latency": 1,
                "scanner_user_agent": 1,
                "scanner_address": 0,
                "many_tokens": 1,
                "no_confirmation": 0,
            },
        )
        self.assertEqual(reasons["latency"].label, "メールの配信直後（数秒以内）のアクセス")
        self.assertIn("人がメールを読んで操作するには短すぎます", reasons["latency"].explanation)
        self.assertTrue(all(reason.explanation for reason in reasons.values()))

    def test_a_reason_code_it_does_not_know_is_shown_as_it_is(self):
        hit(self.ito_mail, Kind.CLICK, after(minutes=1), automated=True, reasons=["new_signal", "latency"])
        reasons = {reason.code: reason for reason in funnel_of(delivered_to(self.campaign)).reasons}
        self.assertEqual((reasons["new_signal"].label, reasons["new_signal"].hits), ("new_signal", 1))
        self.assertEqual(reasons["latency"].hits, 2)

    def test_an_empty_campaign_has_zeros_not_errors(self):
        empty = make_campaign(self.ward_a, scenarios=[make_scenario(self.ward_a, "空")], round_number=2)
        funnel = funnel_of(delivered_to(empty))
        self.assertEqual((funnel.delivered, funnel.failed, funnel.reported, funnel.failed_percent), (0, 0, 0, 0.0))
        self.assertIsNone(group_results(delivered_to(empty), level=1).overall_median_time_to_report)

    def test_its_cost_is_three_queries_whatever_the_size(self):
        with self.assertNumQueries(3):
            funnel_of(delivered_to(self.campaign))


class FilterTests(ResultsTestCase):
    def delivered(self, **filters) -> int:
        return funnel_of(delivered_to(self.campaign, filters=ResultFilter(**filters))).delivered

    def test_a_department_includes_its_sub_tree(self):
        general_affairs_division = self.general_affairs.parent.parent  # 総務部
        self.assertEqual(self.delivered(department=general_affairs_division), 2)
        self.assertEqual(self.delivered(department=self.tax), 3)

    def test_position_and_employment_type_narrow_the_figures(self):
        self.assertEqual(self.delivered(position="主事"), 4)
        self.assertEqual(self.delivered(employment_type=Employment.REGULAR), 3)
        self.assertEqual(self.delivered(position="主事", employment_type=Employment.REGULAR), 2)

    def test_the_filter_describes_itself_in_japanese(self):
        description = ResultFilter(department=self.tax, position="主事", employment_type=Employment.FISCAL_YEAR)
        self.assertEqual(description.description(), "区民部 › 税務課（配下を含む）・主事・会計年度任用")

    def test_only_the_given_people_are_counted(self):
        people = Person.objects.filter(department=self.tax)
        self.assertEqual(funnel_of(delivered_to(self.campaign, people=people)).delivered, 3)

    def test_positions_are_those_of_the_recipients(self):
        self.assertEqual(positions_of(delivered_to(self.campaign)), ["主事", "係長"])


class GroupTests(ResultsTestCase):
    def test_departments_are_counted_at_the_chosen_level(self):
        groups = group_results(delivered_to(self.campaign), level=1)
        rows = {row.label: (row.delivered, row.failed, row.reported, row.median_label) for row in groups.departments}
        self.assertEqual(rows, {"総務部 › 総務課": (2, 2, 1, "30分"), "区民部 › 税務課": (3, 1, 2, "1時間45分")})
        top = group_results(delivered_to(self.campaign), level=0)
        self.assertEqual([(row.label, row.delivered) for row in top.departments], [("区民部", 3), ("総務部", 2)])

    def test_employment_types_come_in_the_rosters_order(self):
        groups = group_results(delivered_to(self.campaign), level=1)
        self.assertEqual(
            [(row.label, row.delivered, row.failed, row.reported) for row in groups.employment_types],
            [("正規", 3, 1, 3), ("会計年度任用", 1, 1, 0), ("派遣", 1, 1, 0)],
        )

    def test_the_median_time_to_report_is_over_everyone_who_reported(self):
        groups = group_results(delivered_to(self.campaign), level=1)
        self.assertEqual(groups.overall_median_time_to_report, datetime.timedelta(hours=1, minutes=30))
        tax = next(row for row in groups.departments if row.label == "区民部 › 税務課")
        self.assertAlmostEqual(tax.reported_percent, 100 * 2 / 3)

    def test_small_groups_are_withheld_when_asked(self):
        groups = group_results(delivered_to(self.campaign), level=1, withhold_below=3)
        self.assertEqual(
            {row.label: row.withheld for row in groups.departments}, {"総務部 › 総務課": True, "区民部 › 税務課": False}
        )

    def test_people_without_a_department_are_grouped_together(self):
        nobody = make_person(self.ward_a, "所属 なし")
        deliver(self.campaign, nobody, first_clicked_at=after(minutes=7))
        labels = [row.label for row in group_results(delivered_to(self.campaign), level=1).departments]
        self.assertIn("所属なし", labels)

    def test_its_cost_is_three_queries_whatever_the_size(self):
        with self.assertNumQueries(3):
            group_results(delivered_to(self.campaign), level=1)


class PeopleResultsTests(ResultsTestCase):
    def people(self, outcome: str = "") -> list[str]:
        return [delivery.person.name for delivery in people_results(delivered_to(self.campaign), outcome)]

    def test_each_outcome_selects_its_people(self):
        self.assertEqual(len(self.people()), 5)
        self.assertEqual(sorted(self.people(Outcome.FAILED)), sorted(["山田 太郎", "佐藤 次郎", "田中 四郎"]))
        self.assertEqual(sorted(self.people(Outcome.REPORTED)), sorted(["山田 太郎", "鈴木 三郎", "伊藤 五郎"]))
        self.assertEqual(self.people(Outcome.AUTOMATED_ONLY), ["鈴木 三郎"])
        self.assertEqual(self.people(Outcome.PENDING), ["田中 四郎"])

    def test_a_timeline_lists_sent_every_hit_and_the_report_in_time_order(self):
        yamada = next(d for d in people_results(delivered_to(self.campaign)) if d.person_id == self.person_a.pk)
        timeline = timeline_of(yamada)
        self.assertEqual(
            [(entry.at - SENT, entry.label, entry.verdict) for entry in timeline],
            [
                (datetime.timedelta(0), "送信", ""),
                (datetime.timedelta(seconds=1), "隠しリンク（自動アクセス）", Verdict.AUTOMATED),
                (datetime.timedelta(seconds=2), "リンクのクリック", Verdict.AUTOMATED),
                (datetime.timedelta(minutes=5), "リンクのクリック", Verdict.HUMAN),
                (datetime.timedelta(minutes=5, seconds=1), "ページ表示の確認", Verdict.HUMAN),
                (datetime.timedelta(minutes=30), "報告", ""),
            ],
        )
        self.assertEqual(
            timeline[2].reasons,
            ["メールの配信直後（数秒以内）のアクセス", "セキュリティ製品・プログラムのユーザーエージェント"],
        )
        self.assertEqual(timeline[2].user_agent, "LinkScanner/2.0")
        self.assertEqual((yamada.automated_hits, yamada.pending_hits), (2, 0))
        self.assertEqual(human_actions_of(yamada), [("リンクをクリック", after(minutes=5))])

    def test_unclassified_hits_are_pending(self):
        tanaka = next(d for d in people_results(delivered_to(self.campaign)) if d.person_id == self.tanaka.pk)
        self.assertEqual(timeline_of(tanaka)[-1].verdict, Verdict.PENDING)
        self.assertEqual(tanaka.pending_hits, 1)

    def test_a_page_of_people_costs_two_queries_whatever_their_events(self):
        with CaptureQueriesContext(connection) as queries:
            rows = [timeline_of(delivery) for delivery in people_results(delivered_to(self.campaign))]
        self.assertEqual(len(rows), 5)
        self.assertEqual(len(queries), 2)  # the people with their counts, then all their events


class DurationLabelTests(BaseTestCase):
    def test_it_reads_like_japanese(self):
        self.assertEqual(duration_label(None), "—")
        self.assertEqual(duration_label(datetime.timedelta(seconds=40)), "1分未満")
        self.assertEqual(duration_label(datetime.timedelta(minutes=12, seconds=59)), "12分")
        self.assertEqual(duration_label(datetime.timedelta(hours=1, minutes=5)), "1時間5分")
        self.assertEqual(duration_label(datetime.timedelta(days=2, hours=4, minutes=10)), "2日4時間")
