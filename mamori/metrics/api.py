"""The KPI figures over the API (filled by the metrics issue)."""

from ninja import Router

router = Router(tags=["指標"])
