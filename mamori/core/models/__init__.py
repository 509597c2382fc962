from mamori.core.models.audit import AuditEntry
from mamori.core.models.organizations import Membership, Organization, VerifiedDomain
from mamori.core.models.people import Department, Person
from mamori.core.models.roster import RosterImport

__all__ = [
    "AuditEntry",
    "Department",
    "Membership",
    "Organization",
    "Person",
    "RosterImport",
    "VerifiedDomain",
]
