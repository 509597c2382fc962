"""Indicators, TLP sharing and STIX/TAXII (later issue)."""

from django.apps import AppConfig


class IntelConfig(AppConfig):
    name = "mamori.intel"
    verbose_name = "脅威情報"
