"""mamori reset_mfa USERNAME: for a user who lost both the phone and the recovery codes."""

from django.core.management.base import BaseCommand, CommandError

from mamori.accounts import actions
from mamori.accounts.models import User


class Command(BaseCommand):
    help = "ユーザーの多要素認証（端末とリカバリーコード）を解除します。本人確認をしてから使ってください。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"ユーザー {username} はいません。")
        actions.reset_mfa(user)
        self.stdout.write(f"{username} の多要素認証を解除しました。次回のログインで設定し直します（役割により必須）。")
