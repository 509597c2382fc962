from django.urls import path

from mamori.metrics import urls_exports, views

app_name = "metrics"

# No URL parameters: the fiscal year and the department travel in the query string (?fy=2026&department=…).
urlpatterns: list = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.refresh, name="refresh"),
    path("ranking/", views.ranking, name="ranking"),
    path("department/", views.department, name="department"),
    path("joint/", views.joint, name="joint"),
    *urls_exports.urlpatterns,
]
