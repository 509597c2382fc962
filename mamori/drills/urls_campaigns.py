from django.urls import path

from mamori.drills.views import campaigns, profiles, results

urlpatterns = [
    path("", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign-create"),
    path("campaigns/people-search/", campaigns.people_search, name="campaign-people-search"),
    path("campaigns/<uuid:campaign_id>/", campaigns.campaign_detail, name="campaign-detail"),
    path("campaigns/<uuid:campaign_id>/edit/", campaigns.campaign_edit, name="campaign-edit"),
    path("campaigns/<uuid:campaign_id>/progress/", campaigns.campaign_progress, name="campaign-progress"),
    path("campaigns/<uuid:campaign_id>/launch/", campaigns.campaign_launch, name="campaign-launch"),
    path("campaigns/<uuid:campaign_id>/pause/", campaigns.campaign_pause, name="campaign-pause"),
    path("campaigns/<uuid:campaign_id>/resume/", campaigns.campaign_resume, name="campaign-resume"),
    path("campaigns/<uuid:campaign_id>/cancel/", campaigns.campaign_cancel, name="campaign-cancel"),
    path("campaigns/<uuid:campaign_id>/close/", campaigns.campaign_close, name="campaign-close"),
    path("plan/", campaigns.plan, name="plan"),
    path("profiles/", profiles.profile_list, name="profiles"),
    path("profiles/new/", profiles.profile_new, name="profile-new"),
    path("profiles/<uuid:profile_id>/", profiles.profile_edit, name="profile-edit"),
    path("profiles/<uuid:profile_id>/test/", profiles.profile_test, name="profile-test"),
    path("results/", results.results_index, name="results"),
    path("campaigns/<uuid:campaign_id>/results/", results.campaign_results, name="campaign-results"),
    path(
        "campaigns/<uuid:campaign_id>/results/people/", results.campaign_results_people, name="campaign-results-people"
    ),
]
