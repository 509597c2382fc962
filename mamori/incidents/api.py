"""CSIRT cases over the API: list, read, open by hand, add a timeline entry.

The token acts for its organization (a ward) with its user's roles there: csirt, security_admin and auditor
read; csirt and security_admin write. Times are ISO 8601 with a zone, each with its precision
(exact / hour / day / unknown). Every change goes through ``mamori.incidents.actions``.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from mamori.core.scoping import current_organization, for_organization
from mamori.incidents import actions
from mamori.incidents.forms import truncated_to_precision
from mamori.incidents.models import Case, TimelineEntry, TimePrecision
from mamori.incidents.views.access import EDIT_ROLES, VIEW_ROLES

router = Router(tags=["インシデント"])

Precision = Literal["exact", "hour", "day", "unknown"]


class CaseOut(Schema):
    id: UUID = Field(..., alias="public_id")
    reference: str = Field(..., description="組織内の事案番号（「2026-0001」）。表示用で、URL には使いません")
    title: str
    category: Case.Category
    severity: Case.Severity
    state: Case.State
    resolution: str = Field(..., description="完了の理由（完了していなければ空）")
    tlp: str
    is_major: bool = Field(..., description="重大インシデント（個人情報1,000人以上または24時間以上の停止）")
    detected_at: datetime
    detected_precision: Precision
    occurred_at: datetime | None
    occurred_precision: Precision
    personal_records_count: int
    closed_at: datetime | None
    created_at: datetime


class TimelineEntryOut(Schema):
    id: UUID = Field(..., alias="public_id")
    at: datetime
    at_precision: Precision
    kind: TimelineEntry.Kind
    text: str
    author_organization: str | None = Field(None, alias="author_organization.name")


class CaseDetailOut(CaseOut):
    summary: str
    affected_systems: list[str]
    personal_record_kinds: list[str]
    timeline: list[TimelineEntryOut]

    @staticmethod
    def resolve_timeline(case: Case) -> list[TimelineEntry]:
        return list(case.timeline.select_related("author_organization").order_by("at", "id"))


class CaseFilter(Schema):
    state: Case.State | None = None
    category: Case.Category | None = None
    open: bool | None = Field(None, description="true: 未完了のみ、false: 完了のみ")
    major: bool | None = None
    q: str | None = Field(None, max_length=200, description="件名・事案番号・概要の部分一致")


class CaseIn(Schema):
    title: str = Field(..., max_length=200)
    category: Case.Category = Case.Category.OTHER
    severity: Case.Severity = Case.Severity.MEDIUM
    summary: str = Field("", max_length=20_000)
    detected_at: datetime | None = Field(None, description="検知日時（タイムゾーン付き）。省略すると現在時刻")
    detected_precision: Literal["exact", "hour", "day"] = "exact"
    occurred_at: datetime | None = None
    occurred_precision: Precision = "unknown"
    tlp: Case.TLP = Case.TLP.AMBER_STRICT


class TimelineEntryIn(Schema):
    text: str = Field(..., min_length=1, max_length=20_000)
    kind: TimelineEntry.Kind = TimelineEntry.Kind.OBSERVATION
    at: datetime | None = Field(None, description="日時（タイムゾーン付き）。省略すると現在時刻")
    at_precision: Literal["exact", "hour", "day"] = "exact"


def _require(request, roles) -> None:
    if not request.tenancy.has_role(*roles):
        raise HttpError(403, "この API トークンの利用者には、インシデントを扱う役割がありません。")


def _aware(value: datetime | None, label: str) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        raise HttpError(422, f"{label}にはタイムゾーンを付けてください（例: 2026-12-01T09:30:00+09:00）。")
    return value


def _case(request, case_id: UUID) -> Case:
    return get_object_or_404(for_organization(request, Case).select_related("organization"), public_id=case_id)


@router.get("/incidents", response=list[CaseOut], summary="事案の一覧")
@paginate(LimitOffsetPagination)
def list_cases(request, filters: Query[CaseFilter]):
    _require(request, VIEW_ROLES)
    cases = for_organization(request, Case).order_by("-detected_at", "-id")
    if filters.state:
        cases = cases.filter(state=filters.state)
    if filters.category:
        cases = cases.filter(category=filters.category)
    if filters.open is not None:
        cases = cases.exclude(state=Case.State.CLOSED) if filters.open else cases.filter(state=Case.State.CLOSED)
    if filters.major is not None:
        cases = cases.filter(is_major=filters.major)
    if filters.q:
        cases = cases.filter(
            Q(title__icontains=filters.q) | Q(reference__icontains=filters.q) | Q(summary__icontains=filters.q)
        )
    return cases


@router.get("/incidents/{case_id}", response=CaseDetailOut, summary="事案の詳細と時系列")
def get_case(request, case_id: UUID):
    _require(request, VIEW_ROLES)
    return _case(request, case_id)


@router.post("/incidents", response={201: CaseDetailOut}, summary="事案を登録する")
def open_case(request, payload: CaseIn):
    _require(request, EDIT_ROLES)
    occurred_at = truncated_to_precision(_aware(payload.occurred_at, "発生日時"), payload.occurred_precision)
    detected_at = _aware(payload.detected_at, "検知日時") or timezone.now()
    try:
        case = actions.open_case(
            current_organization(request),
            actor=request.user,
            title=payload.title,
            category=payload.category,
            severity=payload.severity,
            summary=payload.summary,
            detected_at=truncated_to_precision(detected_at, payload.detected_precision),
            detected_precision=payload.detected_precision,
            occurred_at=occurred_at,
            occurred_precision=payload.occurred_precision if occurred_at else TimePrecision.UNKNOWN,
            tlp=payload.tlp,
            request=request,
        )
    except actions.IncidentActionError as error:
        raise HttpError(422, error.message) from None
    return Status(201, case)


@router.post("/incidents/{case_id}/timeline", response={201: TimelineEntryOut}, summary="時系列に記録する")
def add_timeline_entry(request, case_id: UUID, payload: TimelineEntryIn):
    _require(request, EDIT_ROLES)
    case = _case(request, case_id)
    at = _aware(payload.at, "日時")
    try:
        entry = actions.add_timeline_entry(
            case,
            actor=request.user,
            organization=current_organization(request),
            text=payload.text,
            kind=payload.kind,
            at=truncated_to_precision(at, payload.at_precision) if at else None,
            at_precision=payload.at_precision,
            request=request,
        )
    except actions.IncidentActionError as error:
        raise HttpError(422, error.message) from None
    except PermissionDenied:
        raise HttpError(404, "Not Found") from None
    return Status(201, entry)
