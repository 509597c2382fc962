"""Code-defined playbooks (対応手順): the first tasks of a case, per category.

Evidence preservation comes first in every playbook (seed 000, 「最初の5分」): keep the mail, do not reboot or
power off before the memory is saved, write down the time. A case gets its category's steps when it is opened,
and the missing ones when its category changes (``Step.key`` tells which are there already).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from mamori.incidents.models import Case

Category = Case.Category


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    detail: str = ""


NOTE_TIME = Step(
    "note_time",
    _("気づいた時刻・操作した時刻を記録する"),
    _("報告者が気づいた時刻、開いた・クリックした時刻、その後にしたことを、分からなければ「何時ごろ」で記録します。"),
)
KEEP_MAIL = Step(
    "keep_mail",
    _("メールを削除せず保全する（.eml で保存）"),
    _("受信者にメールを削除・転送しないよう伝え、ヘッダー付きの .eml を証拠として登録します。"),
)
NO_REBOOT = Step(
    "no_reboot",
    _("再起動・電源断をしない（メモリの保全を先に）"),
    _(
        "端末の電源は入れたまま、画面もそのままにします。メモリの取得が終わるまで再起動もウイルス対策ソフトの実行もしません。"
    ),
)
CAPTURE_MEMORY = Step(
    "capture_memory",
    _("メモリイメージを取得し、ハッシュ値を記録する"),
    _("取得者・取得日時を記録し、証拠として登録します（大きいファイルはハッシュ値だけ登録）。"),
)
ISOLATE_AS_INSTRUCTED = Step(
    "isolate_as_instructed",
    _("ネットワークからの切り離しは指示に従って行う"),
    _("各区の初動ルールに従います。自己判断で LAN ケーブルを抜く前に CSIRT の指示を確認します。"),
)
IDENTIFY_DEVICE = Step("identify_device", _("端末を特定する（端末名・IP アドレス・利用者）"))
RECORD_RECEIPT = Step("record_receipt", _("受信時刻と受信者を記録する"))
FIND_OTHER_RECIPIENTS = Step(
    "find_other_recipients",
    _("同報者（同じメールを受けた職員）を確認する"),
    _("メールサーバーのログで同じ差出人・件名のメールを探し、受信者に開かないよう連絡します。"),
)
CHECK_OPENED = Step(
    "check_opened",
    _("添付ファイル・URL を開いた人がいないか確認する（開いた端末は再起動・電源断をしない）"),
    _(
        "開いた・クリックした端末は電源を入れたまま、ウイルス対策ソフトも自分では実行しません。"
        "開いていたら分類を「マルウェア感染」に変えると、端末の保全手順が作業に追加されます。"
    ),
)
BLOCK_SENDER_URLS = Step("block_sender_urls", _("送信元アドレス・URL をブロックする"))
COLLECT_LOGS = Step(
    "collect_logs",
    _("関係するログを保全する（認証・プロキシ・ファイアウォール）"),
    _("ログの上書き前に複製し、ハッシュ値を記録します。"),
)
FIND_SPREAD = Step("find_spread", _("同じ兆候のある端末がほかにないか確認する"))
KEEP_BACKUPS_OFFLINE = Step(
    "keep_backups_offline",
    _("バックアップを切り離して守る"),
    _("暗号化がバックアップに及ばないよう、バックアップ装置との接続を止めます。"),
)
NO_RANSOM_CONTACT = Step("no_ransom_contact", _("脅迫者と連絡を取らない・支払わない（判断は組織として行う）"))
RESET_CREDENTIALS = Step("reset_credentials", _("影響を受けたアカウントのパスワードを変更し、セッションを無効にする"))
SCOPE_PERSONAL_DATA = Step(
    "scope_personal_data",
    _("漏えいした可能性のある個人情報の範囲（件数・種類）を確認する"),
    _("件数と種類を事案に記録すると、個人情報保護委員会への報告期限が作業として自動で追加されます。"),
)
RECALL_MAIL = Step(
    "recall_mail", _("誤送信先に連絡し、削除を依頼する"), _("削除した旨の回答（できれば書面・メール）を記録します。")
)
RECORD_LOSS_CIRCUMSTANCES = Step(
    "record_loss_circumstances", _("紛失・盗難の状況（日時・場所・媒体・暗号化の有無）を記録する")
)
REPORT_POLICE = Step("report_police", _("盗難・遺失の届出を警察に行う"))
CONTACT_CONTRACTOR = Step(
    "contact_contractor",
    _("委託先に事実関係と対応状況の報告を求める"),
    _("契約の事故報告条項に従い、報告の期限を伝えます。"),
)
CONTACT_PROVIDER = Step("contact_provider", _("回線事業者・クラウド事業者に連絡する"))
RECORD_OUTAGE = Step("record_outage", _("サービス停止の開始・終了時刻を記録する"))

PLAYBOOKS: dict[str, tuple[Step, ...]] = {
    Category.TARGETED_MAIL: (
        KEEP_MAIL,
        RECORD_RECEIPT,
        NOTE_TIME,
        CHECK_OPENED,
        FIND_OTHER_RECIPIENTS,
        BLOCK_SENDER_URLS,
    ),
    Category.MALWARE: (
        NO_REBOOT,
        CAPTURE_MEMORY,
        NOTE_TIME,
        ISOLATE_AS_INSTRUCTED,
        IDENTIFY_DEVICE,
        COLLECT_LOGS,
        FIND_SPREAD,
    ),
    Category.RANSOMWARE: (
        NO_REBOOT,
        CAPTURE_MEMORY,
        NOTE_TIME,
        ISOLATE_AS_INSTRUCTED,
        KEEP_BACKUPS_OFFLINE,
        IDENTIFY_DEVICE,
        NO_RANSOM_CONTACT,
        SCOPE_PERSONAL_DATA,
        RECORD_OUTAGE,
    ),
    Category.UNAUTHORISED_ACCESS: (
        COLLECT_LOGS,
        NOTE_TIME,
        RESET_CREDENTIALS,
        FIND_SPREAD,
        SCOPE_PERSONAL_DATA,
    ),
    Category.DATA_LEAK: (COLLECT_LOGS, NOTE_TIME, SCOPE_PERSONAL_DATA),
    Category.LOSS_THEFT: (RECORD_LOSS_CIRCUMSTANCES, NOTE_TIME, SCOPE_PERSONAL_DATA, REPORT_POLICE),
    Category.MISDELIVERY: (KEEP_MAIL, NOTE_TIME, RECALL_MAIL, SCOPE_PERSONAL_DATA),
    Category.CONTRACTOR: (NOTE_TIME, CONTACT_CONTRACTOR, SCOPE_PERSONAL_DATA),
    Category.DOS: (RECORD_OUTAGE, COLLECT_LOGS, CONTACT_PROVIDER),
    Category.OTHER: (NOTE_TIME,),
}


def steps_for(category: str) -> tuple[Step, ...]:
    """The category's playbook steps, evidence preservation first."""
    return PLAYBOOKS.get(category, PLAYBOOKS[Category.OTHER])


def missing_steps(category: str, present_keys: set[str]) -> list[Step]:
    """The category's steps not yet among the case's tasks (by ``Step.key``)."""
    return [step for step in steps_for(category) if step.key not in present_keys]
