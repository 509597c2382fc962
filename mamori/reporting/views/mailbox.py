"""The report mailbox settings page (security_admin): server, login, folders, a connection test, failures.

One page and one URL: "保存" saves, "接続テスト" tries the submitted settings without saving them (the
stored secret is used when none was typed), so a mistake can be found before it reaches the worker.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mamori.core.models import Membership
from mamori.core.scoping import current_organization, for_organization, require_role
from mamori.reporting import mailbox as poller
from mamori.reporting.mailbox_form import ReportMailboxForm
from mamori.reporting.models import ReportMailbox


@require_role(Membership.Role.SECURITY_ADMIN)
def mailbox_settings(request):
    organization = current_organization(request)
    mailbox = for_organization(request, ReportMailbox).first()
    form = ReportMailboxForm(request.POST or None, instance=mailbox, organization=organization)
    check = None
    if request.method == "POST" and form.is_valid():
        if "test" in request.POST:
            check = poller.check_connection(form.save(commit=False), by=request.user, request=request)
        else:
            poller.save_mailbox(form, by=request.user, request=request)
            messages.success(request, _("報告用メールボックスの設定を保存しました。"))
            return redirect("reporting:mailbox")
    context = {
        "form": form,
        "mailbox": mailbox,
        "check": check,
        "failures": poller.recent_failures(mailbox) if mailbox else [],
    }
    return render(request, "reporting/mailbox.html", context)
