"""Time spent on the teachable moment: gaps between activities, counted sensibly over re-visits."""

import datetime

from django.utils import timezone

from mamori.core.tests.base import BaseTestCase
from mamori.learning import actions, quiz
from mamori.learning.models import Completion
from mamori.learning.tests.makers import make_delivery

ALL_RIGHT = {"verify": "phonebook", "doubt": "early", "report": "report"}


def seconds(value: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)


class TimeSpentTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.start = timezone.now()

    def setUp(self):
        self.delivery = make_delivery(self.person_a)
        self.delivery.scenario.cues = []
        self.questions = quiz.build_quiz(self.delivery.scenario, self.ward_a, self.delivery.token)

    def visit(self, after: int) -> Completion:
        return actions.reach_moment(self.delivery, now=self.start + seconds(after))

    def answer(self, after: int) -> Completion:
        return actions.answer_quiz(self.delivery, self.questions, ALL_RIGHT, now=self.start + seconds(after))

    def test_a_reload_adds_the_time_since_the_last_view(self):
        self.visit(0)
        completion = self.visit(40)
        self.assertEqual((completion.seconds_spent, completion.visits), (40, 2))

    def test_coming_back_after_a_long_absence_adds_nothing_for_the_absence(self):
        self.visit(0)
        self.visit(30)
        completion = self.visit(3 * 60 * 60)
        self.assertEqual((completion.seconds_spent, completion.visits), (30, 3))

    def test_an_answer_after_a_long_pause_counts_at_most_the_cap(self):
        self.visit(0)
        completion = self.answer(2 * 60 * 60)
        self.assertEqual(completion.seconds_spent, int(actions.MAX_READING_GAP.total_seconds()))

    def test_a_revisit_after_completion_adds_its_reading_time_but_keeps_the_result(self):
        self.visit(0)
        first = self.answer(60)
        self.visit(24 * 60 * 60)
        completion = actions.answer_quiz(
            self.delivery,
            self.questions,
            {"verify": "link", "doubt": "certain", "report": "wait"},
            now=self.start + seconds(24 * 60 * 60 + 45),
        )
        self.assertEqual(completion.seconds_spent, 105)
        self.assertEqual(completion.completed_at, first.completed_at)
        self.assertEqual((completion.quiz_score, completion.answers), (3, ALL_RIGHT))

    def test_an_answer_without_a_view_starts_and_completes_at_once(self):
        completion = self.answer(10)
        self.assertEqual(completion.seconds_spent, 0)
        self.assertEqual(completion.started_at, completion.completed_at)
        self.assertEqual(Completion.objects.count(), 1)

    def test_a_clock_going_backwards_never_subtracts(self):
        self.visit(100)
        self.assertEqual(self.visit(50).seconds_spent, 0)
