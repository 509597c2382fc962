from django.urls import path

from mamori.drills.views import scenarios

urlpatterns = [
    path("", scenarios.scenario_list, name="scenarios"),
    path("new/", scenarios.scenario_create, name="scenario-create"),
    path("<uuid:scenario_id>/", scenarios.scenario_detail, name="scenario-detail"),
    path("<uuid:scenario_id>/edit/", scenarios.scenario_edit, name="scenario-edit"),
    path("<uuid:scenario_id>/copy/", scenarios.scenario_copy, name="scenario-copy"),
    path("<uuid:scenario_id>/archive/", scenarios.scenario_archive, name="scenario-archive"),
    path("<uuid:scenario_id>/restore/", scenarios.scenario_restore, name="scenario-restore"),
    path("<uuid:scenario_id>/preview/", scenarios.scenario_preview, name="scenario-preview"),
]
