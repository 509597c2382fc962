"""The drill-link endpoints, through Django's full stack and through the lean WSGI path alike.

``EndpointBehaviour`` is run twice: ``FullStackEndpointTests`` with the test client (every middleware),
``LeanEndpointTests`` through ``TrackingDispatcher`` as ``mamori serve`` runs it.
"""

import io
import sys
import zipfile
from unittest import mock
from wsgiref.util import setup_testing_defaults

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import close_old_connections
from django.http.response import ResponseHeaders
from django.test import Client, override_settings

from mamori.core.models import Organization
from mamori.core.tests.base import BaseTestCase
from mamori.drills import links
from mamori.drills.models import Campaign, Event, Scenario
from mamori.drills.tests.makers import make_scenario
from mamori.drills.tests.tracking import BROWSER, make_running_campaign, make_sent_delivery
from mamori.drills.tracking.views import PIXEL_GIF
from mamori.drills.tracking.wsgi import TrackingDispatcher

Policy = Organization.AddressPolicy
ADDRESS = "192.0.2.77"
UNKNOWN_TOKEN = "Zz" * 11


class LeanResponse:
    """What the WSGI server received: enough of an HttpResponse's interface for the shared tests."""

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status_code = int(status.split()[0])
        self.headers = ResponseHeaders({})
        for name, value in headers:
            self.headers[name] = value
        self.content = body
        self.set_cookies = [value for name, value in headers if name.lower() == "set-cookie"]

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def has_header(self, name: str) -> bool:
        return name in self.headers


class EndpointBehaviour:
    """What every path to the endpoints must do; subclasses say how a request is made."""

    def request(self, method: str, path: str, *, query: str = "", secure: bool = False, **environ):
        raise NotImplementedError

    def get(self, path: str, **options):
        return self.request("GET", path, **options)

    def setUp(self):
        self.scenario = make_scenario(self.ward_a, "リンク")
        self.campaign = make_running_campaign(self.ward_a, scenario=self.scenario)
        self.delivery = make_sent_delivery(self.campaign, self.person_a)
        self.token = self.delivery.token

    def only_event(self) -> Event:
        return Event.objects.get()

    def assert_no_event(self):
        self.assertFalse(Event.objects.exists())

    def test_a_click_goes_to_the_teachable_moment_and_is_recorded(self):
        response = self.get(f"/c/{self.token}")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], f"/l/{self.token}/")
        event = self.only_event()
        self.assertEqual((event.kind, event.source, event.user_agent), ("click", "url", BROWSER))
        self.assertEqual(event.client_address, "192.0.2.0")  # the default policy: truncated

    def test_a_click_on_a_credential_form_drill_goes_to_its_login_page(self):
        Scenario.objects.filter(pk=self.scenario.pk).update(lure_type=Scenario.LureType.CREDENTIAL_FORM)
        response = self.get(f"/c/{self.token}")
        self.assertEqual(response["Location"], f"/l/{self.token}/login/")

    def test_a_qr_scan_is_recorded_with_its_own_kind_and_source(self):
        response = self.get(f"/q/{self.token}")
        self.assertEqual(response["Location"], f"/l/{self.token}/")
        self.assertEqual((self.only_event().kind, self.only_event().source), ("qr_scan", "qr"))

    def test_the_open_pixel_is_an_uncacheable_gif(self):
        response = self.get(f"/o/{self.token}.gif")
        self.assertEqual(response.status_code, 200)
        self.assertEqual((response["Content-Type"], response.content), ("image/gif", PIXEL_GIF))
        self.assertEqual(response["Cache-Control"], "no-store")
        self.assertEqual((self.only_event().kind, self.only_event().source), ("open", "pixel"))

    def test_the_open_pixel_of_an_unknown_token_is_the_same_gif_and_no_event(self):
        known = self.get(f"/o/{self.token}.gif")
        Event.objects.all().delete()
        unknown = self.get(f"/o/{UNKNOWN_TOKEN}.gif")
        self.assertEqual((unknown.status_code, unknown.content), (known.status_code, known.content))
        self.assert_no_event()

    def test_the_trap_link_is_recorded_and_answered_with_the_neutral_page(self):
        trap = self.get(f"/x/{self.token}")
        self.assertEqual((self.only_event().kind, self.only_event().source), ("trap", "url"))
        unknown = self.get(f"/c/{UNKNOWN_TOKEN}")
        self.assertEqual((trap.status_code, trap.content), (unknown.status_code, unknown.content))

    def test_the_confirmation_beacon_is_a_post_or_a_get_answered_with_no_content(self):
        for method in ("POST", "GET"):
            with self.subTest(method=method):
                response = self.request(method, f"/cf/{self.token}")
                self.assertEqual((response.status_code, response.content), (204, b""))
        self.assertEqual(list(Event.objects.values_list("kind", "source")), [("confirm", "script")] * 2)

    def test_the_confirmation_beacon_of_an_unknown_token_answers_the_same(self):
        response = self.request("POST", f"/cf/{UNKNOWN_TOKEN}")
        self.assertEqual((response.status_code, response.content), (204, b""))
        self.assert_no_event()

    def test_a_download_link_serves_the_recipients_document(self):
        Scenario.objects.filter(pk=self.scenario.pk).update(
            lure_type=Scenario.LureType.ATTACHMENT,
            attachment_name="請求書.docx",
            attachment_body="{{ person_name }} 様\n\n請求書をご確認ください。",
        )
        response = self.get(f"/a/{self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("application/vnd.openxmlformats"))
        self.assertIn("attachment; filename*=utf-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.docx", response["Content-Disposition"])
        self.assertIn("sandbox", response["Content-Security-Policy"])
        document = zipfile.ZipFile(io.BytesIO(response.content)).read("word/document.xml").decode()
        self.assertIn("山田 太郎 様", document)
        self.assertNotIn("vbaProject", " ".join(zipfile.ZipFile(io.BytesIO(response.content)).namelist()))
        relationships = zipfile.ZipFile(io.BytesIO(response.content)).read("word/_rels/document.xml.rels").decode()
        self.assertIn(links.document_link(self.token, "docx").replace("&", "&amp;"), relationships)
        self.assertEqual((self.only_event().kind, self.only_event().source), ("attachment", "download"))

    def test_a_download_link_without_a_named_format_serves_a_pdf(self):
        Scenario.objects.filter(pk=self.scenario.pk).update(lure_type=Scenario.LureType.ATTACHMENT)
        response = self.get(f"/a/{self.token}")
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF"))
        self.assertIn(links.document_link(self.token, "pdf").encode(), response.content)

    def test_the_link_inside_a_document_goes_to_the_moment_and_names_the_document(self):
        for document in ("pdf", "docx", "html"):
            with self.subTest(document=document):
                response = self.get(f"/a/{self.token}", query=f"s={document}")
                self.assertEqual((response.status_code, response["Location"]), (302, f"/l/{self.token}/"))
                self.assertEqual(Event.objects.latest("pk").source, document)

    def test_a_hit_on_the_link_of_an_attached_document_leads_to_the_moment(self):
        Scenario.objects.filter(pk=self.scenario.pk).update(
            lure_type=Scenario.LureType.ATTACHMENT, attachment_mode=Scenario.AttachmentMode.PDF
        )
        response = self.get(f"/a/{self.token}")
        self.assertEqual(response["Location"], f"/l/{self.token}/")

    def test_every_token_we_do_not_serve_gets_the_same_neutral_page_and_no_event(self):
        closed = make_sent_delivery(make_running_campaign(self.ward_a, state=Campaign.State.CLOSED))
        draft = make_sent_delivery(make_running_campaign(self.ward_a, state=Campaign.State.DRAFT))
        pages = {
            token: self.get(f"{prefix}{token}")
            for prefix in ("/c/", "/q/", "/a/", "/x/")
            for token in (UNKNOWN_TOKEN, closed.token, draft.token, "short", "x" * 200, "%E3%81%82" * 3)
        }
        for token, response in pages.items():
            with self.subTest(token=token):
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.content, pages[UNKNOWN_TOKEN].content)
                self.assertEqual(response["Cache-Control"], "no-store")
        self.assertIn("ページを表示できません", pages[UNKNOWN_TOKEN].content.decode())
        self.assert_no_event()

    def test_each_endpoint_stores_the_address_as_the_organization_allows(self):
        expected = {Policy.FULL: ADDRESS, Policy.TRUNCATED: "192.0.2.0", Policy.NONE: ""}
        for path in (f"/c/{self.token}", f"/q/{self.token}", f"/o/{self.token}.gif", f"/x/{self.token}"):
            for policy, stored in expected.items():
                with self.subTest(path=path, policy=policy):
                    Organization.objects.filter(pk=self.ward_a.pk).update(event_address_policy=policy)
                    self.get(path)
                    event = Event.objects.latest("pk")
                    self.assertEqual((event.client_address, event.user_agent), (stored, BROWSER))

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_behind_a_trusted_proxy_the_forwarded_address_is_used(self):
        Organization.objects.filter(pk=self.ward_a.pk).update(event_address_policy=Policy.FULL)
        self.get(f"/c/{self.token}", HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.20")
        self.assertEqual(self.only_event().client_address, "198.51.100.20")

    def test_answers_carry_the_security_headers_and_no_cookie(self):
        for path in (f"/c/{self.token}", f"/o/{self.token}.gif", f"/x/{UNKNOWN_TOKEN}"):
            with self.subTest(path=path):
                response = self.get(path)
                self.assertEqual(response["X-Content-Type-Options"], "nosniff")
                self.assertEqual(response["X-Frame-Options"], "DENY")
                self.assertEqual(response["Referrer-Policy"], "same-origin")
                self.assertIn("default-src 'self'", response["Content-Security-Policy"])
                self.assertEqual(response["Cache-Control"], "no-store")
                self.assertFalse(self.cookies_set(response))

    def test_a_hit_costs_one_lookup_and_one_insert(self):
        with self.assertNumQueries(2):
            self.get(f"/c/{self.token}")

    def test_only_safe_methods_reach_the_link_endpoints(self):
        response = self.request("POST", f"/c/{self.token}")
        self.assertIn(response.status_code, {403, 405})  # the full stack's CSRF check answers before the view
        self.assert_no_event()


class FullStackEndpointTests(EndpointBehaviour, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.browser = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=ADDRESS)

    def request(self, method: str, path: str, *, query: str = "", secure: bool = False, **environ):
        return self.browser.generic(method, path, QUERY_STRING=query, secure=secure, **environ)

    def cookies_set(self, response) -> bool:
        return bool(response.cookies)

    def test_a_signed_in_user_of_another_ward_gets_what_anyone_gets(self):
        anonymous = self.get(f"/x/{self.token}")
        self.browser.force_login(self.charlie)
        charlie = self.get(f"/x/{self.token}")
        self.assertEqual((charlie.status_code, charlie.content), (anonymous.status_code, anonymous.content))
        self.assertNotIn(self.ward_a.name, charlie.content.decode())

    def test_the_confirmation_beacon_needs_no_csrf_token_and_sets_no_cookie(self):
        response = self.request("POST", f"/cf/{self.token}")
        self.assertEqual(response.status_code, 204)
        self.assertFalse(response.cookies)


class LeanEndpointTests(EndpointBehaviour, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.application = TrackingDispatcher(WSGIHandler())

    def request(self, method: str, path: str, *, query: str = "", secure: bool = False, **environ):
        wsgi_environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_HOST": "testserver",
            "HTTP_USER_AGENT": BROWSER,
            "REMOTE_ADDR": ADDRESS,
            "wsgi.url_scheme": "https" if secure else "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            **environ,
        }
        setup_testing_defaults(wsgi_environ)
        captured = {}

        def start_response(status, headers):
            captured.update(status=status, headers=headers)

        # As Django's test client does: the test case's transaction must survive a request handed to Django.
        request_started.disconnect(close_old_connections)
        try:
            body = b"".join(self.application(wsgi_environ, start_response))
        finally:
            request_started.connect(close_old_connections)
        return LeanResponse(captured["status"], captured["headers"], body)

    def cookies_set(self, response) -> bool:
        return bool(response.set_cookies)

    def test_it_answers_as_the_full_stack_does(self):
        """Byte for byte, headers included, but for ``Vary`` and ``Content-Language``: the full stack's session
        and locale middleware add them, and these answers depend on no cookie and no language."""
        full_stack = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=ADDRESS)
        for path in (f"/c/{self.token}", f"/o/{self.token}.gif", f"/x/{UNKNOWN_TOKEN}", f"/cf/{self.token}"):
            for secure in (False, True):
                with self.subTest(path=path, secure=secure):
                    lean = self.get(path, secure=secure)
                    django = full_stack.get(path, secure=secure)
                    self.assertEqual((django["Vary"], django["Content-Language"]), ("Accept-Language, Cookie", "ja"))
                    del django.headers["Vary"], django.headers["Content-Language"]
                    self.assertEqual(lean.status_code, django.status_code)
                    self.assertEqual(dict(lean.headers), dict(django.headers))
                    self.assertEqual(lean.content, django.content)

    @override_settings(SECURE_HSTS_SECONDS=600, X_FRAME_OPTIONS="SAMEORIGIN", SECURE_REFERRER_POLICY="no-referrer")
    def test_its_security_headers_follow_the_settings_as_the_middleware_does(self):
        self.application = TrackingDispatcher(WSGIHandler())
        plain, secure = self.get(f"/c/{self.token}"), self.get(f"/c/{self.token}", secure=True)
        self.assertFalse(plain.has_header("Strict-Transport-Security"))
        self.assertEqual(secure["Strict-Transport-Security"], "max-age=600")
        self.assertEqual((secure["X-Frame-Options"], secure["Referrer-Policy"]), ("SAMEORIGIN", "no-referrer"))

    def test_a_method_the_endpoint_does_not_take_is_left_to_django(self):
        response = self.request("PUT", f"/cf/{self.token}")
        self.assertEqual(response.status_code, 405)
        self.assert_no_event()

    def test_it_refuses_a_host_outside_allowed_hosts(self):
        response = self.get(f"/c/{self.token}", HTTP_HOST="evil.example")
        self.assertEqual(response.status_code, 400)
        self.assert_no_event()

    def test_it_redirects_to_https_before_recording_when_told_to(self):
        with override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=3600):
            self.application = TrackingDispatcher(WSGIHandler())
            plain = self.get(f"/c/{self.token}")
            self.assertEqual((plain.status_code, plain["Location"]), (301, f"https://testserver/c/{self.token}"))
            self.assert_no_event()
            secure = self.get(f"/c/{self.token}", secure=True)
        self.assertEqual(secure.status_code, 302)
        self.assertEqual(secure["Strict-Transport-Security"], "max-age=3600")
        self.assertEqual(self.only_event().kind, "click")

    def test_an_error_is_answered_as_django_answers_it(self):
        with (
            mock.patch("mamori.drills.tracking.views.record_hit", side_effect=RuntimeError("database gone")),
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.get(f"/c/{self.token}")
        self.assertEqual(response.status_code, 500)
        self.assertEqual((response["X-Frame-Options"], response["Cache-Control"]), ("DENY", "no-store"))

    def test_other_paths_go_to_django(self):
        response = self.get("/accounts/login/")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.set_cookies)  # the login page's CSRF cookie: Django's full stack answered
