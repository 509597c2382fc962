"""The lean WSGI path: drill-link hits answered before Django's middleware stack, everything else to Django.

A drill link is hit by every recipient and every scanner within minutes of a send, and through the full
stack most of a hit's cost was middleware these endpoints do not use: they set no cookie and read no
session, user, CSRF token, message or language. So ``TrackingDispatcher`` answers the hit endpoints of
``views.HIT_ROUTES`` itself, with the same ``Answer`` the Django views give, and keeps what the stack
would have done for them:

- the checks: a request Django would refuse or redirect — a host outside ``ALLOWED_HOSTS``, plain HTTP
  under ``SECURE_SSL_REDIRECT``, a method the endpoint does not take — is handed to Django unchanged, which
  answers it exactly as it always does (400, the HTTPS redirect, 405), before anything is recorded;
- the security headers (HSTS on HTTPS, nosniff, referrer policy, COOP, CSP, X-Frame-Options): found once
  at start-up by running Django's own middleware over an empty response, for HTTP and for HTTPS;
- errors: answered by Django's exception handling (logged, the 500 page);
- the end-of-request connection check, the one receiver of Django's request signals that matters here
  (the other resets the query log, which is bounded): see below.

Connections: with ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` before the first query of every request,
one more round trip per hit. Here the end-of-request check still closes a connection that failed or
outlived ``CONN_MAX_AGE``, and a connection the database dropped in between is caught by
``hits.find_delivery``, which retries its read-only lookup once on a new connection.
Measurements and the choice: docs/decisions/0003-tracking-hot-path.md.
"""

import io
import re
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.db import connections
from django.http import HttpResponse
from django.urls import set_script_prefix
from django.utils.module_loading import import_string

from mamori.core.audit import client_address
from mamori.drills.tracking.views import HIT_ROUTES, Answer, answer_hit

# The hit endpoints of ``tracking.urls``; the attachment endpoint is served by Django.
LEAN_PATH = re.compile(r"/(?P<route>c|q|x|cf)/(?P<token>[^/]+)|/(?P<pixel>o)/(?P<image>[^/]+)\.gif")
# The middleware whose headers every answer carries (those of them that ``settings.MIDDLEWARE`` lists).
HEADER_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


class TrackingDispatcher:
    """WSGI application: hits on drill links served here, every other request by ``application``."""

    def __init__(self, application):
        self.application = application
        self.security_headers = {secure: middleware_headers(secure) for secure in (False, True)}

    def __call__(self, environ, start_response):
        match = LEAN_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return self.application(environ, start_response)
        route = HIT_ROUTES[match["route"] or match["pixel"]]
        request = WSGIRequest(environ)
        if request.method not in route.methods or not plain_request(request):
            return self.application(environ, start_response)
        set_script_prefix(get_script_name(environ))
        try:
            answer = answer_hit(
                route,
                match["token"] or match["image"],
                user_agent=environ.get("HTTP_USER_AGENT", ""),
                address=client_address(request),
            )
        except Exception as error:  # answered as Django answers any view's error: logged, the 500 page
            response = response_for_exception(request, error)
            answer = Answer(response.status_code, response["Content-Type"], response.content)
        finally:
            release_connections()
        headers = [*answer.headers(), *self.security_headers[request.is_secure()]]
        headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [answer.body]


def plain_request(request: WSGIRequest) -> bool:
    """True unless Django would refuse the request (host) or redirect it (to HTTPS) before any view."""
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return request.is_secure() or not settings.SECURE_SSL_REDIRECT


def middleware_headers(secure: bool) -> list[tuple[str, str]]:
    """The headers Django's own middleware adds to an answer, found by running it over an empty response."""
    scheme = "https" if secure else "http"
    request = WSGIRequest({"REQUEST_METHOD": "GET", "wsgi.url_scheme": scheme, "wsgi.input": io.BytesIO()})
    response = HttpResponse()
    del response["Content-Type"]
    for path in HEADER_MIDDLEWARE:
        if path in settings.MIDDLEWARE:
            response = import_string(path)(HttpResponse).process_response(request, response)
    return list(response.items())


def release_connections() -> None:
    """Django's end-of-request connection check, without scheduling a ``SELECT 1`` for the next request.

    A connection inside a transaction belongs to whoever opened it (a test case): it is left alone.
    """
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        connection.close_if_unusable_or_obsolete()
        connection.health_check_done = True
