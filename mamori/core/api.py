"""People and departments of the token's organization."""

from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from mamori.core.models import Department
from mamori.core.scoping import for_organization, people_visible_to
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
