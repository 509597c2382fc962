from django.core.management.base import BaseCommand

from mamori.drills.actions.scenarios import sync_library


class Command(BaseCommand):
    help = "組み込みの訓練シナリオ（ライブラリ）をデータベースに反映します。何度実行しても結果は同じです。"

    def handle(self, *args, **options):
        result = sync_library()
        self.stdout.write(
            f"シナリオライブラリ: 追加 {result.created}、更新 {result.updated}、"
            f"変更なし {result.unchanged}、アーカイブ {result.archived}"
        )
