"""KPI rollups, dashboards, the joint view and exports (issue 6, docs/metrics.md)."""

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "mamori.metrics"
    verbose_name = "指標"

    def ready(self):
        from mamori.core.worker import register
        from mamori.metrics import rollups, views

        register(rollups.refresh_due_rollups)
        if views.warm_dashboard_charts not in rollups.AFTER_REFRESH:
            rollups.AFTER_REFRESH.append(views.warm_dashboard_charts)
