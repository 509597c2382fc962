"""One entry point for everything short of writing: read, validate, compare with the organization."""

from dataclasses import dataclass, field

from mamori.core.models import Organization
from mamori.core.roster.columns import COLUMNS
from mamori.core.roster.parsing import RosterFileError, read_roster_file
from mamori.core.roster.sync import ExistingRoster, SyncPlan, plan_sync
from mamori.core.roster.validation import validate_roster


@dataclass
class RosterCheck:
    """The outcome of checking a file: errors, or the plan that applying it would carry out."""

    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    total_rows: int = 0
    summary: dict = field(default_factory=dict)
    plan: SyncPlan | None = None
    existing: ExistingRoster | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None and self.error_count == 0


def check_roster(organization: Organization, content: bytes) -> RosterCheck:
    try:
        table = read_roster_file(content)
    except RosterFileError as exc:
        return RosterCheck(errors=[{"row": None, "column": "", "message": str(exc)}], error_count=1)
    existing = ExistingRoster.load(organization)
    roster = validate_roster(
        table, verified_domains=organization.verified_domain_names(), email_owners=existing.email_owners()
    )
    summary = {
        "format": table.format_label,
        "rows": len(table.rows),
        "columns": [column.label for column in COLUMNS if column.field in roster.fields],
        "ignored_columns": roster.ignored_headers,
    }
    if roster.errors:
        return RosterCheck(
            errors=roster.errors.items,
            error_count=roster.errors.count,
            total_rows=len(table.rows),
            summary=summary,
        )
    plan = plan_sync(roster, existing)
    summary.update(counts=plan.counts(), samples=plan.samples())
    return RosterCheck(total_rows=len(table.rows), summary=summary, plan=plan, existing=existing)
