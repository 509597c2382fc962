"""Accounts: users, login, MFA and API tokens."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mamori.accounts"
    verbose_name = "アカウント"
