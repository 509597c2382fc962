"""Every change to a case: views, the API, commands and tests call these.

Each action takes the acting ``organization`` (the caller's current organization) and checks it against the
case: the ward that owns the case may do everything; a joint body (共同CSIRT) with an active escalation grant
may add timeline entries and tasks (and custody entries when evidence is shared), nothing else. Anyone else
gets ``PermissionDenied``. A refused change (bad state, missing resolution, oversize file…) raises
``IncidentActionError`` with a Japanese message for the page. Everything is audited with ``core.audit.record``.
"""

from mamori.incidents.actions.access import (
    JOINT,
    JOINT_ROLES,
    WARD,
    acting_side,
    active_grant,
    joint_cases,
    joint_organizations,
    require_ward,
)
from mamori.incidents.actions.cases import (
    EDITABLE_FIELDS,
    EDITABLE_RELATIONS,
    allowed_transitions,
    flag_long_outages,
    open_case,
    open_case_from_cluster,
    open_case_from_incident_report,
    open_case_from_report,
    transition,
    update_case,
)
from mamori.incidents.actions.common import EvidenceIntegrityError, IncidentActionError
from mamori.incidents.actions.escalation import delete_duty_contact, escalate, revoke_escalation, save_duty_contact
from mamori.incidents.actions.evidence import (
    add_custody,
    evidence_directory,
    evidence_path,
    evidence_visible,
    register_evidence,
    verified_evidence_file,
)
from mamori.incidents.actions.work import add_task, add_timeline_entry, complete_task, reopen_task

__all__ = [
    "EDITABLE_FIELDS",
    "EDITABLE_RELATIONS",
    "JOINT",
    "JOINT_ROLES",
    "WARD",
    "EvidenceIntegrityError",
    "IncidentActionError",
    "acting_side",
    "active_grant",
    "add_custody",
    "add_task",
    "add_timeline_entry",
    "allowed_transitions",
    "complete_task",
    "delete_duty_contact",
    "escalate",
    "evidence_directory",
    "evidence_path",
    "evidence_visible",
    "flag_long_outages",
    "joint_cases",
    "joint_organizations",
    "open_case",
    "open_case_from_cluster",
    "open_case_from_incident_report",
    "open_case_from_report",
    "register_evidence",
    "reopen_task",
    "require_ward",
    "revoke_escalation",
    "save_duty_contact",
    "transition",
    "update_case",
    "verified_evidence_file",
]
