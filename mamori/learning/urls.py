"""Routes of the learning app, under /l/: the recipient's pages by delivery token, and the admin pages.

The admin routes come first: ``manage`` and ``look`` can never be a delivery token (those are 22
characters), so the token routes never shadow them.
"""

from django.urls import path

from mamori.learning.views import manage, recipient

app_name = "learning"

urlpatterns = [
    path("manage/", manage.completions, name="completions"),
    path("manage/first-response/", manage.first_response, name="first-response"),
    path("manage/scenarios/<uuid:scenario_id>/landing/", manage.landing_edit, name="landing-edit"),
    path("manage/scenarios/<uuid:scenario_id>/landing/preview/", manage.landing_preview, name="landing-preview"),
    path("look/<uuid:look_id>.css", recipient.look, name="look"),
    path("<str:delivery_token>/", recipient.moment, name="moment"),
    path("<str:delivery_token>/login/", recipient.landing, name="landing"),
    path("<str:delivery_token>/quiz/", recipient.quiz_answers, name="quiz"),
]
