"""Finding the delivery behind a recipient's page (landing, teachable moment, quiz) from its token.

The token in the URL is the only key: whoever holds the link sees the page, as with the tracking
endpoints. A token of the wrong shape, an unknown one and one of a campaign that is not sending or running
all find nothing, and the pages answer each of them with the same neutral page.
"""

from mamori.drills.models import Delivery
from mamori.drills.tracking.hits import RECORDING_STATES, is_well_formed


def live_delivery(token: str) -> Delivery | None:
    """The delivery of ``token`` while its campaign's mail is out, with what its pages show; else None."""
    if not is_well_formed(token):
        return None
    return (
        Delivery.objects.select_related("organization", "scenario", "person__department", "campaign")
        .filter(token=token, campaign__state__in=RECORDING_STATES)
        .first()
    )
