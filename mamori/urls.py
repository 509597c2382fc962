from django.urls import include, path
from django.views.i18n import set_language

from mamori.api import api

urlpatterns = [
    path("", include("mamori.core.urls")),
    path("", include("mamori.drills.tracking.urls")),
    path("accounts/", include("mamori.accounts.urls")),
    path("drills/", include("mamori.drills.urls")),
    path("", include("mamori.reporting.urls")),
    path("l/", include("mamori.learning.urls")),
    path("metrics/", include("mamori.metrics.urls")),
    path("incidents/", include("mamori.incidents.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
]
