"""CSIRT cases and the joint CSIRT (DESIGN.md §6, docs/incidents.md)."""

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "mamori.incidents"
    verbose_name = "インシデント"

    def ready(self):
        from mamori.core.worker import register
        from mamori.incidents.actions import flag_long_outages

        register(flag_long_outages)
