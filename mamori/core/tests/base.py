"""The base test case: Alice administers ward A, Bob is a member of ward A, Charlie belongs to ward B.

Every view test also shows that Charlie sees nothing of ward A.
"""

from django.test import TestCase
from django.utils import timezone

from mamori.accounts.mfa import SESSION_MFA_KEY
from mamori.core.models import Membership
from mamori.core.tests.makers import make_department, make_organization, make_person, make_user


class BaseTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward_a = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        cls.ward_b = make_organization("ward-b", "B区", domain="city-b.lg.jp")
        cls.alice = make_user("alice", organization=cls.ward_a, role=Membership.Role.SECURITY_ADMIN)
        cls.bob = make_user("bob", organization=cls.ward_a, role=Membership.Role.AUDITOR)
        cls.charlie = make_user("charlie", organization=cls.ward_b, role=Membership.Role.SECURITY_ADMIN)
        cls.general_affairs = make_department(cls.ward_a, "総務部/総務課/文書係")
        cls.tax = make_department(cls.ward_a, "区民部/税務課")
        cls.person_a = make_person(
            cls.ward_a,
            "山田 太郎",
            email="yamada@city-a.lg.jp",
            department=cls.general_affairs,
            name_kana="やまだ たろう",
        )
        cls.person_b = make_person(cls.ward_b, "鈴木 花子", email="suzuki@city-b.lg.jp", name_kana="すずき はなこ")

    def login(self, user, *, mfa: bool = True):
        """Log in as ``user``; ``mfa`` marks the session as having passed the TOTP step."""
        self.client.force_login(user)
        if mfa:
            session = self.client.session
            session[SESSION_MFA_KEY] = timezone.now().isoformat()
            session.save()
