"""`mamori add_organization CODE NAME [--kind ward|joint|partner] [--domain DOMAIN …]`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mamori.core.actions import create_organization
from mamori.core.forms import DomainForm
from mamori.core.models import Organization


class Command(BaseCommand):
    help = "区・共同組織・連携先を登録します。--domain で確認済みメールドメインも登録できます（複数可）。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="組織コード（英小文字・数字・ハイフン。例: chiyoda）")
        parser.add_argument("name", help="名称（例: 千代田区）")
        parser.add_argument("--kind", choices=Organization.Kind.values, default=Organization.Kind.WARD)
        parser.add_argument("--domain", action="append", default=[], help="確認済みメールドメイン")

    def handle(self, *args, code, name, kind, domain, **options):
        domains = []
        for value in domain:
            form = DomainForm({"domain": value})
            if not form.is_valid():
                raise CommandError("; ".join(form.errors["domain"]))
            domains.append(form.cleaned_data["domain"])
        try:
            organization = create_organization(code, name, kind=kind, domains=domains)
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            ) from None
        self.stdout.write(f"組織「{organization.name}」（{organization.code}）を登録しました。")
        for value in domains:
            self.stdout.write(f"  確認済みドメイン: {value}")
        self.stdout.write(
            f"次に管理者を登録してください: mamori add_member USERNAME --org {organization.code} --role security_admin"
        )
