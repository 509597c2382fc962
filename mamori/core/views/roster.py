"""名簿取込 pages: upload → preview (validated) → confirm → progress → result; and the history."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mamori.core import actions
from mamori.core.models import Membership, RosterImport
from mamori.core.roster.columns import COLUMNS
from mamori.core.roster.forms import RosterUploadForm
from mamori.core.roster.progress import read_progress
from mamori.core.scoping import current_organization, for_organization, get_for_organization, require_role

PAGE_SIZE = 30


def _imports(request):
    # The file content can be megabytes; no page needs it.
    return for_organization(request, RosterImport).select_related("uploaded_by", "confirmed_by").defer("content")


@require_role(Membership.Role.SECURITY_ADMIN)
def import_list(request):
    page = Paginator(_imports(request).order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/roster_list.html", {"page": page})


@require_role(Membership.Role.SECURITY_ADMIN)
def upload(request):
    form = RosterUploadForm(request.POST, request.FILES) if request.method == "POST" else RosterUploadForm()
    if form.is_bound and form.is_valid():
        roster_import = actions.upload_roster(
            current_organization(request),
            filename=form.cleaned_data["file"].name,
            content=form.content(),
            by=request.user,
            request=request,
        )
        return redirect("core:roster-import", import_id=roster_import.public_id)
    return render(request, "core/roster_upload.html", {"form": form, "columns": COLUMNS})


@require_role(Membership.Role.SECURITY_ADMIN)
def import_detail(request, import_id):
    """The preview while awaiting confirmation, the progress while running, the result at the end.

    An htmx request (the progress poll) gets only the status partial.
    """
    roster_import = get_for_organization(request, _imports(request), public_id=import_id)
    context = {"roster_import": roster_import, "progress": read_progress(roster_import)}
    template = "core/partials/roster_status.html" if request.htmx else "core/roster_detail.html"
    return render(request, template, context)


@require_role(Membership.Role.SECURITY_ADMIN)
@require_POST
def confirm(request, import_id):
    roster_import = get_for_organization(request, _imports(request), public_id=import_id)
    if actions.confirm_roster_import(roster_import, by=request.user, request=request):
        messages.success(request, _("取込を受け付けました。順番に処理します。このページで進み具合を確認できます。"))
    else:
        messages.error(request, _("この名簿は確認待ちではないため、取り込めません。"))
    return redirect("core:roster-import", import_id=roster_import.public_id)
