"""The URLs a drill mail carries. The tracking views answering them are in ``mamori.drills.tracking``.

All are built on DRILL_BASE_URL (the drill's look-alike host in production; SITE_URL by default), with the
delivery token in the path: short enough to type from a sanitised plain-text mail (無害化), unguessable.
"""

from django.conf import settings


def drill_base_url() -> str:
    return settings.DRILL_BASE_URL


def click_url(token: str) -> str:
    return f"{drill_base_url()}/c/{token}"


def qr_url(token: str) -> str:
    return f"{drill_base_url()}/q/{token}"


def attachment_url(token: str) -> str:
    return f"{drill_base_url()}/a/{token}"


def document_link(token: str, document: str) -> str:
    """The link inside an attached or downloaded document (``document``: pdf, docx or html).

    It is the attachment URL with the document's kind, so that following it is recorded as that document
    having been opened.
    """
    return f"{attachment_url(token)}?s={document}"


def open_pixel_url(token: str) -> str:
    return f"{drill_base_url()}/o/{token}.gif"


def trap_url(token: str) -> str:
    """A link no person sees (hidden in the HTML part); a hit on it is an automated scanner."""
    return f"{drill_base_url()}/x/{token}"
