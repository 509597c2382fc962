"""Personal report links: a Person's public id (and a response-drill participant's) signed with
``django.core.signing``, so staff without an account are known on the report page without typing anything.

The link is a capability like a drill mail's token: whoever holds it reports as that person. It carries no
name or address, expires after PERSONAL_LINK_MAX_AGE, and is worthless once the person leaves the roster.
"""

import uuid
from dataclasses import dataclass

from django.core import signing

from mamori.core.models import Person

PERSONAL_LINK_SALT = "mamori.reporting.personal-link"
# A personal link outlives a fiscal year's drills, then must be issued again.
PERSONAL_LINK_MAX_AGE = 400 * 24 * 3600


@dataclass(frozen=True)
class PersonalLink:
    person_id: uuid.UUID
    participant_id: uuid.UUID | None


def personal_link_token(person: Person, *, participant_id: uuid.UUID | None = None) -> str:
    """A signed, URL-safe token naming ``person`` (and a response-drill participant, when given)."""
    payload = {"p": str(person.public_id)}
    if participant_id:
        payload["d"] = str(participant_id)
    return signing.dumps(payload, salt=PERSONAL_LINK_SALT, compress=True)


def read_personal_link(token: str) -> PersonalLink | None:
    """What a genuine, unexpired link names; None for anything else."""
    try:
        payload = signing.loads(token, salt=PERSONAL_LINK_SALT, max_age=PERSONAL_LINK_MAX_AGE)
        participant = payload.get("d")
        return PersonalLink(uuid.UUID(payload["p"]), uuid.UUID(participant) if participant else None)
    except (signing.BadSignature, KeyError, ValueError, TypeError, AttributeError):
        return None
