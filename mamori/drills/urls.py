from django.urls import include, path

app_name = "drills"

urlpatterns = [
    path("scenarios/", include("mamori.drills.urls_scenarios")),
    path("", include("mamori.drills.urls_campaigns")),
]
