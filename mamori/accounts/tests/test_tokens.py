from django.urls import reverse
from django.utils import timezone

from mamori.accounts.models import APIToken, hash_code
from mamori.core.models import AuditEntry, Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user


class TokenPageTests(BaseTestCase):
    def test_it_creates_a_token_and_shows_the_plaintext_once(self):
        self.login(self.alice)
        response = self.client.post(reverse("accounts:token-create"), {"name": "名簿連携"})
        plaintext = response.context["new_token_plaintext"]
        self.assertTrue(plaintext.startswith("mmr_"))
        self.assertContains(response, plaintext)
        self.assertIn("no-store", response["Cache-Control"])
        token = APIToken.objects.get(user=self.alice)
        self.assertEqual((token.organization, token.name), (self.ward_a, "名簿連携"))
        self.assertEqual(token.secret_hash, hash_code(plaintext.split("_", 2)[2]))
        page = self.client.get(reverse("accounts:security"))
        self.assertContains(page, f"mmr_{token.prefix}_…")
        self.assertNotContains(page, plaintext)
        self.assertTrue(AuditEntry.objects.filter(action="token.created", organization=self.ward_a).exists())

    def test_it_needs_a_name(self):
        self.login(self.alice)
        response = self.client.post(reverse("accounts:token-create"), {"name": ""})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(APIToken.objects.exists())

    def test_it_lists_only_own_tokens_of_the_current_organization(self):
        APIToken.issue(user=self.alice, organization=self.ward_a, name="alice-a")
        APIToken.issue(user=self.bob, organization=self.ward_a, name="bob-a")
        Membership.objects.create(user=self.alice, organization=self.ward_b, role=Membership.Role.AUDITOR)
        APIToken.issue(user=self.alice, organization=self.ward_b, name="alice-b")
        self.login(self.alice)
        response = self.client.get(reverse("accounts:security"))
        self.assertContains(response, "alice-a")
        self.assertNotContains(response, "bob-a")
        self.assertNotContains(response, "alice-b")

    def test_charlie_sees_none_of_ward_a_tokens(self):
        APIToken.issue(user=self.alice, organization=self.ward_a, name="ward-a-token")
        self.login(self.charlie)
        self.assertNotContains(self.client.get(reverse("accounts:security")), "ward-a-token")

    def test_it_revokes_an_own_token(self):
        token, _ = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        self.login(self.alice)
        response = self.client.post(reverse("accounts:token-revoke", args=[token.public_id]))
        self.assertRedirects(response, reverse("accounts:security"), fetch_redirect_response=False)
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        self.assertTrue(AuditEntry.objects.filter(action="token.revoked", organization=self.ward_a).exists())
        self.assertContains(self.client.get(reverse("accounts:security")), "失効")

    def test_revoking_needs_post(self):
        token, _ = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        self.login(self.alice)
        self.assertEqual(self.client.get(reverse("accounts:token-revoke", args=[token.public_id])).status_code, 405)

    def test_revoking_someone_elses_token_is_404(self):
        token, _ = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        for user in (self.bob, self.charlie):
            self.login(user)
            response = self.client.post(reverse("accounts:token-revoke", args=[token.public_id]))
            with self.subTest(user=user.username):
                self.assertEqual(response.status_code, 404)
        token.refresh_from_db()
        self.assertIsNone(token.revoked_at)

    def test_an_mfa_role_cannot_create_a_token_before_mfa(self):
        self.login(self.alice, mfa=False)
        response = self.client.post(reverse("accounts:token-create"), {"name": "x"})
        self.assertTrue(response["Location"].startswith(reverse("accounts:mfa-setup")))
        self.assertFalse(APIToken.objects.exists())

    def test_a_user_without_organization_gets_no_token(self):
        loner = make_user("loner")
        self.login(loner)
        self.assertEqual(self.client.post(reverse("accounts:token-create"), {"name": "x"}).status_code, 403)
        self.assertNotContains(self.client.get(reverse("accounts:security")), "API トークン")


class TokenUseTests(BaseTestCase):
    def call(self, token: str):
        return self.client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})

    def test_the_api_accepts_a_valid_token_and_notes_its_use(self):
        api_token, plaintext = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        response = self.call(plaintext)
        self.assertEqual(response.status_code, 200)
        emails = [person["email"] for person in response.json()["items"]]
        self.assertEqual(emails, ["yamada@city-a.lg.jp"])
        api_token.refresh_from_db()
        self.assertIsNotNone(api_token.last_used_at)

    def test_the_api_rejects_a_revoked_token(self):
        api_token, plaintext = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        APIToken.objects.filter(pk=api_token.pk).update(revoked_at=timezone.now())
        self.assertEqual(self.call(plaintext).status_code, 401)

    def test_the_api_rejects_a_wrong_secret(self):
        api_token, _ = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        self.assertEqual(self.call(f"mmr_{api_token.prefix}_not-the-secret").status_code, 401)

    def test_the_api_rejects_a_token_whose_user_left_the_organization(self):
        _, plaintext = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        Membership.objects.filter(user=self.alice, organization=self.ward_a).delete()
        self.assertEqual(self.call(plaintext).status_code, 401)

    def test_the_api_rejects_a_malformed_token(self):
        self.assertEqual(self.call("not-a-token").status_code, 401)

    def test_a_charlie_token_sees_only_ward_b(self):
        _, plaintext = APIToken.issue(user=self.charlie, organization=self.ward_b, name="t")
        emails = [person["email"] for person in self.call(plaintext).json()["items"]]
        self.assertEqual(emails, ["suzuki@city-b.lg.jp"])
