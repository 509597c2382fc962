from django.urls import path

from mamori.incidents.views import cases, contacts, escalation, joint, measures, work
from mamori.incidents.views.access import JOINT, WARD

app_name = "incidents"

ward = {"side": WARD}
joint_side = {"side": JOINT}

urlpatterns = [
    path("", cases.case_list, name="case-list"),
    path("new/", cases.case_new, name="case-new"),
    path("measures/", measures.measures_page, name="measures"),
    path("contacts/", contacts.contact_list, name="contacts"),
    path("contacts/<uuid:contact_id>/", contacts.contact_edit, name="contact-edit"),
    path("contacts/<uuid:contact_id>/delete/", contacts.contact_delete, name="contact-delete"),
    # The joint CSIRT's side: cases granted to the current (joint) organization.
    path("joint/", joint.joint_list, name="joint-list"),
    path("joint/<uuid:case_id>/", joint.joint_detail, name="joint-detail"),
    path("joint/<uuid:case_id>/timeline/", work.timeline_add, joint_side, name="joint-timeline-add"),
    path("joint/<uuid:case_id>/tasks/", work.task_add, joint_side, name="joint-task-add"),
    path("joint/<uuid:case_id>/tasks/<uuid:task_id>/done/", work.task_done, joint_side, name="joint-task-done"),
    path(
        "joint/<uuid:case_id>/evidence/<uuid:evidence_id>/download/",
        work.evidence_download,
        joint_side,
        name="joint-evidence-download",
    ),
    path(
        "joint/<uuid:case_id>/evidence/<uuid:evidence_id>/custody/",
        work.custody_add,
        joint_side,
        name="joint-custody-add",
    ),
    # The ward's own cases.
    path("<uuid:case_id>/", cases.case_detail, name="case-detail"),
    path("<uuid:case_id>/edit/", cases.case_edit, name="case-edit"),
    path("<uuid:case_id>/transition/", cases.case_transition, name="case-transition"),
    path("<uuid:case_id>/timeline/", work.timeline_add, ward, name="timeline-add"),
    path("<uuid:case_id>/tasks/", work.task_add, ward, name="task-add"),
    path("<uuid:case_id>/tasks/<uuid:task_id>/done/", work.task_done, ward, name="task-done"),
    path("<uuid:case_id>/tasks/<uuid:task_id>/reopen/", work.task_reopen, name="task-reopen"),
    path("<uuid:case_id>/evidence/", work.evidence_add, name="evidence-add"),
    path(
        "<uuid:case_id>/evidence/<uuid:evidence_id>/download/",
        work.evidence_download,
        ward,
        name="evidence-download",
    ),
    path("<uuid:case_id>/evidence/<uuid:evidence_id>/custody/", work.custody_add, ward, name="custody-add"),
    path("<uuid:case_id>/escalations/", escalation.escalate, name="escalate"),
    path("<uuid:case_id>/escalations/<uuid:grant_id>/revoke/", escalation.revoke, name="escalation-revoke"),
]
