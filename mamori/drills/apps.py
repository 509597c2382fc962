"""Drill scenarios, campaigns, deliveries and tracking (later issue)."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DrillsConfig(AppConfig):
    name = "mamori.drills"
    verbose_name = "訓練"

    def ready(self):
        from mamori.drills.actions.scenarios import sync_library_after_migrate

        post_migrate.connect(sync_library_after_migrate, sender=self, dispatch_uid="drills-scenario-library")

        from mamori.core.worker import register
        from mamori.drills.sender.worker import send_due_deliveries

        register(send_due_deliveries)

        from mamori.drills.tracking.classifier import classify_due_events

        register(classify_due_events)
