from django.utils.functional import SimpleLazyObject

from mamori.core.scoping import resolve_organization


class OrganizationMiddleware:
    """Attach the user's current organization and roles (``request.organization``, ``request.roles``).

    The current organization is the one chosen with the organization switcher (kept in the session),
    provided the user still holds a membership there; otherwise the first one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = SimpleLazyObject(lambda: resolve_organization(request))
        request.tenancy = context
        return self.get_response(request)
