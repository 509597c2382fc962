"""KPI rollups and dashboards (later issue)."""

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "mamori.metrics"
    verbose_name = "指標"
