"""Tenancy: organizations, departments, people, roles, roster import, audit log."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mamori.core"
    verbose_name = "組織と職員"

    def ready(self) -> None:
        from mamori.core.actions import process_next_roster_import
        from mamori.core.worker import register

        register(process_next_roster_import)
