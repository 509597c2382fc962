"""Teachable moments, modules and completions (later issue)."""

from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "mamori.learning"
    verbose_name = "学習"
