"""Reports from staff: suspicious mail, 5W1H and near-miss reports (later issue)."""

from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "mamori.reporting"
    verbose_name = "報告"

    def ready(self):
        from mamori.core.worker import register
        from mamori.reporting.mailbox import poll_due_mailboxes

        register(poll_due_mailboxes)
