"""`mamori seed_demo`: create or complete the demo ward (デモ区) and print fresh demo logins."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mamori.core.demo import DEMO_NAME, prepare_demo


def describe_logins(logins) -> list[str]:
    lines = []
    for login in logins:
        note = (
            "初回ログイン時に二要素認証（TOTP）の登録を求められます" if login.needs_mfa else "二要素認証なし・閲覧のみ"
        )
        lines.append(f"    {login.username:<8} パスワード {login.password}  （{note}）")
    return lines


class Command(BaseCommand):
    help = "デモ区（約300人の職員と部・課・係）を作成し、デモ用ログインに新しいパスワードを発行します。"

    def handle(self, *args, **options):
        if not (settings.DEMO or settings.DEBUG):
            raise CommandError("デモデータは MAMORI_DEMO=1（または DEBUG=1）のときだけ作成できます。")
        logins = prepare_demo()
        self.stdout.write(f"{DEMO_NAME}を用意しました。ログイン:")
        self.stdout.write("\n".join(describe_logins(logins)))
