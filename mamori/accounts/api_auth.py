"""Bearer authentication with per-user, per-organization API tokens."""

import hmac
from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer

from mamori.accounts.models import APIToken, hash_code
from mamori.core.models import Membership
from mamori.core.scoping import Tenancy

# last_used_at is written at most this often, so a busy client does not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def parse_token(raw: str) -> tuple[str, str] | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "mmr" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class APITokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        parsed = parse_token(token)
        if parsed is None:
            return None
        prefix, secret = parsed
        api_token = (
            APIToken.objects.select_related("user", "organization")
            .filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if api_token is None or not hmac.compare_digest(api_token.secret_hash, hash_code(secret)):
            return None
        # The token acts with the roles its user holds *now* in the token's organization.
        memberships = list(
            Membership.objects.filter(user=api_token.user, organization=api_token.organization).select_related(
                "organization", "department"
            )
        )
        if not memberships:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            APIToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        request.tenancy = Tenancy(
            organization=api_token.organization,
            roles=frozenset(m.role for m in memberships),
            memberships=memberships,
        )
        return api_token
