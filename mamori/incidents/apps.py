"""CSIRT cases and the joint CSIRT (later issue)."""

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "mamori.incidents"
    verbose_name = "インシデント"
