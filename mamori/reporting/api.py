"""Reports from mail-client add-ins: the raw suspicious message, through the same path as the mailbox."""

from uuid import UUID

from django.conf import settings
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from mamori.core.models import Membership
from mamori.core.scoping import current_organization
from mamori.reporting import actions
from mamori.reporting.models import Report
from mamori.reporting.summary import delivery_summary

router = Router(tags=["不審メール報告"])


class ReportIn(Schema):
    reporter: str = Field(
        "", max_length=254, description="報告した職員の業務用メールアドレス（アドインが分かる場合）。"
    )


class DeliveryOut(Schema):
    campaign: UUID = Field(..., description="訓練実施回の ID")
    person: UUID = Field(..., description="受信者（職員）の ID")


class ReportOut(Schema):
    id: UUID = Field(..., alias="public_id")
    state: str
    drill: bool
    by_recipient: bool
    delivery: DeliveryOut | None = Field(None, description="照合できた訓練メールの配信")
    thanks: str
    received_at: str
    subject: str
    urls: list[str]
    domains: list[str]
    ips: list[str]
    attachments: list[dict]
    problems: list[str]


def report_out(report: Report) -> dict:
    return {
        "public_id": report.public_id,
        "state": report.state,
        "drill": report.state == Report.State.DRILL,
        "by_recipient": report.by_recipient,
        "delivery": delivery_summary(report),
        "thanks": report.thanks,
        "received_at": report.received_at.isoformat(),
        "subject": report.subject,
        "urls": report.urls,
        "domains": report.domains,
        "ips": report.ips,
        "attachments": report.attachments,
        "problems": report.problems,
    }


@router.post(
    "/reports",
    response={201: ReportOut},
    summary="不審メールを報告する",
    description="リクエスト本文に報告するメールの原文（message/rfc822、.eml の中身そのもの）を送ります。"
    "訓練メールであれば配信と照合され、そうでなければトリアージ待ちになります。名簿にある報告者にはお礼のメールを返します。",
    openapi_extra={"requestBody": {"content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}},
)
def create_report(request, params: Query[ReportIn]):
    if not request.tenancy.has_role(*Membership.INTERNAL_ROLES):
        raise HttpError(403, "この API トークンでは報告できません。")
    raw = _raw_message(request)
    report = actions.ingest_message(
        current_organization(request), raw, channel=Report.Channel.API, reporter_email=params.reporter or None
    )
    return Status(201, report_out(report))


def _raw_message(request) -> bytes:
    """The request body, up to UPLOAD_MAX_BYTES (a reported mail may carry a large attachment)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.UPLOAD_MAX_BYTES:
        raise HttpError(413, "メールが大きすぎます。")
    raw = request.read(settings.UPLOAD_MAX_BYTES + 1)
    if len(raw) > settings.UPLOAD_MAX_BYTES:
        raise HttpError(413, "メールが大きすぎます。")
    if not raw.strip():
        raise HttpError(422, "報告するメールの原文を本文に入れてください。")
    return raw
