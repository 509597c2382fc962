"""The document behind a download link (attachment scenarios in ``link`` mode), made for one recipient.

Sanitising gateways (無害化) strip attached files, so the mail carries a link instead and the document is
made when it is fetched: the scenario's attachment text, rendered for the recipient, ending with a link
that records the document being opened. Only PDF, DOCX and HTML are ever made (``attachments``).
"""

from pathlib import PurePosixPath

from mamori.drills import attachments, links
from mamori.drills.models import Delivery, Scenario
from mamori.drills.rendering import build_context, compiled


def download_format(scenario: Scenario) -> str:
    """The document kind named by the attachment's file name; a PDF when the name gives none."""
    extension = PurePosixPath(scenario.attachment_name).suffix.lower()
    return attachments.ALLOWED_EXTENSIONS.get(extension, attachments.PDF)


def download_document(delivery_id: int) -> tuple[str, bytes, str]:
    """``(filename, content, mimetype)`` of the delivery's document; one query for the recipient's data."""
    delivery = Delivery.objects.select_related("person__department", "organization", "scenario").get(pk=delivery_id)
    scenario = delivery.scenario
    document = download_format(scenario)
    link = links.document_link(delivery.token, document)
    context = {**build_context(delivery.person, delivery.organization, delivery.token), "attachment_link": link}
    filename = attachments.attachment_filename(scenario.attachment_name, document)
    return attachments.build_attachment(
        document,
        filename=filename,
        title=attachments.document_title(filename, scenario.subject),
        body=compiled(scenario).attachment.render(context),
        link=link,
    )
