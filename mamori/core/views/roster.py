from django.http import HttpResponse

from mamori.core.models import Membership
from mamori.core.scoping import require_role


@require_role(Membership.Role.SECURITY_ADMIN)
def import_list(request):
    return HttpResponse(status=501)


upload = import_detail = confirm = import_list
