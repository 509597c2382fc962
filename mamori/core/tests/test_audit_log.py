from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse

from mamori.core.audit import record
from mamori.core.models import AuditEntry, Membership
from mamori.core.models.audit import AppendOnlyError
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user

JST = ZoneInfo("Asia/Tokyo")


def entry_at(organization, action, at, *, actor=None, target=""):
    return AuditEntry.objects.create(
        organization=organization,
        actor=actor,
        actor_label=str(actor) if actor else "system",
        action=action,
        target=target,
        at=at,
    )


class AuditLogPageTests(BaseTestCase):
    def test_it_lists_the_organizations_entries_newest_first_with_actor_and_target(self):
        entry_at(self.ward_a, "domain.verified", datetime(2025, 4, 1, 9, tzinfo=JST), actor=self.alice, target="old")
        entry_at(self.ward_a, "token.created", datetime(2025, 4, 2, 9, tzinfo=JST), actor=self.alice, target="new")
        self.login(self.alice)
        response = self.client.get(reverse("core:audit-log"))
        self.assertContains(response, "API トークンの作成")
        self.assertContains(response, "ドメインの登録")
        self.assertContains(response, "2025年4月2日 09:00:00")
        body = response.content.decode()
        self.assertLess(body.index(">new<"), body.index(">old<"))
        self.assertContains(response, "alice")

    def test_an_auditor_may_read_it(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("core:audit-log")).status_code, 200)

    def test_other_roles_may_not(self):
        for role in (Membership.Role.CSIRT, Membership.Role.DEPT_MANAGER, Membership.Role.VENDOR):
            user = make_user(f"user-{role}", organization=self.ward_a, role=role)
            self.login(user)
            with self.subTest(role=role):
                self.assertEqual(self.client.get(reverse("core:audit-log")).status_code, 403)

    def test_charlie_does_not_see_ward_a_entries(self):
        entry_at(self.ward_a, "domain.verified", datetime(2025, 4, 1, tzinfo=JST), target="ward-a-secret")
        entry_at(self.ward_b, "domain.verified", datetime(2025, 4, 1, tzinfo=JST), target="ward-b-entry")
        entry_at(None, "login.failed", datetime(2025, 4, 1, tzinfo=JST), target="orphan-entry")
        self.login(self.charlie)
        response = self.client.get(reverse("core:audit-log"))
        self.assertContains(response, "ward-b-entry")
        self.assertNotContains(response, "ward-a-secret")
        self.assertNotContains(response, "orphan-entry")

    def test_it_filters_by_action(self):
        entry_at(self.ward_a, "domain.verified", datetime(2025, 4, 1, tzinfo=JST), target="keep")
        entry_at(self.ward_a, "token.created", datetime(2025, 4, 1, tzinfo=JST), target="drop")
        self.login(self.alice)
        response = self.client.get(reverse("core:audit-log"), {"action": "domain.verified"})
        self.assertContains(response, ">keep<")
        self.assertNotContains(response, ">drop<")

    def test_the_action_filter_offers_only_this_organizations_actions(self):
        entry_at(self.ward_b, "member.added", datetime(2025, 4, 1, tzinfo=JST))
        entry_at(self.ward_a, "domain.verified", datetime(2025, 4, 1, tzinfo=JST))
        self.login(self.alice)
        choices = dict(self.client.get(reverse("core:audit-log")).context["form"].fields["action"].choices)
        self.assertIn("domain.verified", choices)
        self.assertNotIn("member.added", choices)

    def test_it_filters_by_japanese_calendar_days(self):
        # 23:30 on 3 April in Tokyo is still 3 April, though it is 14:30 UTC.
        entry_at(self.ward_a, "x.before", datetime(2025, 4, 2, 23, 59, tzinfo=JST), target="before")
        entry_at(self.ward_a, "x.inside", datetime(2025, 4, 3, 0, 0, tzinfo=JST), target="first")
        entry_at(self.ward_a, "x.inside", datetime(2025, 4, 3, 23, 30, tzinfo=JST), target="last")
        entry_at(self.ward_a, "x.after", datetime(2025, 4, 4, 0, 0, tzinfo=JST), target="after")
        self.login(self.alice)
        response = self.client.get(reverse("core:audit-log"), {"date_from": "2025-04-03", "date_to": "2025-04-03"})
        targets = [entry.target for entry in response.context["page"]]
        self.assertEqual(targets, ["last", "first"])

    def test_it_explains_a_reversed_range(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:audit-log"), {"date_from": "2025-04-05", "date_to": "2025-04-03"})
        self.assertContains(response, "期間の開始日が終了日より後になっています。")

    def test_it_pages_by_fifty(self):
        start = datetime(2025, 4, 1, tzinfo=JST)
        AuditEntry.objects.bulk_create(
            AuditEntry(organization=self.ward_a, action="x.bulk", target=f"n{i}", at=start + timedelta(minutes=i))
            for i in range(60)
        )
        self.login(self.alice)
        first = self.client.get(reverse("core:audit-log"))
        self.assertEqual(len(first.context["page"]), 50)
        self.assertContains(first, "page=2")
        second = self.client.get(reverse("core:audit-log"), {"page": 2})
        self.assertEqual([e.target for e in second.context["page"]][-1], "n0")

    def test_its_cost_does_not_grow_with_entries(self):
        start = datetime(2025, 4, 1, tzinfo=JST)
        self.login(self.alice)

        def add(count):
            AuditEntry.objects.bulk_create(
                AuditEntry(organization=self.ward_a, actor=self.alice, action=f"x.{i % 7}", at=start)
                for i in range(count)
            )

        add(5)
        self.client.get(reverse("core:audit-log"))
        with self.assertNumQueries(9):
            self.client.get(reverse("core:audit-log"))
        add(200)
        with self.assertNumQueries(9):
            self.client.get(reverse("core:audit-log"), {"action": "x.3", "page": 2})

    def test_an_htmx_request_gets_only_the_table(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:audit-log"), headers={"HX-Request": "true"})
        self.assertNotContains(response, "<html")
        self.assertContains(response, "<table")

    def test_the_page_offers_no_way_to_change_entries(self):
        entry_at(self.ward_a, "domain.verified", datetime(2025, 4, 1, tzinfo=JST))
        self.login(self.alice)
        table = self.client.get(reverse("core:audit-log"), headers={"HX-Request": "true"})
        self.assertNotContains(table, "<form")
        self.assertEqual(self.client.post(reverse("core:audit-log")).status_code, 405)


class AppendOnlyTests(BaseTestCase):
    def test_an_entry_cannot_be_changed(self):
        entry = record("domain.verified", organization=self.ward_a, target="x")
        entry.target = "y"
        with self.assertRaises(AppendOnlyError):
            entry.save()
        self.assertEqual(AuditEntry.objects.get(pk=entry.pk).target, "x")

    def test_an_entry_cannot_be_deleted(self):
        entry = record("domain.verified", organization=self.ward_a, target="x")
        with self.assertRaises(AppendOnlyError):
            entry.delete()
        self.assertTrue(AuditEntry.objects.filter(pk=entry.pk).exists())
