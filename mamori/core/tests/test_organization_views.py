from django.urls import reverse

from mamori.core.models import AuditEntry, Membership, VerifiedDomain
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user


class HomeTests(BaseTestCase):
    def test_it_shows_the_current_organization_and_areas(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:home"))
        self.assertContains(response, "A区")
        for area in ["訓練", "報告", "インシデント", "脅威情報", "委託先", "指標"]:
            self.assertContains(response, area)

    def test_a_user_without_organization_is_told_so(self):
        loner = make_user("loner")
        self.login(loner)
        response = self.client.get(reverse("core:home"))
        self.assertContains(response, "所属組織がありません", status_code=403)

    def test_anonymous_is_sent_to_login(self):
        response = self.client.get(reverse("core:home"))
        self.assertRedirects(response, reverse("accounts:login") + "?next=/", fetch_redirect_response=False)

    def test_mfa_role_without_verified_session_is_sent_to_mfa(self):
        self.login(self.alice, mfa=False)
        response = self.client.get(reverse("core:home"))
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-setup")))

    def test_auditor_needs_no_mfa(self):
        self.login(self.bob, mfa=False)
        self.assertEqual(self.client.get(reverse("core:home")).status_code, 200)


class SwitchOrganizationTests(BaseTestCase):
    def setUp(self):
        Membership.objects.create(user=self.alice, organization=self.ward_b, role=Membership.Role.AUDITOR)

    def test_multi_org_user_sees_the_switcher_and_switches(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:home"))
        self.assertContains(response, 'name="organization"')
        self.client.post(reverse("core:switch-organization"), {"organization": "ward-b"})
        response = self.client.get(reverse("core:people"))
        self.assertContains(response, "鈴木 花子")
        self.assertNotContains(response, "山田 太郎")

    def test_it_refuses_an_organization_the_user_does_not_belong_to(self):
        self.login(self.charlie)
        self.client.post(reverse("core:switch-organization"), {"organization": "ward-a"})
        response = self.client.get(reverse("core:people"))
        self.assertNotContains(response, "山田 太郎")

    def test_roles_follow_the_current_organization(self):
        self.login(self.alice)
        self.client.post(reverse("core:switch-organization"), {"organization": "ward-b"})
        # Alice is only an auditor in ward B: no organization settings there.
        self.assertEqual(self.client.get(reverse("core:settings")).status_code, 403)


class DomainTests(BaseTestCase):
    def test_admin_adds_a_domain_and_it_is_audited(self):
        self.login(self.alice)
        response = self.client.post(reverse("core:domain-add"), {"domain": "Mail.City-A.lg.jp."}, follow=True)
        self.assertContains(response, "mail.city-a.lg.jp")
        self.assertTrue(VerifiedDomain.objects.filter(organization=self.ward_a, domain="mail.city-a.lg.jp").exists())
        entry = AuditEntry.objects.get(action="domain.verified")
        self.assertEqual(
            (entry.organization, entry.actor, entry.target), (self.ward_a, self.alice, "mail.city-a.lg.jp")
        )

    def test_it_rejects_a_malformed_domain_in_japanese(self):
        self.login(self.alice)
        response = self.client.post(reverse("core:domain-add"), {"domain": "not a domain"}, follow=True)
        self.assertContains(response, "ドメイン名として正しくありません")
        self.assertEqual(VerifiedDomain.objects.filter(organization=self.ward_a).count(), 1)

    def test_auditor_cannot_add_domains(self):
        self.login(self.bob)
        response = self.client.post(reverse("core:domain-add"), {"domain": "evil.example.jp"})
        self.assertEqual(response.status_code, 403)

    def test_charlie_cannot_remove_ward_a_domain(self):
        domain = self.ward_a.domains.get()
        self.login(self.charlie)
        response = self.client.post(reverse("core:domain-remove", args=[domain.public_id]))
        self.assertEqual(response.status_code, 404)
        self.assertTrue(VerifiedDomain.objects.filter(pk=domain.pk).exists())

    def test_admin_removes_a_domain(self):
        domain = self.ward_a.domains.get()
        self.login(self.alice)
        self.client.post(reverse("core:domain-remove", args=[domain.public_id]))
        self.assertFalse(VerifiedDomain.objects.filter(pk=domain.pk).exists())
        self.assertTrue(AuditEntry.objects.filter(action="domain.removed", organization=self.ward_a).exists())

    def test_settings_page_lists_members(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:settings"))
        self.assertContains(response, "bob")
        self.assertContains(response, "監査担当")
        self.assertNotContains(response, "charlie")
