"""The measures page: MTTD, MTTA, MTTC and MTTR per ward, per category and per quarter, and the KGI.

A ward sees its own cases; a joint body sees the cases granted to it, grouped by ward. The figures come from
the transitions only (``mamori.incidents.measures``), in a fixed number of queries.
"""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from mamori.core.scoping import current_organization, require_role
from mamori.drills.fiscal import current_fiscal_year, fiscal_year_bounds, fiscal_year_label
from mamori.incidents import major, measures
from mamori.incidents.views.access import JOINT_ROLES, VIEW_ROLES, is_joint_body, joint_cases, ward_cases

EARLIEST_FISCAL_YEAR = 2000


def _selected_year(request) -> int | None:
    """The fiscal year asked for; None for "all years"; the current one by default or when implausible."""
    value = request.GET.get("year", "")
    if value == "all":
        return None
    current = current_fiscal_year()
    try:
        year = int(value)
    except ValueError:
        return current
    return year if EARLIEST_FISCAL_YEAR <= year <= current else current


@require_GET
@require_role(*VIEW_ROLES, *JOINT_ROLES)
def measures_page(request):
    organization = current_organization(request)
    joint = is_joint_body(organization)
    cases = joint_cases(request) if joint else ward_cases(request)
    year = _selected_year(request)
    if year is not None:
        cases = measures.cases_detected_between(cases, *fiscal_year_bounds(year))
    report = measures.measure(cases)
    current = current_fiscal_year()
    return render(
        request,
        "incidents/measures.html",
        {
            "report": report,
            "year": year,
            "years": [(y, fiscal_year_label(y)) for y in range(current, current - 5, -1)],
            "joint": joint,
            "mttd_precisions": measures.MTTD_PRECISIONS,
            "major_rule": major.rule(),
        },
    )
