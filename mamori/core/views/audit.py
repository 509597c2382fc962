"""The audit log page (監査ログ): the current organization's entries, read-only, newest first."""

from datetime import datetime, time, timedelta

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from mamori.core.models import AuditEntry, Membership
from mamori.core.scoping import for_organization, require_role

PAGE_SIZE = 50

# Japanese names of the actions; an action missing here is shown by its code.
ACTION_LABELS = {
    "login.succeeded": _("ログイン成功"),
    "login.failed": _("ログイン失敗"),
    "login.locked": _("ログインの一時停止"),
    "mfa.enrolled": _("多要素認証の設定"),
    "mfa.verified": _("確認コードによる認証"),
    "mfa.failed": _("確認コードの誤り"),
    "mfa.recovery_code_used": _("リカバリーコードの使用"),
    "mfa.recovery_codes_regenerated": _("リカバリーコードの再発行"),
    "mfa.reset": _("多要素認証の解除"),
    "password_reset.requested": _("パスワード再設定の申請"),
    "password_reset.completed": _("パスワード再設定の完了"),
    "password.changed": _("パスワードの変更"),
    "token.created": _("API トークンの作成"),
    "token.revoked": _("API トークンの失効"),
    "member.added": _("メンバーの追加"),
    "domain.verified": _("ドメインの登録"),
    "domain.removed": _("ドメインの削除"),
    "roster.uploaded": _("名簿のアップロード"),
    "roster.confirmed": _("名簿取込の確定"),
    "roster.applied": _("名簿の反映"),
    "roster.failed": _("名簿取込の失敗"),
    "campaign.created": _("訓練の作成"),
    "campaign.updated": _("訓練の変更"),
    "campaign.launched": _("訓練の開始"),
    "campaign.paused": _("訓練の一時停止"),
    "campaign.resumed": _("訓練の再開"),
    "campaign.cancelled": _("訓練の中止"),
    "campaign.closed": _("訓練の終了"),
    "incident.opened": _("インシデントの登録"),
    "incident.updated": _("インシデントの更新"),
    "incident.transition": _("インシデントの状態変更"),
    "incident.reopened": _("インシデントの再開"),
    "incident.major_flagged": _("重大インシデントの判定"),
    "incident.timeline_added": _("経過記録の追加"),
    "incident.task_added": _("タスクの追加"),
    "incident.task_completed": _("タスクの完了"),
    "incident.task_reopened": _("タスクの再開"),
    "incident.evidence_registered": _("証拠の登録"),
    "incident.evidence_downloaded": _("証拠のダウンロード"),
    "incident.evidence_integrity_failed": _("証拠のハッシュ不一致"),
    "incident.custody_added": _("証拠の受け渡し記録"),
    "incident.escalated": _("共同CSIRTへのエスカレーション"),
    "incident.escalation_revoked": _("エスカレーションの取り消し"),
    "incident.duty_contact_added": _("当番連絡先の追加"),
    "incident.duty_contact_changed": _("当番連絡先の変更"),
    "incident.duty_contact_deleted": _("当番連絡先の削除"),
    "metrics.refresh": _("指標の再集計"),
    "metrics.exported": _("指標の書き出し"),
    "metrics.joint_exported": _("23区比較の書き出し"),
    "demo.seeded": _("デモデータの作成"),
    "demo.login_reset": _("デモ用ログインの再設定"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("操作"), required=False)
    date_from = forms.DateField(label=_("期間（から）"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("期間（まで）"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("すべて"))] + [(action, action_label(action)) for action in actions]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("期間の開始日が終了日より後になっています。"))
        return data


def start_of_day(day) -> datetime:
    """Midnight of ``day`` in the site's time zone (JST): the audit day is the Japanese calendar day."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def filtered_entries(entries, form: AuditFilterForm):
    if not form.is_valid():
        return entries.none() if form.is_bound else entries
    data = form.cleaned_data
    if data["action"]:
        entries = entries.filter(action=data["action"])
    if data["date_from"]:
        entries = entries.filter(at__gte=start_of_day(data["date_from"]))
    if data["date_to"]:
        entries = entries.filter(at__lt=start_of_day(data["date_to"] + timedelta(days=1)))
    return entries


@require_role(Membership.Role.SECURITY_ADMIN, Membership.Role.AUDITOR)
@require_safe
def audit_log(request):
    entries = for_organization(request, AuditEntry)
    # The actions that occur in this organization's log, for the filter (one DISTINCT query).
    actions = list(entries.order_by("action").values_list("action", flat=True).distinct())
    form = AuditFilterForm(request.GET or None, actions=actions)
    page = Paginator(filtered_entries(entries, form).order_by("-at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for entry in page:
        entry.action_label = action_label(entry.action)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query_without_page": query.urlencode()}
    template = "core/partials/audit_table.html" if request.htmx else "core/audit_log.html"
    return render(request, template, context)
