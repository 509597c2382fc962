from mamori.reporting.models.forms import (
    IncidentReport,
    NearMiss,
    ResponseDrill,
    ResponseDrillParticipant,
)
from mamori.reporting.models.mailboxes import ReportMailbox
from mamori.reporting.models.reports import OriginalMessage, Report, ReportCluster

__all__ = [
    "IncidentReport",
    "NearMiss",
    "OriginalMessage",
    "Report",
    "ReportCluster",
    "ReportMailbox",
    "ResponseDrill",
    "ResponseDrillParticipant",
]
