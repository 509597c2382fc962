"""The tenant sweep: every URL pattern and every API route, tried as a member of another organization.

Charlie (ward B) is logged in with MFA passed and holds every role in ward B; each route is called with the
identifiers of ward A's objects. He must get 403/404, or a page that contains nothing of ward A; a POST must
change nothing of ward A. New routes are swept automatically; a route with a parameter the sweep cannot
fill fails until a sample is added to ``SAMPLES`` below.
"""

import datetime

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mamori.accounts.models import APIToken
from mamori.api import api
from mamori.core.models import AuditEntry, Membership, Person, RosterImport, VerifiedDomain
from mamori.core.tests.base import BaseTestCase
from mamori.drills.fiscal import current_fiscal_year
from mamori.drills.models import Campaign, Scenario, SendingProfile
from mamori.drills.tests.makers import make_campaign, make_scenario, make_sending_profile
from mamori.incidents import actions as incident_actions
from mamori.incidents.models import (
    Case,
    CustodyEntry,
    DutyContact,
    Escalation,
    Evidence,
    Task,
    TimelineEntry,
    Transition,
)
from mamori.incidents.tests.makers import make_case, make_joint_member, make_joint_organization
from mamori.learning.models import LandingPage
from mamori.metrics import rollups
from mamori.metrics.tests.rollup_builders import deliver, launched_campaign
from mamori.reporting.models import Report, ReportCluster, ResponseDrill, ResponseDrillParticipant

# Strings that exist only in ward A's data; none may appear in what Charlie is shown.
WARD_A_MARKERS = [
    "山田 太郎",
    "yamada@city-a.lg.jp",
    "city-a.lg.jp",
    "A区",
    "ward-a-roster.csv",
    "ward-a-token",
    "ward-a-scenario",
    "ward-a-profile",
    "ward-a-campaign",
    "ward-a-phish",
    "ward-a-drill",
    "ward-a-case",
    "ward-a-timeline",
    "ward-a-task",
    "ward-a-evidence",
    "ward-a-duty",
]

# Recipient pages (drill links, landing pages, teachable moments) are reached from a mail without an account:
# the unguessable delivery token is the credential. The sweep calls them with a token that is not ward A's
# (as a member of another ward would have to), and they must show nothing of ward A.
TOKEN_PARAMS = {"delivery_token", "personal_token"}

# The staff report pages are an organization's public face, reached without an account from LGWAN terminals:
# by its code they show its name, report contact, first-response rules and (for anonymous near misses) its
# departments, and nothing else of it. Swept with ward A's code, they may show ward A's name only.
PUBLIC_FACE_PARAMS = {"organization_code"}
PUBLIC_FACE_MARKERS = ["A区"]

# Routes anyone may reach without logging in (they show no tenant data).
PUBLIC_ROUTES = {
    "accounts:login",
    "accounts:password-reset",
    "accounts:password-reset-done",
    "accounts:password-reset-confirm",
    "accounts:password-reset-complete",
    "set_language",
    # The colours of a fake login page, by the look's own random id: nothing but CSS colours.
    "learning:look",
    # The staff report page without a link: it asks for the work email and lists no organization.
    "reporting:report",
}


def named_routes(patterns=None, namespace: str = "", params: tuple[str, ...] = ()):
    """Yield (full URL name, parameter names) for every named URL pattern, outside the API."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        own_params = tuple(getattr(pattern.pattern, "converters", {}).keys())
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "api":
                continue  # swept through the OpenAPI schema instead
            child_namespace = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_routes(pattern.url_patterns, child_namespace, params + own_params)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"URL pattern {pattern.pattern} has no name; every route must be named"
            yield f"{namespace}{pattern.name}", params + own_params


class SweepFixtures(BaseTestCase):
    """Ward A's objects, one of each kind, and the checks the sweeps share."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for role in Membership.Role.values:
            Membership.objects.get_or_create(user=cls.charlie, organization=cls.ward_b, role=role)
        cls.ward_a_token, _ = APIToken.issue(user=cls.alice, organization=cls.ward_a, name="ward-a-token")
        cls.charlie_token, cls.charlie_secret = APIToken.issue(
            user=cls.charlie, organization=cls.ward_b, name="charlie"
        )
        cls.ward_a_import = RosterImport.objects.create(
            organization=cls.ward_a,
            uploaded_by=cls.alice,
            filename="ward-a-roster.csv",
            content=b"",
            sha256="0" * 64,
        )
        cls.ward_a_domain = cls.ward_a.domains.get()
        AuditEntry.objects.create(organization=cls.ward_a, actor=cls.alice, action="test.marker", target="A区")
        cls.ward_a_scenario = make_scenario(cls.ward_a, "ward-a-scenario")
        cls.ward_a_profile = make_sending_profile(cls.ward_a, "ward-a-profile")
        cls.ward_a_campaign = make_campaign(
            cls.ward_a, scenarios=[cls.ward_a_scenario], profile=cls.ward_a_profile, title="ward-a-campaign"
        )
        cls.ward_a_look = LandingPage.objects.create(organization=cls.ward_a, scenario=cls.ward_a_scenario)
        # A closed round with a report, rolled up: the metrics pages and exports are swept with ward A's figures.
        cls.ward_a_round = launched_campaign(cls.ward_a, 2, fiscal_year=current_fiscal_year())
        deliver(cls.ward_a_round, cls.person_a, reported_at=datetime.timedelta(minutes=5))
        rollups.refresh_organization(cls.ward_a, current_fiscal_year())
        cls.ward_a_cluster = ReportCluster.objects.create(organization=cls.ward_a, subject="ward-a-phish")
        cls.ward_a_report = Report.objects.create(
            organization=cls.ward_a,
            channel=Report.Channel.MAILBOX,
            state=Report.State.TRIAGE,
            cluster=cls.ward_a_cluster,
            subject="ward-a-phish",
            reporter=cls.person_a,
            reporter_email=cls.person_a.email,
        )
        cls.ward_a_drill = ResponseDrill.objects.create(
            organization=cls.ward_a, scenario=ResponseDrill.Scenario.SUSPICIOUS_TRAFFIC, title="ward-a-drill"
        )
        cls.ward_a_participant = ResponseDrillParticipant.objects.create(drill=cls.ward_a_drill, person=cls.person_a)
        cls.make_ward_a_case()

    @classmethod
    def make_ward_a_case(cls):
        """A ward A case with a timeline entry, a task, an evidence item, a grant and an on-duty contact."""
        cls.ward_a_case = make_case(cls.ward_a, actor=cls.alice, title="ward-a-case", reporter=cls.person_a)
        incident_actions.update_case(
            cls.ward_a_case, actor=cls.alice, organization=cls.ward_a, affected_people=[cls.person_a]
        )
        incident_actions.add_timeline_entry(
            cls.ward_a_case, actor=cls.alice, organization=cls.ward_a, text="ward-a-timeline"
        )
        cls.ward_a_task = incident_actions.add_task(
            cls.ward_a_case, actor=cls.alice, organization=cls.ward_a, title="ward-a-task"
        )
        cls.ward_a_evidence = incident_actions.register_evidence(
            cls.ward_a_case, actor=cls.alice, organization=cls.ward_a, description="ward-a-evidence", sha256="a" * 64
        )
        cls.joint = make_joint_organization()
        cls.joint_member = make_joint_member(cls.joint)
        cls.ward_a_grant = incident_actions.escalate(
            cls.ward_a_case, cls.joint, actor=cls.alice, organization=cls.ward_a, share_people=False
        )
        cls.ward_a_contact = DutyContact.objects.create(
            organization=cls.ward_a, name="ward-a-duty", email="duty@city-a.lg.jp"
        )

    def samples(self) -> dict[str, object]:
        """One ward A value for every URL parameter name used in the project."""
        return {
            "person_id": self.person_a.public_id,
            "import_id": self.ward_a_import.public_id,
            "domain_id": self.ward_a_domain.public_id,
            "token_id": self.ward_a_token.public_id,
            "uidb64": urlsafe_base64_encode(force_bytes(self.alice.pk)),
            "token": "set-password",
            "scenario_id": self.ward_a_scenario.public_id,
            "profile_id": self.ward_a_profile.public_id,
            "campaign_id": self.ward_a_campaign.public_id,
            # Not ward A's token (see TOKEN_PARAMS): the well-formed token of no delivery.
            "delivery_token": "A" * 22,
            "look_id": self.ward_a_look.public_id,
            "cluster_id": self.ward_a_cluster.public_id,
            "report_id": self.ward_a_report.public_id,
            "organization_code": self.ward_a.code,
            # Not ward A's (see TOKEN_PARAMS): a personal report link with no valid signature.
            "personal_token": "not-a-personal-link",
            "kind": "received",
            "drill_id": self.ward_a_drill.public_id,
            "participant_id": self.ward_a_participant.public_id,
            "case_id": self.ward_a_case.public_id,
            "task_id": self.ward_a_task.public_id,
            "evidence_id": self.ward_a_evidence.public_id,
            "grant_id": self.ward_a_grant.public_id,
            "contact_id": self.ward_a_contact.public_id,
        }

    def ward_a_state(self) -> tuple:
        return (
            list(Person.objects.filter(organization=self.ward_a).values_list("name", "email", "active")),
            list(VerifiedDomain.objects.filter(organization=self.ward_a).values_list("domain", flat=True)),
            list(APIToken.objects.filter(organization=self.ward_a).values_list("name", "revoked_at")),
            list(RosterImport.objects.filter(organization=self.ward_a).values_list("state", flat=True)),
            list(Membership.objects.filter(organization=self.ward_a).values_list("user_id", "role")),
            list(Scenario.objects.filter(organization=self.ward_a).values_list("name", "subject", "archived")),
            list(SendingProfile.objects.filter(organization=self.ward_a).values_list("name", "host")),
            list(Campaign.objects.filter(organization=self.ward_a).values_list("state", "paused_at", "title")),
            list(LandingPage.objects.filter(organization=self.ward_a).values_list("heading", "header_colour")),
            list(ReportCluster.objects.filter(organization=self.ward_a).values_list("verdict", "verdict_note")),
            list(ResponseDrill.objects.filter(organization=self.ward_a).values_list("closed_at", "title")),
            list(
                ResponseDrillParticipant.objects.filter(drill__organization=self.ward_a).values_list(
                    "acknowledged_at", "person_report"
                )
            ),
            *self.ward_a_incidents_state(),
        )

    def ward_a_incidents_state(self) -> tuple:
        cases = {"case__organization": self.ward_a}
        return (
            list(Case.objects.filter(organization=self.ward_a).values_list("state", "title", "resolution", "is_major")),
            list(Case.objects.filter(organization=self.ward_a).values_list("affected_people", "affected_departments")),
            list(Transition.objects.filter(**cases).values_list("from_state", "to_state")),
            list(TimelineEntry.objects.filter(**cases).values_list("text", "author_organization")),
            list(Task.objects.filter(**cases).values_list("title", "done_at", "cancelled_at")),
            list(Evidence.objects.filter(**cases).values_list("description", "sha256")),
            list(CustodyEntry.objects.filter(evidence__case__organization=self.ward_a).values_list("action", "note")),
            list(Escalation.objects.filter(**cases).values_list("joint_organization", "revoked_at")),
            list(DutyContact.objects.filter(organization=self.ward_a).values_list("name", "email", "active")),
        )

    def url_for(self, name: str, params: tuple[str, ...]) -> str:
        samples = self.samples()
        missing = [param for param in params if param not in samples]
        assert not missing, f"{name}: add a ward A sample for URL parameter(s) {missing} to the tenant sweep"
        return reverse(name, kwargs={param: samples[param] for param in params})

    def assert_nothing_of_ward_a(self, response, label: str, *, public_face: bool = False) -> None:
        # 422: the API refused the request body before the route ran (e.g. an upload without its file).
        if response.status_code in (403, 404, 405, 422):
            return
        self.assertIn(response.status_code, (200, 204, 302, 303), f"{label}: unexpected status {response.status_code}")
        body = response.content.decode(errors="replace") + response.get("Location", "")
        for marker in WARD_A_MARKERS:
            if public_face and marker in PUBLIC_FACE_MARKERS:
                continue
            self.assertNotIn(marker, body, f"{label} shows ward A data ({marker!r}) to a member of ward B")


class TenantSweepTests(SweepFixtures):
    def test_the_sweep_sees_the_routes(self):
        names = {name for name, _ in named_routes()}
        self.assertIn("core:person-detail", names)
        self.assertIn("core:roster-import", names)
        self.assertGreater(len(api.get_openapi_schema()["paths"]), 2)

    def test_charlie_finds_nothing_of_ward_a_through_any_page(self):
        self.login(self.charlie)
        for name, params in named_routes():
            url = self.url_for(name, params)
            with self.subTest(url=url, method="GET"):
                public_face = bool(PUBLIC_FACE_PARAMS.intersection(params))
                self.assert_nothing_of_ward_a(self.client.get(url), f"GET {url}", public_face=public_face)

    def test_charlie_changes_nothing_of_ward_a_through_any_post(self):
        before = self.ward_a_state()
        self.login(self.charlie)
        for name, params in named_routes():
            url = self.url_for(name, params)
            if name == "accounts:logout":
                continue  # would end the sweep's own session
            with self.subTest(url=url, method="POST"):
                response = self.client.post(
                    url, {"domain": "city-a.lg.jp", "name": "x", "confirm": "1", "organization": "ward-a"}
                )
                public_face = bool(PUBLIC_FACE_PARAMS.intersection(params))
                self.assert_nothing_of_ward_a(response, f"POST {url}", public_face=public_face)
        self.assertEqual(self.ward_a_state(), before)

    def test_anonymous_visitors_are_sent_to_login(self):
        for name, params in named_routes():
            if name in PUBLIC_ROUTES or (TOKEN_PARAMS | PUBLIC_FACE_PARAMS).intersection(params):
                continue
            url = self.url_for(name, params)
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertIn(response.status_code, (302, 403, 404, 405), url)
                if response.status_code == 302:
                    self.assertTrue(response["Location"].startswith(reverse("accounts:login")), url)

    def api_calls(self):
        """(method, path) for every API operation, parameters filled with ward A values."""
        samples = {"id": self.ward_a_import.public_id, **self.samples()}
        for path, operations in api.get_openapi_schema()["paths"].items():
            for method in operations:
                filled = path
                for param, value in samples.items():
                    filled = filled.replace("{" + param + "}", str(value))
                assert "{" not in filled, f"{path}: add a ward A sample for its parameter to the tenant sweep"
                yield method.upper(), filled

    def test_charlie_finds_nothing_of_ward_a_through_any_api_route(self):
        before = self.ward_a_state()
        headers = {"Authorization": f"Bearer {self.charlie_secret}"}
        for method, path in self.api_calls():
            with self.subTest(path=path, method=method):
                response = self.client.generic(method, path, headers=headers)
                self.assert_nothing_of_ward_a(response, f"{method} {path}")
        self.assertEqual(self.ward_a_state(), before)

    def test_the_api_refuses_calls_without_a_token(self):
        for method, path in self.api_calls():
            with self.subTest(path=path, method=method):
                self.assertEqual(self.client.generic(method, path).status_code, 401)


# What a joint body's member may be shown of a case granted to it without people's names: the ward's name (the
# grant says who asked), the case, its timeline, tasks and evidence. Never a person's name or address.
JOINT_GRANTED_MARKERS = {"A区", "ward-a-case", "ward-a-timeline", "ward-a-task", "ward-a-evidence"}
# The joint body's pages (its list, a granted case, its measures of granted cases) may show those markers.
JOINT_PAGES_PREFIX = "incidents:joint-"
JOINT_MEASURES = "incidents:measures"


class JointGrantSweepTests(SweepFixtures):
    """The escalation grant lets the joint body into that one case, through the joint pages, and nothing else."""

    def test_the_joint_member_sees_the_granted_case_only_through_the_joint_pages(self):
        self.login(self.joint_member)
        for name, params in named_routes():
            url = self.url_for(name, params)
            with self.subTest(url=url):
                response = self.client.get(url)
                if name.startswith(JOINT_PAGES_PREFIX) or name == JOINT_MEASURES:
                    # 302: the download of an item kept offline goes back to the case page with a message.
                    self.assertIn(response.status_code, (200, 302, 405), url)
                    body = response.content.decode()
                    if name == "incidents:joint-detail":
                        self.assertIn("ward-a-case", body)
                        self.assertIn("ward-a-timeline", body)
                    for marker in set(WARD_A_MARKERS) - JOINT_GRANTED_MARKERS:
                        self.assertNotIn(marker, body, f"{url} shows {marker!r} to the joint body")
                else:
                    public_face = bool(PUBLIC_FACE_PARAMS.intersection(params))
                    self.assert_nothing_of_ward_a(response, f"GET {url}", public_face=public_face)

    def test_the_joint_member_cannot_change_the_wards_case(self):
        before = self.ward_a_state()
        self.login(self.joint_member)
        case = self.ward_a_case.public_id
        ward_only = [
            reverse("incidents:case-transition", args=[case]),
            reverse("incidents:case-edit", args=[case]),
            reverse("incidents:escalate", args=[case]),
            reverse("incidents:escalation-revoke", args=[case, self.ward_a_grant.public_id]),
            reverse("incidents:evidence-add", args=[case]),
            reverse("incidents:task-done", args=[case, self.ward_a_task.public_id]),
            # The ward's task, through the joint side: a joint body completes only its own tasks.
            reverse("incidents:joint-task-done", args=[case, self.ward_a_task.public_id]),
        ]
        for url in ward_only:
            with self.subTest(url=url):
                response = self.client.post(url, {"to_state": "triage", "title": "x", "resolution": "resolved"})
                self.assertIn(response.status_code, (403, 404), url)
        self.assertEqual(self.ward_a_state(), before)

    def test_revoking_the_grant_shuts_the_joint_body_out_at_once(self):
        self.login(self.joint_member)
        url = reverse("incidents:joint-detail", args=[self.ward_a_case.public_id])
        self.assertEqual(self.client.get(url).status_code, 200)

        incident_actions.revoke_escalation(self.ward_a_grant, actor=self.alice, organization=self.ward_a)

        self.assertEqual(self.client.get(url).status_code, 404)
        listing = self.client.get(reverse("incidents:joint-list"))
        self.assertNotContains(listing, "ward-a-case")
        posted = self.client.post(
            reverse("incidents:joint-timeline-add", args=[self.ward_a_case.public_id]),
            {"kind": "observation", "at_precision": "exact", "text": "取り消し後の記録"},
        )
        self.assertEqual(posted.status_code, 404)
        self.assertFalse(TimelineEntry.objects.filter(text="取り消し後の記録").exists())

    def test_a_joint_admin_of_a_ward_is_not_a_joint_body(self):
        """Charlie holds joint_admin in ward B: that role in a ward opens no granted case."""
        self.login(self.charlie)

        self.assertEqual(
            self.client.get(reverse("incidents:joint-detail", args=[self.ward_a_case.public_id])).status_code, 404
        )
        self.assertNotContains(self.client.get(reverse("incidents:joint-list")), "ward-a-case")
