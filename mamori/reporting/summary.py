"""What the API and the ``ingest-eml`` command say about an ingested report (plain JSON-able data)."""

from mamori.reporting.models import Report


def delivery_summary(report: Report) -> dict | None:
    """The matched drill delivery, by its public identifiers: the campaign (訓練実施回) and the recipient."""
    if report.delivery is None:
        return None
    return {"campaign": str(report.delivery.campaign.public_id), "person": str(report.delivery.person.public_id)}


def indicators(report: Report) -> dict:
    return {
        "urls": report.urls,
        "domains": report.domains,
        "ips": report.ips,
        "addresses": report.addresses,
        "attachments": report.attachments,
    }
