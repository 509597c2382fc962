"""Contractors, clauses and audits (later issue)."""

from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "mamori.vendors"
    verbose_name = "委託先"
