"""KPI rollups, dashboards, the joint view and exports (issue 6, docs/metrics.md)."""

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "mamori.metrics"
    verbose_name = "指標"

    def ready(self):
        from mamori.core.worker import register
        from mamori.metrics.rollups import refresh_due_rollups

        register(refresh_due_rollups)
