"""Pages the recipient of a drill mail sees: the fake login page, the teachable moment and its quiz.

Recipients are staff without a login who arrive from a mail: the delivery token in the path is the only
key (as on the tracking endpoints), no page needs a cookie, and a token we do not serve gets the tracking
endpoints' neutral page. The moment page never records a drill event: the hit endpoint that led here did.
"""

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mamori.core.audit import client_address
from mamori.drills.models import Scenario
from mamori.drills.rendering import build_context, compiled, single_line
from mamori.drills.tracking.views import neutral_page, no_store
from mamori.learning import actions, content, quiz
from mamori.learning.cues import mark_cues
from mamori.learning.looks import look_for, stylesheet
from mamori.learning.models import Completion, LandingPage
from mamori.learning.recipient import live_delivery

# The fields of the fake login form. Only these names are ever recorded, and only whether they were filled.
LOGIN_FIELDS = ("username", "password")
# Where the report page will be (issue 5); its named URL is used as soon as it exists.
REPORT_URL_NAME = "reporting:report"
REPORT_PATH = "/report/"


def report_url(token: str) -> str:
    """The report page, told which delivery is being reported."""
    try:
        path = reverse(REPORT_URL_NAME)
    except NoReverseMatch:
        path = REPORT_PATH
    return f"{path}?{urlencode({'token': token})}"


def confirm_url(token: str) -> str:
    """The tracking app's confirmation beacon, which tells a browser that ran the page from a scanner."""
    return reverse("tracking:confirm", args=[token])


def filled_field_names(posted) -> list[str]:
    """Which of the login fields were filled: their names only, never what was typed."""
    return [name for name in LOGIN_FIELDS if posted.get(name, "").strip()]


def look_stylesheet_url(look: LandingPage) -> str:
    """The look's colours, or nothing when the defaults of ``landing.css`` apply."""
    if look.pk is None or not look.has_custom_colours:
        return ""
    url = reverse("learning:look", args=[look.public_id])
    return f"{url}?v={int(look.updated_at.timestamp())}"


def render_landing(request: HttpRequest, look: LandingPage, *, token: str = "", preview: bool = False):
    context = {
        "look": look,
        "look_stylesheet_url": look_stylesheet_url(look),
        "preview": preview,
        "confirm_url": confirm_url(token) if token else "",
    }
    return no_store(render(request, "learning/landing.html", context))


# CSRF-exempt: the page is opened from a mail, often in a browser that holds no cookie of this host, and
# a CSRF cookie would be one more thing stored about the recipient. The POST changes nothing but
# appending an event to the delivery named by the unguessable token in the path; whoever could forge it
# cross-site must already hold that token, and could then simply send it. No value is ever read out of
# the POST but whether the known fields are empty; ``sensitive_post_parameters()`` keeps all of them out
# of error reports should anything fail, and the answer is always a redirect, so nothing is echoed.
@csrf_exempt
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def landing(request: HttpRequest, delivery_token: str) -> HttpResponse:
    """The fake login page of a credential-form drill; a submit is recorded, then the teachable moment."""
    delivery = live_delivery(delivery_token)
    if delivery is None:
        return neutral_page(request)
    if delivery.scenario.lure_type != Scenario.LureType.CREDENTIAL_FORM:
        return no_store(redirect("learning:moment", delivery_token))
    if request.method == "POST":
        actions.record_credential_submit(
            delivery_token,
            filled_field_names(request.POST),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            client_address=client_address(request),
        )
        return no_store(redirect("learning:moment", delivery_token))
    return render_landing(request, look_for(delivery.scenario), token=delivery_token)


@require_safe
def look(request: HttpRequest, look_id) -> HttpResponse:
    """A login page's colours as CSS. Public (the page's visitors have no login), by the look's own random id;
    it answers colours only, nothing of the ward or the scenario."""
    landing_page = LandingPage.objects.filter(public_id=look_id).first()
    if landing_page is None:
        raise Http404
    response = HttpResponse(stylesheet(landing_page), content_type="text/css; charset=utf-8")
    # The URL carries ?v=<updated_at>, so an edited look is a new URL.
    response["Cache-Control"] = "public, max-age=86400"
    return response


def received_text(delivery) -> tuple[str, str] | None:
    """The subject and text body this person received, with the dates of the day it was sent.

    Only these two parts: ``render_for_delivery`` would also build the attached document (a DOCX takes up
    to 0.1 s) and the HTML part with its QR code, which the moment does not show.
    """
    sent_on = timezone.localdate(delivery.sent_at) if delivery.sent_at else None
    context = build_context(delivery.person, delivery.organization, delivery.token, today=sent_on)
    templates = compiled(delivery.scenario)
    try:
        return single_line(templates.subject.render(context)), templates.text.render(context)
    except Exception:  # an authored template failing at run time: the page goes on without the mail
        return None


def mail_for(delivery):
    """This person's mail with its cues marked; None if it cannot be rendered."""
    received = received_text(delivery)
    if received is None:
        return None
    subject, text = received
    scenario = delivery.scenario
    return mark_cues(
        sender=f"{scenario.sender_name} <{scenario.sender_address}>",
        subject=subject,
        text=text.strip("\n"),
        cues=scenario.cues,
    )


def quiz_items(questions: list[quiz.Question], posted: dict[str, str], missing: list[quiz.Question]) -> list[dict]:
    """The unanswered quiz as the template shows it: each question's choices, checked as last posted."""
    missing_keys = {question.key for question in missing}
    return [
        {
            "question": question,
            "field": quiz.field_name(question),
            "missing": question.key in missing_keys,
            "choices": [(choice, posted.get(question.key) == choice.key) for choice in question.choices],
        }
        for question in questions
    ]


def render_moment(
    request: HttpRequest,
    delivery,
    completion: Completion | None,
    *,
    posted: dict[str, str] | None = None,
    missing: list[quiz.Question] | None = None,
) -> HttpResponse:
    token = delivery.token
    organization = delivery.organization
    questions = quiz.build_quiz(delivery.scenario, organization, token)
    done = completion is not None and completion.is_complete
    context = {
        "token": token,
        "organization": organization,
        "credential_form": delivery.scenario.lure_type == Scenario.LureType.CREDENTIAL_FORM,
        "mail": mail_for(delivery),
        "rules": content.first_response_rules(organization),
        "contact": content.report_contact(organization),
        "report_points": content.REPORT_POINTS,
        "report_url": report_url(token),
        "confirm_url": confirm_url(token),
        "question_count": len(questions),
        "completion": completion,
        "graded": quiz.grade(questions, completion.answers) if done else None,
        "quiz_items": None if done else quiz_items(questions, posted or {}, missing or []),
        "missing": bool(missing),
    }
    return no_store(render(request, "learning/moment.html", context))


@require_safe
def moment(request: HttpRequest, delivery_token: str) -> HttpResponse:
    """訓練であることのお知らせ: this mail with its cues, the first-5-minutes rules, the report link, the quiz."""
    delivery = live_delivery(delivery_token)
    if delivery is None:
        return neutral_page(request)
    if request.method == "GET":
        completion = actions.reach_moment(delivery)
    else:  # HEAD (link checkers): answer without counting a visit
        completion = Completion.objects.filter(assignment__delivery=delivery).first()
    return render_moment(request, delivery, completion)


# CSRF-exempt for the same reason as the login page: no cookie is relied on, and the unguessable token in
# the path is what authorises the answer; a forged answer would need the token, which is the key itself.
@csrf_exempt
@require_POST
def quiz_answers(request: HttpRequest, delivery_token: str) -> HttpResponse:
    """Grade the quiz; the first complete answer completes the assignment. Unanswered → the page again."""
    delivery = live_delivery(delivery_token)
    if delivery is None:
        return neutral_page(request)
    questions = quiz.build_quiz(delivery.scenario, delivery.organization, delivery_token)
    answers, missing = quiz.read_answers(questions, request.POST)
    if missing:
        completion = Completion.objects.filter(assignment__delivery=delivery).first()
        return render_moment(request, delivery, completion, posted=answers, missing=missing)
    actions.answer_quiz(delivery, questions, answers)
    return no_store(redirect(reverse("learning:moment", args=[delivery_token]) + "#quiz"))
