from django.urls import path

from mamori.reporting.views import mailbox, response_drills, staff, triage

app_name = "reporting"

urlpatterns = [
    path("reporting/", triage.cluster_list, name="triage"),
    path("reporting/attention/", triage.attention_list, name="attention"),
    path("reporting/clusters/<uuid:cluster_id>/", triage.cluster_detail, name="cluster"),
    path("reporting/clusters/<uuid:cluster_id>/verdict/", triage.cluster_verdict, name="cluster-verdict"),
    path("reporting/reports/<uuid:report_id>/", triage.report_detail, name="report-detail"),
    path("reporting/reports/<uuid:report_id>/original.eml", triage.report_original, name="report-original"),
    # The staff report pages (no account; mamori.reporting.staff_reports says how the organization is known).
    # A personal link sits under "p/": one letter is never an organization code (those are 2–40 characters).
    path("report/", staff.report, name="report"),
    path("report/p/<str:personal_token>/", staff.report_personal, name="report-personal"),
    path("report/p/<str:personal_token>/near-miss/", staff.near_miss_personal, name="near-miss-personal"),
    path("report/<str:organization_code>/", staff.report_for_organization, name="report-organization"),
    path("report/<str:organization_code>/near-miss/", staff.near_miss, name="near-miss"),
    path("report/<str:organization_code>/thanks/<str:kind>/", staff.thanks, name="report-thanks"),
    path("reporting/near-misses/", response_drills.near_miss_summary, name="near-miss-summary"),
    path("reporting/response-drills/", response_drills.drill_list, name="response-drills"),
    path("reporting/response-drills/<uuid:drill_id>/", response_drills.drill_detail, name="response-drill"),
    path("reporting/response-drills/<uuid:drill_id>/close/", response_drills.close, name="response-drill-close"),
    path(
        "reporting/response-drills/<uuid:drill_id>/participants/<uuid:participant_id>/acknowledge/",
        response_drills.acknowledge,
        name="response-drill-acknowledge",
    ),
    path("reporting/mailbox/", mailbox.mailbox_settings, name="mailbox"),
]
