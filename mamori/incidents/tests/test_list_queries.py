"""The case list costs the same number of queries with 3 cases as with 10,000 (flags included)."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.incidents.models import Case, Task
from mamori.incidents.tests.makers import make_case

MANY = 10_000


class CaseListQueryTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("csirt-a", organization=cls.ward_a, role=Membership.Role.CSIRT)
        for number in range(3):
            make_case(cls.ward_a, actor=cls.csirt, title=f"最初の事案 {number}")

    def add_many_cases(self) -> None:
        """10,000 more cases in bulk, every tenth with an overdue legal task, every seventh major."""
        now = timezone.now()
        Case.objects.bulk_create(
            Case(
                organization=self.ward_a,
                reference=f"2099-{number:05d}",
                title=f"大量の事案 {number}",
                category=Case.Category.TARGETED_MAIL,
                detected_at=now - datetime.timedelta(minutes=number),
                is_major=number % 7 == 0,
                assignee=self.csirt,
            )
            for number in range(MANY)
        )
        case_ids = Case.objects.filter(reference__startswith="2099-").order_by("reference").values_list("pk", flat=True)
        Task.objects.bulk_create(
            Task(
                case_id=case_id,
                title="個人情報保護委員会への速報",
                kind=Task.Kind.LEGAL_PPC_PRELIMINARY,
                due_at=now - datetime.timedelta(days=1),
            )
            for case_id in list(case_ids)[::10]
        )

    def test_the_list_costs_the_same_with_ten_thousand_cases(self):
        self.login(self.csirt)
        url = reverse("incidents:case-list") + "?status=all"
        with CaptureQueriesContext(connection) as few:
            first = self.client.get(url)
        self.assertContains(first, "最初の事案 2")
        self.add_many_cases()

        with self.assertNumQueries(len(few)):
            response = self.client.get(url)

        self.assertEqual(response.context["page"].paginator.count, MANY + 3)
        self.assertContains(response, "大量の事案 0")
        self.assertContains(response, "法定報告の期限超過")
        self.assertContains(response, "重大")
        with self.assertNumQueries(len(few)):
            filtered = self.client.get(reverse("incidents:case-list") + "?status=all&major=on&q=大量&page=3")
        self.assertEqual(filtered.context["page"].paginator.count, len(range(0, MANY, 7)))

    def test_charlie_sees_none_of_the_cases(self):
        self.login(self.charlie)

        response = self.client.get(reverse("incidents:case-list") + "?status=all")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["page"].paginator.count, 0)
        self.assertNotContains(response, "最初の事案")
