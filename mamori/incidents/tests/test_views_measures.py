"""The measures page (MTTD/MTTA/MTTC/MTTR, the KGI, majors) and the on-duty contacts page."""

import datetime

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.drills.fiscal import fiscal_year_of
from mamori.incidents.models import Case, DutyContact, TimePrecision
from mamori.incidents.tests.makers import make_case, make_duty_contact, make_history

JST = datetime.timezone(datetime.timedelta(hours=9))
DETECTED = datetime.datetime(2026, 5, 11, 9, 0, tzinfo=JST)


class MeasuresPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("csirt-a", organization=cls.ward_a, role=Membership.Role.CSIRT)
        hour = datetime.timedelta(hours=1)
        fast = make_case(
            cls.ward_a,
            actor=cls.csirt,
            title="早く終わった事案",
            category=Case.Category.TARGETED_MAIL,
            detected_at=DETECTED,
            occurred_at=DETECTED - 2 * hour,
            occurred_precision=TimePrecision.HOUR,
        )
        make_history(
            fast,
            [
                ("triage", DETECTED + hour),
                ("in_progress", DETECTED + 2 * hour),
                ("contained", DETECTED + 3 * hour),
                ("recovered", DETECTED + 5 * hour),
                ("closed", DETECTED + 10 * hour),
            ],
        )
        slow = make_case(
            cls.ward_a,
            actor=cls.csirt,
            title="長くかかった事案",
            category=Case.Category.MALWARE,
            detected_at=DETECTED,
            occurred_at=DETECTED - 30 * hour,
            occurred_precision=TimePrecision.DAY,
        )
        make_history(slow, [("triage", DETECTED + 3 * hour), ("in_progress", DETECTED + 4 * hour)])
        make_history(slow, [("contained", DETECTED + 20 * hour), ("recovered", DETECTED + 40 * hour)])
        make_history(slow, [("closed", DETECTED + 50 * hour)])
        Case.objects.filter(pk=slow.pk).update(is_major=True)
        cls.year = fiscal_year_of(DETECTED.date())

    def test_the_kgi_and_the_groups_come_from_the_transitions(self):
        self.login(self.csirt)

        response = self.client.get(reverse("incidents:measures"), {"year": self.year})

        report = response.context["report"]
        self.assertEqual(report.total.cases, 2)
        self.assertEqual(report.total.major, 1)
        # (10 h + 50 h) / 2 = 30 h: over the 24 h KGI.
        self.assertEqual(report.total.mttr.mean, datetime.timedelta(hours=30))
        self.assertContains(response, "1日と6時間")
        self.assertContains(response, "目標超過")
        # MTTD only from the case whose occurrence is known to the hour: 2 h.
        self.assertEqual(report.total.mttd.count, 1)
        self.assertContains(response, "2時間0分")
        self.assertContains(response, "2026年度 第1四半期")
        self.assertContains(response, "標的型メール")
        self.assertContains(response, "日付だけ・不明の事案は含めません")

    @override_settings(INCIDENTS_MAJOR_RECORDS=5000, INCIDENTS_MAJOR_OUTAGE_HOURS=12)
    def test_the_major_incident_rule_is_worded_from_the_settings(self):
        self.login(self.csirt)

        response = self.client.get(reverse("incidents:measures"), {"year": self.year})

        self.assertContains(response, "個人情報 5,000 件以上または行政サービスの停止 12 時間以上")

    def test_the_page_costs_the_same_with_more_cases(self):
        self.login(self.csirt)
        url = reverse("incidents:measures") + "?year=all"
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for number in range(5):
            make_case(self.ward_a, actor=self.csirt, title=f"追加 {number}", detected_at=DETECTED)

        with self.assertNumQueries(len(few)):
            response = self.client.get(url)

        self.assertEqual(response.context["report"].total.cases, 7)

    def test_charlie_measures_only_ward_b(self):
        self.login(self.charlie)

        response = self.client.get(reverse("incidents:measures"), {"year": "all"})

        self.assertEqual(response.context["report"].total.cases, 0)
        self.assertNotContains(response, "A区")


class DutyContactPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("csirt-a", organization=cls.ward_a, role=Membership.Role.CSIRT)

    def test_a_night_duty_contact_is_added_and_edited(self):
        self.login(self.csirt)

        response = self.client.post(
            reverse("incidents:contacts"),
            {
                "name": "夜間当番",
                "email": "night@city-a.lg.jp",
                "weekdays": ["1", "2", "3", "4", "5"],
                "hours_start": "22:00",
                "hours_end": "08:30",
                "active": "on",
            },
        )

        self.assertRedirects(response, reverse("incidents:contacts"))
        contact = DutyContact.objects.get(organization=self.ward_a)
        self.assertEqual(contact.weekdays, [1, 2, 3, 4, 5])
        listing = self.client.get(reverse("incidents:contacts"))
        self.assertContains(listing, "月・火・水・木・金 22:00〜08:30")
        self.client.post(
            reverse("incidents:contact-edit", args=[contact.public_id]),
            {"name": "夜間当番", "email": "night@city-a.lg.jp"},
        )
        contact.refresh_from_db()
        self.assertFalse(contact.active)
        self.assertEqual(contact.weekdays, [])

    def test_half_a_time_window_is_refused(self):
        self.login(self.csirt)

        response = self.client.post(
            reverse("incidents:contacts"), {"name": "当番", "email": "duty@city-a.lg.jp", "hours_start": "09:00"}
        )

        self.assertContains(response, "時間帯は開始と終了の両方を入力するか")
        self.assertContains(response, "duty@city-a.lg.jp")
        self.assertFalse(DutyContact.objects.exists())

    def test_charlie_cannot_touch_ward_as_contacts(self):
        contact = make_duty_contact(self.ward_a, "duty@city-a.lg.jp")
        self.login(self.charlie)

        self.assertNotContains(self.client.get(reverse("incidents:contacts")), "duty@city-a.lg.jp")
        self.assertEqual(self.client.get(reverse("incidents:contact-edit", args=[contact.public_id])).status_code, 404)
        self.assertEqual(
            self.client.post(reverse("incidents:contact-delete", args=[contact.public_id])).status_code, 404
        )
        self.assertTrue(DutyContact.objects.filter(pk=contact.pk).exists())

    def test_the_auditor_cannot_manage_contacts(self):
        self.login(self.bob)

        self.assertEqual(self.client.get(reverse("incidents:contacts")).status_code, 403)
