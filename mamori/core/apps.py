"""Tenancy: organizations, departments, people, roles, roster import, audit log."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mamori.core"
    verbose_name = "組織と職員"
