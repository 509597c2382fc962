from django.urls import path

from mamori.core.views import audit, organization, people, roster

app_name = "core"

urlpatterns = [
    path("", organization.home, name="home"),
    path("organization/switch/", organization.switch_organization, name="switch-organization"),
    path("settings/", organization.settings_page, name="settings"),
    path("settings/domains/", organization.add_domain, name="domain-add"),
    path("settings/domains/<uuid:domain_id>/delete/", organization.remove_domain, name="domain-remove"),
    path("people/", people.people_list, name="people"),
    path("people/<uuid:person_id>/", people.person_detail, name="person-detail"),
    path("departments/", people.department_list, name="departments"),
    path("roster/", roster.import_list, name="roster-imports"),
    path("roster/upload/", roster.upload, name="roster-upload"),
    path("roster/<uuid:import_id>/", roster.import_detail, name="roster-import"),
    path("roster/<uuid:import_id>/confirm/", roster.confirm, name="roster-confirm"),
    path("audit/", audit.audit_log, name="audit-log"),
]
