"""What the teachable moment says about reporting: the contact and the first-response rules (最初の5分).

The default rules follow the field guide in the seeds (「最初の5分」の鉄則 and its NG行動). Wards differ —
some tell staff to pull the LAN cable at once — so ``Organization.first_response_rules`` replaces them,
one rule per line, and ``Organization.report_contact`` names the ward's own contact.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DEFAULT_FIRST_RESPONSE_RULES = [
    gettext_lazy("何よりも優先して、定められた窓口へ正直に報告する。"),
    gettext_lazy("パソコンを再起動・シャットダウンしない（何が起きたかを示す「足跡」が消えてしまいます）。"),
    gettext_lazy("自分でウイルス対策ソフトを実行しない（調査に必要な「証拠」がなくなってしまいます）。"),
    gettext_lazy("指示があるまで、LANケーブルを抜いたり、Wi-Fiや電源を切ったりしない。"),
    gettext_lazy("隠さない。報告が1時間遅れるだけで、被害が庁内全体に広がることがあります。"),
]

# The five points of a report, from the field guide (いつ・どこで・誰が・何を・どうなった).
REPORT_POINTS = gettext_lazy(
    "報告では「いつ・どこで・誰が・何を・どうなった」を、分かる範囲で落ち着いて伝えれば十分です。"
)

# A ward's own rules: at most this many lines of at most this many characters (the page takes a minute).
MAX_RULES = 10
MAX_RULE_LENGTH = 200


def rule_lines(text: str) -> list[str]:
    """The non-empty lines of a rules text, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def first_response_rules(organization) -> list[str]:
    """The organization's own first-response rules, or the default ones when it has set none."""
    own = rule_lines(organization.first_response_rules)
    return own or [str(rule) for rule in DEFAULT_FIRST_RESPONSE_RULES]


def report_contact(organization) -> str:
    """Whom to report to: the organization's contact, or a generic one until it has named its own."""
    return organization.report_contact.strip() or _("上司または情報システム部門")
