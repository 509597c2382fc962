from mamori.drills.models.campaigns import Campaign, Delivery
from mamori.drills.models.events import Event
from mamori.drills.models.scenarios import Scenario
from mamori.drills.models.sending import SendingProfile

__all__ = ["Campaign", "Delivery", "Event", "Scenario", "SendingProfile"]
