"""mamori add_member USERNAME --org CODE --role ROLE [--email ADDRESS] [--department PATH]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from mamori.accounts import actions
from mamori.core.models import Department, Membership, Organization


class Command(BaseCommand):
    help = "ユーザーに組織での役割を与えます（ユーザーがいなければ作成します）。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--org", required=True, help="組織コード")
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument("--email", default="", help="新しいユーザーのメールアドレス（パスワード再設定に使います）")
        parser.add_argument("--department", help="所属長の担当範囲: 所属パス（例: 総務部/総務課）")

    def handle(self, username, org, role, email, department, **options):
        organization = Organization.objects.filter(code=org).first()
        if organization is None:
            raise CommandError(f"組織コード {org} の組織はありません。")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"メールアドレス {email} の形式が正しくありません。") from None
        scope = None
        if department:
            scope = Department.objects.filter(organization=organization, path=department).first()
            if scope is None:
                raise CommandError(f"{organization.name} に所属 {department} はありません。")
        elif role == Membership.Role.DEPT_MANAGER:
            raise CommandError("所属長（dept_manager）には --department で担当の所属を指定してください。")

        added = actions.add_member(username, organization, role, email=email, department=scope)

        role_label = Membership.Role(role).label
        if added.membership_created:
            self.stdout.write(f"{username} を {organization.name} の{role_label}に追加しました。")
        else:
            self.stdout.write(f"{username} はすでに {organization.name} の{role_label}です。")
        if added.password:
            self.stdout.write(f"初期パスワード（この一度だけ表示します）: {added.password}")
        elif added.user_created:
            self.stdout.write(
                f"ユーザーを作成しました。{added.user.email} 宛てに、ログイン画面の「パスワードを忘れた場合」から"
                "パスワードを設定してもらってください。"
            )
        if role in Membership.MFA_ROLES:
            self.stdout.write("この役割では、初回ログイン時に多要素認証（TOTP）の設定が必要です。")
