"""One NinjaAPI under /api/v1/, assembled from each app's ``api.py`` router."""

from ninja import NinjaAPI

from mamori.accounts.api_auth import APITokenAuth
from mamori.core.api import router as core_router
from mamori.incidents.api import router as incidents_router
from mamori.metrics.api import router as metrics_router
from mamori.reporting.api import router as reporting_router

api = NinjaAPI(
    title="mamori API",
    version="1",
    description=(
        "標的型攻撃対応訓練・報告の API。組織に紐づく API トークンで認証します（Authorization: Bearer mmr_…）。"
    ),
    auth=APITokenAuth(),
    urls_namespace="api",
)
api.add_router("/", core_router)
api.add_router("/", reporting_router)
api.add_router("/", metrics_router)
api.add_router("/", incidents_router)
