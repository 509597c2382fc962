"""Recording a hit: one lookup and one insert, nothing for tokens we do not serve, addresses per policy."""

from unittest import mock

from django.db import OperationalError
from django.test import TestCase, override_settings

from mamori.core.models import Organization
from mamori.core.tests.base import BaseTestCase
from mamori.drills.models import Campaign, Delivery, Event, Scenario
from mamori.drills.tests.makers import make_scenario
from mamori.drills.tests.tracking import BROWSER, make_running_campaign, make_sent_delivery
from mamori.drills.tracking import hits
from mamori.drills.tracking.addresses import in_networks, parse_address, stored_address
from mamori.drills.tracking.hits import Hit, record_hit

Policy = Organization.AddressPolicy


def click(token: str, *, address: str = "192.0.2.77", user_agent: str = BROWSER, **options) -> Hit | None:
    return record_hit(token, Event.Kind.CLICK, source="url", user_agent=user_agent, client_address=address, **options)


class RecordHitTests(BaseTestCase):
    def setUp(self):
        self.scenario = make_scenario(self.ward_a, lure_type=Scenario.LureType.CREDENTIAL_FORM)
        self.campaign = make_running_campaign(self.ward_a, scenario=self.scenario)
        self.delivery = make_sent_delivery(self.campaign, self.person_a)

    def test_it_stores_one_unclassified_event_and_returns_the_delivery(self):
        hit = click(self.delivery.token)
        self.assertEqual(
            hit,
            Hit(
                delivery_id=self.delivery.pk,
                organization_id=self.ward_a.pk,
                scenario_id=self.scenario.pk,
                lure_type=Scenario.LureType.CREDENTIAL_FORM,
                attachment_mode=Scenario.AttachmentMode.LINK,
                token=self.delivery.token,
            ),
        )
        event = Event.objects.get()
        self.assertEqual((event.delivery, event.organization, event.kind), (self.delivery, self.ward_a, "click"))
        self.assertEqual((event.source, event.user_agent), ("url", BROWSER))
        self.assertIsNone(event.automated)
        self.assertIsNone(event.classified_at)
        self.assertEqual((event.reasons, event.filled_fields), ([], []))

    def test_it_costs_one_lookup_and_one_insert(self):
        with self.assertNumQueries(2) as queries:
            click(self.delivery.token)
        lookup, insert = (query["sql"] for query in queries.captured_queries)
        self.assertIn("drills_delivery", lookup)
        self.assertNotIn("drills_event", lookup)
        self.assertIn("INSERT INTO drills_event", insert)

    def test_the_lookup_is_the_same_in_a_larger_campaign(self):
        for _ in range(30):
            make_sent_delivery(self.campaign)
        with self.assertNumQueries(2):
            click(self.delivery.token)

    def test_it_stores_only_the_names_of_filled_fields(self):
        record_hit(
            self.delivery.token,
            Event.Kind.SUBMIT,
            source="form",
            user_agent=BROWSER,
            client_address="192.0.2.1",
            filled_fields=["username", "password"],
        )
        self.assertEqual(Event.objects.get().filled_fields, ["username", "password"])

    def test_it_cuts_the_user_agent_to_the_field_length(self):
        click(self.delivery.token, user_agent="A" * 1000)
        self.assertEqual(Event.objects.get().user_agent, "A" * 400)

    def test_it_ignores_unknown_tokens(self):
        with self.assertNumQueries(1):
            self.assertIsNone(click("A" * 22))
        self.assertFalse(Event.objects.exists())

    def test_it_answers_malformed_tokens_without_the_database(self):
        for token in ("", "short", self.delivery.token + "x", self.delivery.token[:-1] + "!", "../" * 8, "Ａ" * 22):
            with self.subTest(token=token), self.assertNumQueries(0):
                self.assertIsNone(click(token))
        self.assertFalse(Event.objects.exists())

    def test_it_ignores_a_token_in_another_case(self):
        Delivery.objects.filter(pk=self.delivery.pk).update(token="AbCdEfGhIjKlMnOpQrStUv")
        self.assertIsNone(click("abcdefghijklmnopqrstuv"))
        self.assertFalse(Event.objects.exists())

    def test_it_records_only_while_the_campaign_is_sending_or_running(self):
        for state in Campaign.State:
            with self.subTest(state=state):
                Campaign.objects.filter(pk=self.campaign.pk).update(state=state)
                recorded = click(self.delivery.token) is not None
                self.assertEqual(recorded, state in {Campaign.State.SENDING, Campaign.State.RUNNING})
        self.assertEqual(Event.objects.count(), 2)

    def test_it_stores_the_address_as_the_organization_allows(self):
        expected = {Policy.FULL: "192.0.2.77", Policy.TRUNCATED: "192.0.2.0", Policy.NONE: ""}
        for policy, stored in expected.items():
            with self.subTest(policy=policy):
                Organization.objects.filter(pk=self.ward_a.pk).update(event_address_policy=policy)
                click(self.delivery.token, address="192.0.2.77")
                self.assertEqual(Event.objects.latest("pk").client_address, stored)

    @override_settings(TRACKING_SCANNER_NETWORKS=["198.51.100.0/24"])
    def test_it_notes_a_scanner_address_even_when_no_address_is_stored(self):
        Organization.objects.filter(pk=self.ward_a.pk).update(event_address_policy=Policy.NONE)
        click(self.delivery.token, address="198.51.100.9")
        click(self.delivery.token, address="203.0.113.9")
        self.assertEqual(
            list(Event.objects.order_by("pk").values_list("client_address", "reasons")),
            [("", ["scanner_address"]), ("", [])],
        )

    @override_settings(TRACKING_PREPARED_STATEMENTS=False, TRACKING_ASYNCHRONOUS_COMMIT=False)
    def test_it_records_the_same_with_plain_statements_and_durable_commits(self):
        with self.assertNumQueries(2):
            self.assertIsNotNone(click(self.delivery.token))
        self.assertEqual(Event.objects.get().client_address, "192.0.2.0")


class DroppedConnectionTests(TestCase):
    """A connection the database dropped between requests is replaced by the lookup, before any write."""

    def fake_connection(self, *, in_transaction: bool) -> mock.Mock:
        return mock.Mock(in_atomic_block=in_transaction)

    def test_the_lookup_is_retried_once_on_a_new_connection(self):
        db = self.fake_connection(in_transaction=False)
        with mock.patch.object(hits, "fetch_one", side_effect=[OperationalError("gone"), ("row",)]) as fetch:
            self.assertEqual(hits.find_delivery(db, "A" * 22), ("row",))
        db.close.assert_called_once_with()
        self.assertEqual(fetch.call_count, 2)

    def test_a_second_failure_is_not_hidden(self):
        db = self.fake_connection(in_transaction=False)
        with (
            mock.patch.object(hits, "fetch_one", side_effect=OperationalError("still gone")),
            self.assertRaises(OperationalError),
        ):
            hits.find_delivery(db, "A" * 22)

    def test_inside_a_transaction_it_is_not_retried(self):
        db = self.fake_connection(in_transaction=True)
        with (
            mock.patch.object(hits, "fetch_one", side_effect=OperationalError("gone")),
            self.assertRaises(OperationalError),
        ):
            hits.find_delivery(db, "A" * 22)
        db.close.assert_not_called()


class AddressTests(TestCase):
    def test_truncation_keeps_the_ipv4_slash_24(self):
        self.assertEqual(stored_address("203.0.113.254", Policy.TRUNCATED), "203.0.113.0")

    def test_truncation_keeps_the_ipv6_slash_48(self):
        self.assertEqual(stored_address("2001:db8:abcd:12:1:2:3:4", Policy.TRUNCATED), "2001:db8:abcd::")

    def test_an_ipv4_mapped_ipv6_address_is_treated_as_ipv4(self):
        self.assertEqual(stored_address("::ffff:192.0.2.77", Policy.TRUNCATED), "192.0.2.0")
        self.assertEqual(stored_address("::ffff:192.0.2.77", Policy.FULL), "192.0.2.77")

    def test_full_keeps_the_address_in_its_normal_form(self):
        self.assertEqual(stored_address("2001:DB8:0:0::1", Policy.FULL), "2001:db8::1")

    def test_nothing_is_stored_under_none_or_for_what_is_not_an_address(self):
        self.assertEqual(stored_address("192.0.2.77", Policy.NONE), "")
        self.assertEqual(stored_address("unknown", Policy.FULL), "")
        self.assertEqual(stored_address("", Policy.TRUNCATED), "")

    def test_networks_match_by_family(self):
        networks = ["192.0.2.0/24", "2001:db8::/32"]
        self.assertTrue(in_networks(parse_address("192.0.2.1"), networks))
        self.assertTrue(in_networks(parse_address("2001:db8::5"), networks))
        self.assertTrue(in_networks(parse_address("::ffff:192.0.2.1"), networks))
        self.assertFalse(in_networks(parse_address("198.51.100.1"), networks))
        self.assertFalse(in_networks(parse_address(""), networks))
