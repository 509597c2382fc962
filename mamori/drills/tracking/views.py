"""The endpoints a drill mail's links point to: each records one Event and answers the recipient.

None of them sets a cookie or reads a session: recipients are staff without a login, and a tracking URL
must behave the same in any browser. A token we do not serve (malformed, unknown, or of a campaign that is
not sending or running) gets the same neutral page as every other such token, and nothing is stored.

What each hit endpoint records and answers is ``HIT_ROUTES``: the Django views below serve it through the
full middleware stack, and the lean WSGI path (``tracking.wsgi``), which ``mamori serve`` uses, serves the
very same ``Answer`` without it. The attachment endpoint, which may build a document, is Django's only.
"""

import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from mamori.core.audit import client_address
from mamori.drills import attachments
from mamori.drills.models import Event, Scenario
from mamori.drills.tracking.documents import download_document
from mamori.drills.tracking.hits import Hit, record_hit

# The smallest transparent GIF (1×1, 43 bytes).
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
HTML = "text/html; charset=utf-8"

# ``source`` of each hit: how the person reached the endpoint.
SOURCE_URL = "url"
SOURCE_QR = "qr"
SOURCE_DOWNLOAD = "download"
SOURCE_PIXEL = "pixel"
SOURCE_SCRIPT = "script"
# The link inside an attached or downloaded document carries ``?s=<kind>`` (``links.document_link``).
DOCUMENT_SOURCES = frozenset(attachments.MIMETYPES)
# Stands for the token in a reversed recipient page: shaped like one (the route accepts it), in no real path.
TEMPLATE_TOKEN = "0TEMPLATE0token0here00"  # noqa: S105 — not a secret
# A downloaded HTML document must not run in our origin, whatever a browser makes of it.
DOCUMENT_POLICY = "default-src 'none'; sandbox"


@dataclass(frozen=True)
class Answer:
    """What an endpoint answers, whichever path serves it. Never cached: every answer is per hit."""

    status: int
    content_type: str = HTML
    body: bytes = b""
    location: str = ""

    def headers(self) -> list[tuple[str, str]]:
        headers = [("Content-Type", self.content_type)]
        if self.location:
            headers.append(("Location", self.location))
        return [*headers, ("Cache-Control", "no-store")]

    def as_response(self) -> HttpResponse:
        response = HttpResponse(self.body, status=self.status)
        for name, value in self.headers():
            response[name] = value
        return response


def no_store(response: HttpResponse) -> HttpResponse:
    """A cache that kept a per-hit answer would hide the next hit or show it to someone else."""
    response["Cache-Control"] = "no-store"
    return response


@functools.cache
def neutral_page_body() -> bytes:
    """The page for every token we do not serve: one page, in the site's language, whatever the browser."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("drills/tracking/neutral.html").encode()


def neutral(hit: Hit | None = None) -> Answer:
    return Answer(200, body=neutral_page_body())


def neutral_page(request: HttpRequest) -> HttpResponse:
    return neutral().as_response()


def landing_or_moment(hit: Hit | None) -> Answer:
    """A credential-form drill continues to its fake login page; every other drill to the teachable moment."""
    if hit is None:
        return neutral()
    name = "learning:landing" if hit.lure_type == Scenario.LureType.CREDENTIAL_FORM else "learning:moment"
    return Answer(302, location=recipient_page(name, hit.token))


def pixel(hit: Hit | None) -> Answer:
    return Answer(200, content_type="image/gif", body=PIXEL_GIF)


def no_content(hit: Hit | None) -> Answer:
    return Answer(204)


def recipient_page(name: str, token: str) -> str:
    """``reverse(name, args=[token])``, reversed once per process: reversing cost a sixth of every hit.

    A token is URL-safe as it is, so the path is the reversed template with the token in its place.
    """
    before, after = recipient_page_template(name, get_script_prefix())
    return f"{before}{token}{after}"


@functools.lru_cache(maxsize=16)
def recipient_page_template(name: str, script_prefix: str) -> tuple[str, str]:
    before, _marker, after = reverse(name, args=[TEMPLATE_TOKEN]).partition(TEMPLATE_TOKEN)
    return before, after


@dataclass(frozen=True)
class Route:
    """One hit endpoint: what it records and how it answers (also for a token we do not serve)."""

    kind: str
    source: str
    answer: Callable[[Hit | None], Answer]
    methods: frozenset[str] = frozenset({"GET", "HEAD"})


HIT_ROUTES = {
    "c": Route(Event.Kind.CLICK, SOURCE_URL, landing_or_moment),
    "q": Route(Event.Kind.QR_SCAN, SOURCE_QR, landing_or_moment),
    # The 1×1 image of HTML mails. Opens are unreliable: sanitised or image-blocking mail shows none.
    "o": Route(Event.Kind.OPEN, SOURCE_PIXEL, pixel),
    # The hidden link no person sees: whatever fetched it is a machine. It gets the neutral page.
    "x": Route(Event.Kind.TRAP, SOURCE_URL, neutral),
    # The beacon of ``static/drills/confirm.js`` on the landing and moment pages: a browser ran the page.
    "cf": Route(Event.Kind.CONFIRM, SOURCE_SCRIPT, no_content, frozenset({"GET", "POST"})),
}


def answer_hit(route: Route, token: str, *, user_agent: str, address: str) -> Answer:
    hit = record_hit(token, route.kind, source=route.source, user_agent=user_agent, client_address=address)
    return route.answer(hit)


def hit_view(name: str):
    route = HIT_ROUTES[name]

    @require_http_methods(sorted(route.methods))
    def view(request: HttpRequest, delivery_token: str) -> HttpResponse:
        user_agent = request.META.get("HTTP_USER_AGENT", "")
        return answer_hit(route, delivery_token, user_agent=user_agent, address=client_address(request)).as_response()

    view.__name__ = view.__qualname__ = f"hit_{name}"
    return view


click = hit_view("c")
qr_scan = hit_view("q")
open_pixel = hit_view("o")
trap = hit_view("x")
# CSRF-exempt: it changes nothing but appending an event, carries no cookie and answers nothing.
confirm = csrf_exempt(hit_view("cf"))


@require_safe
def attachment(request: HttpRequest, delivery_token: str) -> HttpResponse:
    """The download link serves the recipient's document; the link inside a document leads to the moment.

    ``?s=pdf|docx|html`` marks a hit from the link inside a document: the person opened it and followed it.
    Without it the hit is a download, answered with the document when the scenario offers one by link.
    """
    document = request.GET.get("s", "")
    source = document if document in DOCUMENT_SOURCES else SOURCE_DOWNLOAD
    hit = record_hit(
        delivery_token,
        Event.Kind.ATTACHMENT,
        source=source,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        client_address=client_address(request),
    )
    if hit is None:
        return neutral_page(request)
    if source == SOURCE_DOWNLOAD and hit.attachment_mode == Scenario.AttachmentMode.LINK:
        return document_response(*download_document(hit.delivery_id))
    return Answer(302, location=recipient_page("learning:moment", hit.token)).as_response()


def document_response(filename: str, content: bytes, mimetype: str) -> HttpResponse:
    """A download, never displayed in our origin; only PDF, DOCX or static HTML are ever made."""
    content_type = f"{mimetype}; charset=utf-8" if mimetype.startswith("text/") else mimetype
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Security-Policy"] = DOCUMENT_POLICY
    return no_store(response)
