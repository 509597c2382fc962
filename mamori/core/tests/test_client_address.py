from django.test import RequestFactory, SimpleTestCase, override_settings

from mamori.core.audit import client_address


class ClientAddressTests(SimpleTestCase):
    def request(self, forwarded=None):
        headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
        return RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", **headers)

    def test_without_proxies_it_uses_the_connection(self):
        self.assertEqual(client_address(self.request("203.0.113.9")), "10.0.0.5")

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_behind_one_proxy_it_trusts_only_the_proxys_entry(self):
        # The client forged the first entry; the proxy appended the real one.
        self.assertEqual(client_address(self.request("1.1.1.1, 203.0.113.9")), "203.0.113.9")

    @override_settings(TRUSTED_PROXY_COUNT=2)
    def test_a_short_header_falls_back_to_the_connection(self):
        self.assertEqual(client_address(self.request("203.0.113.9")), "10.0.0.5")
