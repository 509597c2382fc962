"""The quiz: built from this mail's cues and the reporting rule, graded on the server, answered without JS."""

import datetime
from unittest import mock

from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import timezone

from mamori.core.models import Organization
from mamori.core.tests.base import BaseTestCase
from mamori.drills.models import Campaign, Scenario
from mamori.learning import quiz
from mamori.learning.models import Completion
from mamori.learning.tests.makers import make_credential_scenario, make_delivery

TWO_CUES = [
    {"label": "差出人のドメイン", "detail": "区のドメインではありません。", "excerpt": "example.jp"},
    {"label": "急がせる", "detail": "期限で考える時間を奪います。", "excerpt": "本日中"},
]


class QuizBuildingTests(SimpleTestCase):
    def build(self, cues, token="token-1", contact=""):
        return quiz.build_quiz(Scenario(cues=cues), Organization(report_contact=contact), token)

    def test_it_asks_about_two_of_the_mails_cues_and_the_reporting_rule(self):
        questions = self.build(TWO_CUES, contact="情報政策課（内線 1234）")
        self.assertEqual([question.key for question in questions], ["cue", "detail", "report"])
        self.assertEqual(questions[0].correct_choice.text, "差出人のドメイン")
        self.assertIn("「本日中」", questions[1].text)
        self.assertEqual(questions[1].correct_choice.text, "期限で考える時間を奪います。")
        self.assertEqual(questions[2].correct_choice.text, "すぐに情報政策課（内線 1234）へ、正直に報告する。")

    def test_it_falls_back_to_general_questions_when_the_mail_has_few_cues(self):
        self.assertEqual([q.key for q in self.build(TWO_CUES[:1])], ["cue", "doubt", "report"])
        self.assertEqual([q.key for q in self.build([])], ["verify", "doubt", "report"])
        self.assertEqual([q.key for q in self.build([{"label": "ラベルだけ"}])], ["verify", "doubt", "report"])

    def test_every_question_has_three_choices_and_one_right_answer_with_an_explanation(self):
        for cues in (TWO_CUES, TWO_CUES[:1], []):
            for question in self.build(cues):
                with self.subTest(question=question.key):
                    self.assertEqual(len(question.choices), 3)
                    self.assertEqual(len({choice.key for choice in question.choices}), 3)
                    self.assertIsNotNone(question.choice(question.correct))
                    self.assertTrue(question.explanation)

    def test_the_order_of_choices_is_stable_per_recipient_and_differs_between_recipients(self):
        def orders(token):
            return [[choice.key for choice in question.choices] for question in self.build(TWO_CUES, token)]

        self.assertEqual(orders("token-1"), orders("token-1"))
        self.assertTrue(any(orders("token-1") != orders(f"token-{n}") for n in range(2, 10)))
        firsts = {orders(f"token-{n}")[2][0] for n in range(30)}
        self.assertIn("report", firsts)
        self.assertGreater(len(firsts), 1, "the right answer must not always come first")

    def test_it_reads_only_known_choice_keys(self):
        questions = self.build(TWO_CUES)
        answers, missing = quiz.read_answers(questions, {"q-cue": "cue", "q-detail": "<script>", "q-report": ""})
        self.assertEqual(answers, {"cue": "cue"})
        self.assertEqual([question.key for question in missing], ["detail", "report"])

    def test_it_grades_on_the_server(self):
        questions = self.build(TWO_CUES)
        graded = quiz.grade(questions, {"cue": "cue", "detail": "routine", "report": "report"})
        self.assertEqual([answer.correct for answer in graded], [True, False, True])
        self.assertEqual(quiz.score(graded), 2)
        self.assertEqual(graded[1].chosen.key, "routine")


class QuizPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.delivery = make_delivery(cls.person_a, scenario=make_credential_scenario(cls.ward_a))

    def quiz_url(self, token=None):
        return reverse("learning:quiz", args=[token or self.delivery.token])

    def moment_url(self):
        return reverse("learning:moment", args=[self.delivery.token])

    def answer(self, **answers):
        return self.client.post(self.quiz_url(), {f"q-{key}": value for key, value in answers.items()})

    def test_it_shows_three_questions_as_plain_radio_buttons(self):
        response = self.client.get(self.moment_url())
        self.assertContains(response, 'type="radio"', count=9)
        self.assertContains(response, f'<form method="post" action="{self.quiz_url()}" id="quiz-form">')
        self.assertContains(response, '<label for="q-report-report">')

    def test_answering_completes_the_assignment_with_the_score_and_the_choices_only(self):
        self.client.get(self.moment_url())
        response = self.answer(cue="cue", detail="routine", report="report")
        self.assertRedirects(response, self.moment_url() + "#quiz", fetch_redirect_response=False)
        completion = Completion.objects.get()
        self.assertIsNotNone(completion.completed_at)
        self.assertEqual((completion.quiz_score, completion.quiz_questions), (2, 3))
        self.assertEqual(completion.answers, {"cue": "cue", "detail": "routine", "report": "report"})

    def test_the_page_then_shows_the_result_with_explanations(self):
        self.answer(cue="cue", detail="routine", report="report")
        response = self.client.get(self.moment_url())
        self.assertContains(response, "3問中 2問 正解でした。")
        self.assertContains(response, '<div class="answer answer-wrong" id="answer-detail">')
        self.assertContains(response, "正しい答え: パスワードはメールのリンク先で入力しません。")
        self.assertContains(response, "「いつもの連絡だろう」と思ったときこそ")
        self.assertNotContains(response, 'id="quiz-form"')

    def test_a_full_score_is_praised(self):
        self.answer(cue="cue", detail="detail", report="report")
        self.assertContains(self.client.get(self.moment_url()), "全問正解です。")

    def test_an_incomplete_answer_shows_the_quiz_again_with_the_choices_kept(self):
        response = self.answer(cue="hours")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "答えていない問いがあります。")
        self.assertContains(response, 'id="q-cue-hours" value="hours" required checked')
        self.assertContains(response, '<fieldset class="question question-missing" id="question-report">')
        self.assertFalse(Completion.objects.filter(completed_at__isnull=False).exists())

    def test_the_first_answer_counts_and_a_later_one_only_adds_time(self):
        self.answer(cue="hours", detail="routine", report="wait")
        self.answer(cue="cue", detail="detail", report="report")
        completion = Completion.objects.get()
        self.assertEqual(completion.quiz_score, 0)
        self.assertEqual(completion.answers, {"cue": "hours", "detail": "routine", "report": "wait"})

    def test_it_records_the_time_spent_from_the_visit_to_the_answer(self):
        start = timezone.now()
        with mock.patch("django.utils.timezone.now", return_value=start):
            self.client.get(self.moment_url())
        with mock.patch("django.utils.timezone.now", return_value=start + datetime.timedelta(seconds=75)):
            self.answer(cue="cue", detail="detail", report="report")
        completion = Completion.objects.get()
        self.assertEqual(completion.seconds_spent, 75)
        self.assertEqual(completion.started_at, start)
        self.assertEqual(completion.completed_at, start + datetime.timedelta(seconds=75))

    def test_it_answers_unknown_and_closed_tokens_with_the_neutral_page(self):
        closed = make_delivery(
            self.person_a, scenario=self.delivery.scenario, state=Campaign.State.CLOSED, round_number=2
        )
        for token in ("C" * 22, closed.token):
            with self.subTest(token=token):
                response = self.client.post(self.quiz_url(token), {"q-cue": "cue"})
                self.assertContains(response, "ページを表示できません")
        self.assertFalse(Completion.objects.exists())

    def test_the_quiz_only_takes_posts(self):
        self.assertEqual(self.client.get(self.quiz_url()).status_code, 405)
