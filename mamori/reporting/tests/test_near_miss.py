"""Near misses (ヒヤリハット): the short form, anonymity, and the per-department counts."""

import datetime

from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.drills.fiscal import current_fiscal_year, fiscal_year_bounds
from mamori.reporting.models import NearMiss
from mamori.reporting.personal_links import personal_link_token
from mamori.reporting.tests.test_report_page import LOCAL_CACHE

HOUR = datetime.timedelta(hours=1)


@override_settings(CACHES=LOCAL_CACHE)
class NearMissFormTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        self.addCleanup(cache.clear)
        self.url = reverse("reporting:near-miss", args=[self.ward_a.code])
        self.thanks = reverse("reporting:report-thanks", args=[self.ward_a.code, "near_miss"])

    def test_the_form_offers_the_wards_departments_only(self):
        response = self.client.get(self.url)
        self.assertContains(response, "宛先を間違えそうになった")
        self.assertContains(response, "区民部 › 税務課")
        self.assertNotContains(response, "B区")

    def test_an_anonymous_near_miss_keeps_only_the_department(self):
        response = self.client.post(
            self.url,
            {
                "kind": "wrong_recipient",
                "description": "FAXの宛先を一桁間違えそうになった",
                "department": self.tax.pk,
                "anonymous": "on",
                "email": "yamada@city-a.lg.jp",
            },
        )
        self.assertRedirects(response, self.thanks)
        near_miss = NearMiss.objects.get()
        self.assertTrue(near_miss.anonymous)
        self.assertEqual(near_miss.department, self.tax)
        self.assertIsNone(near_miss.reporter)
        self.assertEqual(near_miss.reporter_email, "")
        self.assertEqual(near_miss.organization, self.ward_a)

    def test_an_anonymous_near_miss_needs_a_department(self):
        response = self.client.post(self.url, {"kind": "wrong_recipient", "anonymous": "on"})
        self.assertContains(response, "匿名で送るときは、所属を選んでください。")
        self.assertFalse(NearMiss.objects.exists())

    def test_a_named_near_miss_takes_the_roster_department(self):
        self.client.post(self.url, {"kind": "almost_clicked", "email": "yamada@city-a.lg.jp"})
        near_miss = NearMiss.objects.get()
        self.assertEqual(near_miss.reporter, self.person_a)
        self.assertEqual(near_miss.department, self.general_affairs)

    def test_a_named_near_miss_needs_an_address(self):
        response = self.client.post(self.url, {"kind": "almost_clicked"})
        self.assertContains(response, "匿名にしないときは、職場のメールアドレスを入力してください。")

    def test_an_unknown_address_is_kept_as_written(self):
        response = self.client.post(self.url, {"kind": "other", "email": "nobody@city-a.lg.jp"})
        self.assertRedirects(response, self.thanks)
        near_miss = NearMiss.objects.get()
        self.assertIsNone(near_miss.reporter)
        self.assertEqual(near_miss.reporter_email, "nobody@city-a.lg.jp")

    def test_another_wards_department_is_refused(self):
        from mamori.core.tests.makers import make_department

        other = make_department(self.ward_b, "総務部")
        response = self.client.post(self.url, {"kind": "other", "department": other.pk, "anonymous": "on"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(NearMiss.objects.exists())

    def test_a_personal_link_needs_no_address_and_may_stay_anonymous(self):
        url = reverse("reporting:near-miss-personal", args=[personal_link_token(self.person_a)])
        self.assertNotContains(self.client.get(url), 'name="email"')
        self.client.post(url, {"kind": "almost_lost", "department": self.general_affairs.pk, "anonymous": "on"})
        near_miss = NearMiss.objects.get()
        self.assertIsNone(near_miss.reporter)
        self.assertEqual(near_miss.department, self.general_affairs)

    def test_an_unknown_organization_or_link_is_404(self):
        self.assertEqual(self.client.get("/report/no-such-ward/near-miss/").status_code, 404)
        self.assertEqual(self.client.get("/report/p/garbage/near-miss/").status_code, 404)


class NearMissSummaryTests(BaseTestCase):
    url = reverse("reporting:near-miss-summary")

    def add(self, organization, kind, department, *, at=None):
        return NearMiss.objects.create(
            organization=organization, kind=kind, department=department, submitted_at=at or timezone.now()
        )

    def test_it_counts_per_department_and_kind(self):
        for _ in range(3):
            self.add(self.ward_a, NearMiss.Kind.WRONG_RECIPIENT, self.tax)
        self.add(self.ward_a, NearMiss.Kind.ALMOST_CLICKED, self.tax)
        self.add(self.ward_a, NearMiss.Kind.ALMOST_CLICKED, self.general_affairs)
        self.add(self.ward_a, NearMiss.Kind.OTHER, None)
        self.login(self.alice)
        with self.assertNumQueries(8):
            response = self.client.get(self.url)
        rows = response.context["rows"]
        self.assertEqual(response.context["total"], 6)
        self.assertEqual(rows[0]["department"], self.tax)
        self.assertEqual(rows[0]["total"], 4)
        self.assertEqual(rows[0]["by_kind"][:3], [3, 0, 1])
        self.assertContains(response, "所属の記入なし")

    def test_it_counts_one_fiscal_year(self):
        previous_year = current_fiscal_year() - 1
        self.add(self.ward_a, NearMiss.Kind.OTHER, self.tax, at=fiscal_year_bounds(previous_year)[1] - HOUR)
        self.login(self.alice)
        self.assertEqual(self.client.get(self.url).context["total"], 0)
        self.assertEqual(self.client.get(self.url, {"fy": previous_year}).context["total"], 1)
        self.assertEqual(self.client.get(self.url, {"fy": "99999"}).context["fiscal_year"], current_fiscal_year())

    def test_charlie_sees_nothing_of_ward_a(self):
        self.add(self.ward_a, NearMiss.Kind.WRONG_RECIPIENT, self.tax)
        self.login(self.charlie)
        response = self.client.get(self.url)
        self.assertEqual(response.context["total"], 0)
        self.assertNotContains(response, "税務課")

    def test_an_auditor_or_a_stranger_may_not_see_it(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.get(self.url).status_code, 302)

    def test_csirt_may_see_it(self):
        csirt = make_user("csirt", organization=self.ward_a, role=Membership.Role.CSIRT)
        self.login(csirt)
        self.assertEqual(self.client.get(self.url).status_code, 200)
