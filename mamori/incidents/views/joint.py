"""The joint CSIRT's pages (共同CSIRT): the cases wards have granted to it, and one such case.

Only csirt and joint_admin members of a joint body reach them, and only cases with an active grant: the ward
is named on every case, because the grant says who asked. Other wards' cases never appear.
"""

from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.shortcuts import render
from django.views.decorators.http import require_GET

from mamori.core.scoping import current_organization, require_role
from mamori.incidents.models import Escalation
from mamori.incidents.views import panels
from mamori.incidents.views.access import JOINT, JOINT_ROLES, case_for, is_joint_body, joint_cases

PAGE_SIZE = 50


@require_GET
@require_role(*JOINT_ROLES)
def joint_list(request):
    organization = current_organization(request)
    grants = Escalation.objects.filter(
        case=OuterRef("pk"), joint_organization=organization, revoked_at__isnull=True
    ).order_by("-granted_at")
    cases = (
        joint_cases(request)
        .select_related("organization")
        .annotate(
            granted_at=Subquery(grants.values("granted_at")[:1]), request_note=Subquery(grants.values("note")[:1])
        )
        .order_by("-granted_at", "-id")
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "incidents/joint_list.html", {"page": page, "is_joint_body": is_joint_body(organization)})


@require_GET
@require_role(*JOINT_ROLES)
def joint_detail(request, case_id):
    return panels.render_case_page(request, case_for(request, case_id, JOINT), JOINT)
