from io import StringIO

from django.core.management import CommandError, call_command

from mamori.core.models import AuditEntry, Organization
from mamori.core.tests.base import BaseTestCase


class AddOrganizationCommandTests(BaseTestCase):
    def test_it_creates_a_ward_with_domains_and_audits_it(self):
        out = StringIO()
        call_command("add_organization", "chiyoda", "千代田区", "--domain", "City.Chiyoda.example.jp", stdout=out)
        ward = Organization.objects.get(code="chiyoda")
        self.assertEqual(ward.verified_domain_names(), {"city.chiyoda.example.jp"})
        self.assertIn("千代田区", out.getvalue())
        self.assertTrue(AuditEntry.objects.filter(organization=ward, action="organization.created").exists())

    def test_it_refuses_a_bad_code_and_writes_nothing(self):
        with self.assertRaises(CommandError):
            call_command("add_organization", "Bad Code!", "悪い区", stdout=StringIO())
        self.assertFalse(Organization.objects.filter(name="悪い区").exists())

    def test_it_refuses_a_duplicate_code(self):
        with self.assertRaises(CommandError):
            call_command("add_organization", "ward-a", "もう一つのA区", stdout=StringIO())

    def test_it_refuses_a_malformed_domain(self):
        with self.assertRaises(CommandError):
            call_command("add_organization", "minato", "港区", "--domain", "not a domain", stdout=StringIO())
        self.assertFalse(Organization.objects.filter(code="minato").exists())
