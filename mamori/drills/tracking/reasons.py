"""Why a hit was judged automated: stable codes stored in ``Event.reasons``, Japanese labels for the results page."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Reason(models.TextChoices):
    """In the order the results page lists them."""

    TRAP = "trap", _("人には見えない隠しリンクへのアクセスと同じ時間帯")
    LATENCY = "latency", _("メールの配信直後（数秒以内）のアクセス")
    SCANNER_USER_AGENT = "scanner_user_agent", _("セキュリティ製品・プログラムのユーザーエージェント")
    SCANNER_ADDRESS = "scanner_address", _("メールセキュリティ製品のアドレス範囲からのアクセス")
    MANY_TOKENS = "many_tokens", _("同じアドレスから1分以内に多数の宛先のリンクへアクセス")
    NO_CONFIRMATION = "no_confirmation", _("開いたページがブラウザで表示されなかった（確認の信号なし）")


ORDER = {reason.value: position for position, reason in enumerate(Reason)}


def in_order(reasons) -> list[str]:
    """Distinct codes in ``Reason`` order, so equal verdicts store equal lists."""
    return sorted(set(reasons), key=lambda code: ORDER.get(code, len(ORDER)))
