"""The completion page: per campaign, who reached the teachable moment and who finished it."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person
from mamori.learning import actions, quiz
from mamori.learning.tests.makers import make_delivery


def finish(delivery, answers):
    actions.reach_moment(delivery)
    questions = quiz.build_quiz(delivery.scenario, delivery.organization, delivery.token)
    actions.answer_quiz(delivery, questions, answers)


class CompletionPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        first = make_delivery(cls.person_a, round_number=1, title="ward-a-campaign")
        second = make_delivery(make_person(cls.ward_a, "佐藤 一郎"), campaign=first.campaign)
        finish(first, {"cue": "cue", "doubt": "early", "report": "report"})
        actions.reach_moment(second)
        cls.campaign = first.campaign
        finish(make_delivery(cls.person_b, title="ward-b-campaign"), {"cue": "cue", "doubt": "early", "report": "wait"})

    def test_it_shows_the_completion_rate_per_campaign(self):
        self.login(self.alice)
        response = self.client.get(reverse("learning:completions"))
        self.assertContains(response, "ward-a-campaign")
        self.assertContains(response, reverse("drills:campaign-detail", args=[self.campaign.public_id]))
        self.assertContains(response, "<td>2</td><td>1</td><td>50.0%</td><td>3.0</td>", html=True)
        self.assertNotContains(response, "ward-b-campaign")

    def test_an_auditor_sees_it_too(self):
        self.login(self.bob)
        response = self.client.get(reverse("learning:completions"))
        self.assertContains(response, "ward-a-campaign")
        self.assertNotContains(response, reverse("learning:first-response"))

    def test_charlie_sees_only_his_own_ward(self):
        self.login(self.charlie)
        response = self.client.get(reverse("learning:completions"))
        self.assertContains(response, "ward-b-campaign")
        self.assertNotContains(response, "ward-a-campaign")
        self.assertNotContains(response, "A区")

    def test_its_cost_does_not_grow_with_campaigns(self):
        self.login(self.alice)
        url = reverse("learning:completions")
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for round_number in (2, 3, 4):
            finish(make_delivery(self.person_a, round_number=round_number), {"cue": "cue"})
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(url)
        self.assertContains(response, "ward-a-campaign")
        self.assertEqual(len(many), len(few))

    def test_anonymous_is_sent_to_login(self):
        response = self.client.get(reverse("learning:completions"))
        self.assertTrue(response["Location"].startswith(reverse("accounts:login")))
