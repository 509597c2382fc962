"""The teachable moment's 3-question quiz: about this mail's cues and the reporting rule.

Questions are built from the scenario's cues and the organization's report contact, so each ward's quiz
speaks of its own mail and its own contact. Choices carry stable keys (``cue``, ``wait`` …): the answers
are stored as those keys only. Their order is shuffled per recipient (seeded by the delivery token), so
the right answer is not always first and stays where it was when the page is shown again.
"""

import hashlib
from dataclasses import dataclass

from django.utils.translation import gettext as _

from mamori.learning.content import report_contact


@dataclass(frozen=True)
class Choice:
    key: str
    text: str


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    choices: tuple[Choice, ...]
    correct: str
    explanation: str

    def choice(self, key: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.key == key), None)

    @property
    def correct_choice(self) -> Choice:
        return next(choice for choice in self.choices if choice.key == self.correct)


@dataclass(frozen=True)
class GradedAnswer:
    question: Question
    chosen: Choice | None
    correct: bool


def teaching_cues(cues: list) -> list[dict]:
    """The cues that can make a question: a label and a detail are needed."""
    return [cue for cue in cues if isinstance(cue, dict) and cue.get("label") and cue.get("detail")]


def cue_question(cue: dict) -> Question:
    label = str(cue["label"])
    return Question(
        key="cue",
        text=_("このメールについて、気をつけるべき点として正しいものはどれですか？"),
        choices=(
            Choice("cue", label),
            Choice("name", _("宛名に自分の氏名が書かれているので、本物と考えてよい。")),
            Choice("hours", _("勤務時間中に届いたので、安心して開いてよい。")),
        ),
        correct="cue",
        explanation=_(
            "正解は「%(label)s」です。%(detail)s宛名に氏名が書かれていることや、勤務時間中に届くことは、"
            "本物である証拠にはなりません。"
        )
        % {"label": label, "detail": cue["detail"]},
    )


def detail_question(cue: dict) -> Question:
    excerpt = str(cue.get("excerpt") or "").strip()
    subject = excerpt or str(cue["label"])
    return Question(
        key="detail",
        text=_("このメールの「%(subject)s」について、正しい説明はどれですか？") % {"subject": subject},
        choices=(
            Choice("detail", str(cue["detail"])),
            Choice("routine", _("よくある業務連絡の書き方なので、気にする必要はない。")),
            Choice("automatic", _("システムから自動で送られたメールなので、安全と考えてよい。")),
        ),
        correct="detail",
        explanation=_("「いつもの連絡だろう」と思ったときこそ、一度立ち止まって確かめましょう。"),
    )


def verify_question() -> Question:
    return Question(
        key="verify",
        text=_("届いたメールが本物かどうか確かめるには、どうするのがよいですか？"),
        choices=(
            Choice("phonebook", _("庁内の電話帳で調べた番号に電話して、差出人の部署に確認する。")),
            Choice("link", _("メールのリンクを開いて、内容が本物らしいか確かめる。")),
            Choice("reply", _("メールに返信して、本物かどうか尋ねる。")),
        ),
        correct="phonebook",
        explanation=_(
            "メールに書かれたリンクや連絡先は、攻撃者が用意したものかもしれません。"
            "電話帳など、自分で調べた連絡先で確かめましょう。"
        ),
    )


def doubt_question() -> Question:
    return Question(
        key="doubt",
        text=_("怪しいメールを報告するのは、どんなときですか？"),
        choices=(
            Choice("early", _("少しでも「いつもと違う」と感じたら、勘違いかもしれなくても報告する。")),
            Choice("certain", _("被害が出たと確信できたときだけ報告する。")),
            Choice("investigate", _("自分で調べて、攻撃だと確かめてから報告する。")),
        ),
        correct="early",
        explanation=_(
            "勘違いでもかまいません。小さな「あれ？」をすぐ伝えてもらえることが、"
            "組織を守るいちばんの手がかりです。報告してくれた人が責められることはありません。"
        ),
    )


def report_question(organization) -> Question:
    contact = report_contact(organization)
    return Question(
        key="report",
        text=_("本物の攻撃メールのリンクを開いてしまったと気づいたら、最初にすることはどれですか？"),
        choices=(
            Choice("report", _("すぐに%(contact)sへ、正直に報告する。") % {"contact": contact}),
            Choice("wait", _("しばらく様子を見て、何も起きなければ誰にも言わない。")),
            Choice("delete", _("メールを削除して、なかったことにする。")),
        ),
        correct="report",
        explanation=_("何よりも優先して、%(contact)sへ正直に報告します。報告が早いほど、被害を小さく抑えられます。")
        % {"contact": contact},
    )


def build_quiz(scenario, organization, token: str) -> list[Question]:
    """Three questions: two about this mail's cues (fewer when it has fewer) and the reporting rule."""
    cues = teaching_cues(scenario.cues)
    if len(cues) >= 2:
        questions = [cue_question(cues[0]), detail_question(cues[1])]
    elif cues:
        questions = [cue_question(cues[0]), doubt_question()]
    else:
        questions = [verify_question(), doubt_question()]
    questions.append(report_question(organization))
    return [shuffled(question, token) for question in questions]


def shuffled(question: Question, token: str) -> Question:
    def rank(choice: Choice) -> bytes:
        return hashlib.sha256(f"{token}:{question.key}:{choice.key}".encode()).digest()

    return Question(
        key=question.key,
        text=question.text,
        choices=tuple(sorted(question.choices, key=rank)),
        correct=question.correct,
        explanation=question.explanation,
    )


def field_name(question: Question) -> str:
    return f"q-{question.key}"


def read_answers(questions: list[Question], data) -> tuple[dict[str, str], list[Question]]:
    """The chosen choice keys from posted ``data``, and the questions left unanswered (or answered oddly)."""
    answers: dict[str, str] = {}
    missing = []
    for question in questions:
        key = data.get(field_name(question), "")
        if question.choice(key) is None:
            missing.append(question)
        else:
            answers[question.key] = key
    return answers, missing


def grade(questions: list[Question], answers: dict[str, str]) -> list[GradedAnswer]:
    return [
        GradedAnswer(
            question=question,
            chosen=question.choice(answers.get(question.key, "")),
            correct=answers.get(question.key) == question.correct,
        )
        for question in questions
    ]


def score(graded: list[GradedAnswer]) -> int:
    return sum(answer.correct for answer in graded)
