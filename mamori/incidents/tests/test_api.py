"""The incidents API: list, read, open by hand, add to the timeline; scoped to the token's ward."""

import datetime
import json

from mamori.accounts.models import APIToken
from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.incidents.models import Case, TimelineEntry
from mamori.incidents.tests.makers import make_case

JST = datetime.timezone(datetime.timedelta(hours=9))


class IncidentAPITests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("csirt-a", organization=cls.ward_a, role=Membership.Role.CSIRT)
        _, cls.csirt_token = APIToken.issue(user=cls.csirt, organization=cls.ward_a, name="soc")
        _, cls.auditor_token = APIToken.issue(user=cls.bob, organization=cls.ward_a, name="audit")
        _, cls.charlie_token = APIToken.issue(user=cls.charlie, organization=cls.ward_b, name="charlie")
        cls.case = make_case(cls.ward_a, actor=cls.csirt, title="端末のマルウェア感染", category="malware")
        cls.closed = make_case(cls.ward_a, actor=cls.csirt, title="誤検知だった件")
        Case.objects.filter(pk=cls.closed.pk).update(state=Case.State.CLOSED)

    def call(self, method, path, token=None, data=None):
        headers = {"Authorization": f"Bearer {token or self.csirt_token}"}
        body = json.dumps(data) if data is not None else ""
        return self.client.generic(method, path, body, headers=headers, content_type="application/json")

    def test_it_lists_the_wards_cases_with_filters(self):
        body = self.client.get(
            "/api/v1/incidents", {"open": "true"}, headers={"Authorization": f"Bearer {self.csirt_token}"}
        ).json()

        self.assertEqual(body["count"], 1)
        item = body["items"][0]
        self.assertEqual(item["id"], str(self.case.public_id))
        self.assertEqual(item["title"], "端末のマルウェア感染")
        self.assertEqual(item["state"], "new")
        self.assertEqual(item["detected_precision"], "exact")
        self.assertNotIn("pk", item)

    def test_it_reads_one_case_with_its_timeline(self):
        self.call("POST", f"/api/v1/incidents/{self.case.public_id}/timeline", data={"text": "端末をLANから切り離した"})

        body = self.call("GET", f"/api/v1/incidents/{self.case.public_id}").json()

        self.assertEqual(body["category"], "malware")
        self.assertEqual([entry["text"] for entry in body["timeline"]], ["端末をLANから切り離した"])
        self.assertEqual(body["timeline"][0]["author_organization"], "A区")

    def test_it_opens_a_case_by_hand_storing_only_what_is_known(self):
        response = self.call(
            "POST",
            "/api/v1/incidents",
            data={
                "title": "公開サーバーへの不正アクセスの疑い",
                "category": "unauthorised_access",
                "detected_at": "2026-12-01T09:30:00+09:00",
                "occurred_at": "2026-12-01T03:47:00+09:00",
                "occurred_precision": "hour",
            },
        )

        self.assertEqual(response.status_code, 201, response.content)
        case = Case.objects.get(public_id=response.json()["id"])
        self.assertEqual(case.organization, self.ward_a)
        self.assertEqual(case.occurred_at, datetime.datetime(2026, 12, 1, 3, 0, tzinfo=JST))
        self.assertEqual(case.transitions.get().at, datetime.datetime(2026, 12, 1, 9, 30, tzinfo=JST))

    def test_it_refuses_a_time_without_a_zone_and_a_future_detection(self):
        naive = self.call("POST", "/api/v1/incidents", data={"title": "x", "detected_at": "2026-12-01T09:30:00"})
        future = self.call("POST", "/api/v1/incidents", data={"title": "x", "detected_at": "2999-01-01T00:00:00+09:00"})

        self.assertEqual(naive.status_code, 422)
        self.assertIn("タイムゾーン", naive.json()["detail"])
        self.assertEqual(future.status_code, 422)
        self.assertIn("未来", future.json()["detail"])
        self.assertEqual(Case.objects.count(), 2)

    def test_the_auditor_reads_but_does_not_write(self):
        self.assertEqual(self.call("GET", "/api/v1/incidents", token=self.auditor_token).status_code, 200)
        refused = self.call("POST", "/api/v1/incidents", token=self.auditor_token, data={"title": "x"})
        self.assertEqual(refused.status_code, 403)

    def test_charlie_sees_and_changes_nothing_of_ward_a(self):
        listing = self.call("GET", "/api/v1/incidents", token=self.charlie_token).json()
        detail = self.call("GET", f"/api/v1/incidents/{self.case.public_id}", token=self.charlie_token)
        entry = self.call(
            "POST", f"/api/v1/incidents/{self.case.public_id}/timeline", token=self.charlie_token, data={"text": "x"}
        )

        self.assertEqual(listing["count"], 0)
        self.assertEqual(detail.status_code, 404)
        self.assertEqual(entry.status_code, 404)
        self.assertFalse(TimelineEntry.objects.exists())
