"""Drill scenarios, campaigns, deliveries and tracking (later issue)."""

from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "mamori.drills"
    verbose_name = "訓練"
