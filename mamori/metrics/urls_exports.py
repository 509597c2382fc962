"""The export routes (XLSX, CSV, PDF), kept apart from the pages' routes; the query string carries ?fy= etc."""

from django.urls import path

from mamori.metrics import exports_views

urlpatterns: list = [
    path("export.xlsx", exports_views.export_xlsx, name="export-xlsx"),
    path("export.csv", exports_views.export_csv, name="export-csv"),
    path("report.pdf", exports_views.report_pdf, name="report-pdf"),
    path("joint/export.xlsx", exports_views.joint_xlsx, name="joint-xlsx"),
    path("joint/export.csv", exports_views.joint_csv, name="joint-csv"),
    path("joint/export.pdf", exports_views.joint_pdf, name="joint-pdf"),
]
