"""The KPI figures over the API: a ward's dashboard and the anonymised joint view, as the pages show them."""

import datetime
from uuid import UUID

from django.conf import settings
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from mamori.core.models import Membership
from mamori.core.scoping import current_organization
from mamori.drills.fiscal import current_fiscal_year
from mamori.metrics import kpis
from mamori.metrics.access import department_asked_for, sees_whole_ward, viewer_organizations
from mamori.metrics.forms import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR

router = Router(tags=["指標"])


class FigureOut(Schema):
    key: str
    label: str
    unit: str = Field(..., description="percent / minutes / count / ratio")
    value: float | None = Field(None, description="データがないときは null")
    display: str = Field(..., description="画面と同じ表示（例: 22.7%）")
    numerator: int | None = None
    denominator: int | None = None
    target: float | None = None
    target_label: str = ""
    status: str = Field(..., description="good（目標達成）/ warn（あと一歩）/ bad（目標未達）/ none")
    status_label: str


class PointOut(Schema):
    label: str
    fiscal_year: int
    round_number: int | None = None
    quarter: int | None = None
    delivered: int
    difficulty_label: str = ""
    withheld: bool = Field(False, description="所属の数値で、届いた人が少なく値を伏せた回・四半期")
    figures: list[FigureOut]


class RoundOut(PointOut):
    campaign: str = Field("", description="訓練実施回の ID")
    title: str = ""
    starts_on: datetime.date | None = None


class BreakdownOut(Schema):
    key: str = Field(..., description="所属の ID・役職・雇用区分（少人数をまとめた行は空）")
    label: str
    depth: int
    size: int
    merged: bool = Field(..., description="少人数の所属をまとめた行")
    figures: list[FigureOut]


class DashboardOut(Schema):
    organization: str
    department: str | None = Field(None, description="所属に絞ったときの所属")
    fiscal_year: int
    computed_at: datetime.datetime | None = Field(None, description="集計日時（未集計は null）")
    stale_seconds: int = Field(..., description="数値が最大で何秒遅れうるか（refreshing が true のとき）")
    refreshing: bool = Field(
        False, description="自動で再集計している回（実施中・終了後まもない回）を含むか。false なら終了した回の数値"
    )
    figures: list[FigureOut]
    rounds: list[RoundOut]
    quarters: list[PointOut]
    departments: list[BreakdownOut]
    positions: list[BreakdownOut]
    employment_types: list[BreakdownOut]


class JointWardOut(Schema):
    label: str = Field(..., description="「区A」など（自区は区の名前）")
    own: bool
    size: int
    figures: list[FigureOut]
    rounds: list[PointOut]


class JointOut(Schema):
    fiscal_year: int
    computed_at: datetime.datetime | None = None
    stale_seconds: int
    refreshing: bool = False
    wards_with_data: int
    wards: list[JointWardOut]
    average: list[FigureOut] = Field(..., description="データのある区の単純平均")


class PeriodIn(Schema):
    fiscal_year: int | None = Field(
        None, ge=FIRST_FISCAL_YEAR, le=LAST_FISCAL_YEAR, description="年度（西暦、省略時は今年度）"
    )


class DashboardIn(PeriodIn):
    department: UUID | None = Field(None, description="この所属とその配下に絞る（所属長は自分の所属のみ）")


def figures_out(figures: dict[str, kpis.Figure]) -> list[dict]:
    return [
        {
            "key": figure.kpi.key,
            "label": str(figure.kpi.label),
            "unit": figure.kpi.unit,
            "value": figure.value,
            "display": figure.display,
            "numerator": figure.numerator,
            "denominator": figure.denominator,
            "target": figure.kpi.target,
            "target_label": figure.kpi.target_label,
            "status": figure.status,
            "status_label": figure.status_label,
        }
        for figure in figures.values()
    ]


def point_out(point: kpis.RoundPoint) -> dict:
    return {
        "label": point.label,
        "fiscal_year": point.fiscal_year,
        "round_number": point.round_number,
        "quarter": point.quarter,
        "delivered": point.delivered,
        "difficulty_label": point.difficulty_label,
        "withheld": point.withheld,
        "figures": figures_out(point.figures),
    }


def round_out(point: kpis.RoundPoint) -> dict:
    return {
        **point_out(point),
        "campaign": str(point.campaign_public_id),
        "title": point.title,
        "starts_on": point.starts_on,
    }


def breakdown_out(row: kpis.BreakdownRow) -> dict:
    return {
        "key": row.key,
        "label": row.label,
        "depth": row.depth,
        "size": row.size,
        "merged": row.merged,
        "figures": figures_out(row.figures),
    }


@router.get(
    "/metrics/dashboard",
    response=DashboardOut,
    summary="区の指標（年度）",
    description="画面「区の指標」と同じ数値です。所属長のトークンは自分の所属（配下を含む）の数値だけを返します。",
)
def dashboard(request, params: Query[DashboardIn]):
    if not (sees_whole_ward(request) or request.tenancy.has_role(Membership.Role.DEPT_MANAGER)):
        raise HttpError(403, "この API トークンでは区の指標を参照できません。")
    department = department_asked_for(request, params.department)
    if department is None and not sees_whole_ward(request):
        raise HttpError(403, "所属長として担当する所属が設定されていません。")
    organization = current_organization(request)
    data = kpis.ward_dashboard(
        organization,
        params.fiscal_year or current_fiscal_year(),
        department=department,
        closed_only=not sees_whole_ward(request),
    )
    if data.too_small and not sees_whole_ward(request):
        # As on the department page: a manager's small team stays anonymous.
        raise HttpError(
            403,
            f"対象者が {settings.METRICS_MIN_GROUP_SIZE} 人未満のため、個人が特定されないよう数値を返しません。",
        )
    return {
        "organization": organization.name,
        "department": str(department) if department else None,
        "fiscal_year": data.fiscal_year,
        "computed_at": data.computed_at,
        "stale_seconds": data.stale_seconds,
        "refreshing": data.refreshing,
        "figures": figures_out(data.figures),
        "rounds": [round_out(point) for point in data.rounds],
        "quarters": [point_out(point) for point in data.quarters],
        "departments": [breakdown_out(row) for row in data.departments],
        "positions": [breakdown_out(row) for row in data.positions],
        "employment_types": [breakdown_out(row) for row in data.employment_types],
    }


@router.get(
    "/metrics/joint",
    response=JointOut,
    summary="23区の比較（匿名化）",
    description="共同管理者のトークンで参照します。トークンの利用者が所属する区のほかは「区A」「区B」…と表示し、"
    "区の名前・ID・訓練実施回の ID や件名は返しません。",
)
def joint(request, params: Query[PeriodIn]):
    if not request.tenancy.has_role(Membership.Role.JOINT_ADMIN):
        raise HttpError(403, "23区の比較は共同管理者だけが参照できます。")
    view = kpis.joint_view(
        params.fiscal_year or current_fiscal_year(), viewer_organizations=viewer_organizations(request)
    )
    return {
        "fiscal_year": view.fiscal_year,
        "computed_at": view.computed_at,
        "stale_seconds": view.stale_seconds,
        "refreshing": view.refreshing,
        "wards_with_data": view.wards_with_data,
        # Only labels and figures: another ward's rounds would name it through their titles or ids.
        "wards": [
            {
                "label": row.label,
                "own": row.is_own,
                "size": row.size,
                "figures": figures_out(row.figures),
                "rounds": [point_out(point) for point in row.rounds],
            }
            for row in view.rows
        ],
        "average": figures_out(view.average),
    }
