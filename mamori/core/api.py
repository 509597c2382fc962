"""People and departments of the token's organization."""

from datetime import datetime
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from mamori.core import actions
from mamori.core.models import Department, Membership, RosterImport
from mamori.core.roster.parsing import RosterFileError, ensure_size_allowed
from mamori.core.roster.progress import read_progress
from mamori.core.scoping import current_organization, for_organization, people_visible_to
from mamori.core.search import people_matching

router = Router(tags=["組織と職員"])


class DepartmentOut(Schema):
    id: UUID = Field(..., alias="public_id")
    name: str
    path: str
    depth: int
    parent_id: UUID | None = Field(None, alias="parent.public_id")
    active: bool


class PersonOut(Schema):
    id: UUID = Field(..., alias="public_id")
    employee_number: str
    name: str
    name_kana: str
    email: str
    department: str | None = Field(None, alias="department.path")
    position: str
    employment_type: str
    manager_employee_number: str | None = Field(None, alias="manager.employee_number")
    active: bool


class PeopleFilter(Schema):
    active: bool | None = None
    department: UUID | None = Field(None, description="この所属とその配下の職員")
    q: str | None = Field(None, description="氏名・かな・メール・職員番号の部分一致")


@router.get("/departments", response=list[DepartmentOut], summary="所属の一覧")
@paginate(LimitOffsetPagination)
def list_departments(request):
    return for_organization(request, Department).select_related("parent")


@router.get("/people", response=list[PersonOut], summary="職員の一覧")
@paginate(LimitOffsetPagination)
def list_people(request, filters: Query[PeopleFilter]):
    people = people_visible_to(request).select_related("department", "manager").order_by("employee_number")
    if filters.active is not None:
        people = people.filter(active=filters.active)
    if filters.department:
        department = get_object_or_404(for_organization(request, Department), public_id=filters.department)
        people = people.filter(department.subtree_filter())
    if filters.q:
        people = people_matching(people, filters.q)
    return people


@router.get("/people/{person_id}", response=PersonOut, summary="職員の詳細")
def get_person(request, person_id: UUID):
    return get_object_or_404(people_visible_to(request).select_related("department", "manager"), public_id=person_id)


# 名簿取込: the same actions as the pages. Upload validates at once; confirm queues it for the worker.


class RosterErrorOut(Schema):
    row: int | None = Field(None, description="表計算ソフトでの行番号（見出し行が 1）。ファイル全体のエラーは null")
    column: str
    message: str


class RosterProgressOut(Schema):
    done: int
    total: int
    percent: int
    step: str


class RosterImportOut(Schema):
    id: UUID = Field(..., alias="public_id")
    filename: str
    state: RosterImport.State
    created_at: datetime
    confirmed_at: datetime | None
    finished_at: datetime | None
    total_rows: int
    error_count: int
    summary: dict = Field(..., description="形式・列・件数（counts）・変更の例（samples）。取込後は result も")
    errors: list[RosterErrorOut] = Field(..., description="最初の 1,000 件")
    progress: RosterProgressOut | None = Field(None, description="取込中（running）のみ")

    @staticmethod
    def resolve_progress(roster_import: RosterImport) -> dict | None:
        return read_progress(roster_import)


def _require_roster_admin(request) -> None:
    if not request.tenancy.has_role(Membership.Role.SECURITY_ADMIN):
        raise HttpError(403, "名簿取込はセキュリティ管理者だけが行えます。")


def _roster_import(request, import_id: UUID) -> RosterImport:
    return get_object_or_404(for_organization(request, RosterImport).defer("content"), public_id=import_id)


@router.post(
    "/roster-imports",
    response={201: RosterImportOut},
    summary="名簿ファイルをアップロードして検証する",
    description="CSV（UTF-8・Shift_JIS）または XLSX。検証結果は state（validated / invalid）と errors で返します。"
    "この時点では何も変更しません。",
)
def create_roster_import(request, file: UploadedFile = File(..., description="名簿ファイル")):  # noqa: B008
    _require_roster_admin(request)
    try:
        ensure_size_allowed(file.size)
    except RosterFileError as exc:
        raise HttpError(413, str(exc)) from None
    roster_import = actions.upload_roster(
        current_organization(request),
        filename=file.name or "roster",
        content=file.read(),
        by=request.user,
        request=request,
    )
    return Status(201, roster_import)


@router.get("/roster-imports/{import_id}", response=RosterImportOut, summary="名簿取込の状態と結果")
def get_roster_import(request, import_id: UUID):
    _require_roster_admin(request)
    return _roster_import(request, import_id)


@router.post(
    "/roster-imports/{import_id}/confirm",
    response={202: RosterImportOut},
    summary="検証済みの名簿を取り込む",
    description="state が validated の取込だけを受け付け、バックグラウンドで反映します"
    "（queued → running → done / failed）。",
)
def confirm_roster_import(request, import_id: UUID):
    _require_roster_admin(request)
    roster_import = _roster_import(request, import_id)
    if not actions.confirm_roster_import(roster_import, by=request.user, request=request):
        raise HttpError(409, "この名簿は確認待ち（validated）ではないため、取り込めません。")
    return Status(202, roster_import)
