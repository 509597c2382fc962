from django.http import HttpResponse

from mamori.core.models import Membership
from mamori.core.scoping import require_role


@require_role(Membership.Role.SECURITY_ADMIN)
def audit_log(request):
    return HttpResponse(status=501)
