from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mamori.core import actions
from mamori.core.forms import DomainForm
from mamori.core.models import Department, Membership, Person, VerifiedDomain
from mamori.core.scoping import (
    SESSION_ORGANIZATION_KEY,
    current_organization,
    for_organization,
    get_for_organization,
    require_role,
    tenancy,
)
from mamori.lib.safe_redirect import safe_next


@login_required
def home(request):
    if tenancy(request).organization is None:
        return render(request, "core/no_organization.html", status=403)
    return render(
        request,
        "core/home.html",
        {
            "active_people": for_organization(request, Person).filter(active=True).count(),
            "departments": for_organization(request, Department).filter(active=True).count(),
        },
    )


@login_required
@require_POST
def switch_organization(request):
    code = request.POST.get("organization", "")
    if any(o.code == code for o in tenancy(request).organizations):
        request.session[SESSION_ORGANIZATION_KEY] = code
    else:
        messages.error(request, _("その組織には所属していません。"))
    return redirect(safe_next(request, "core:home"))


@require_role(Membership.Role.SECURITY_ADMIN)
def settings_page(request):
    organization = current_organization(request)
    return render(
        request,
        "core/settings.html",
        {
            "organization": organization,
            "domains": for_organization(request, VerifiedDomain).select_related("verified_by"),
            "members": for_organization(request, Membership).select_related("user", "department"),
            "domain_form": DomainForm(),
        },
    )


@require_role(Membership.Role.SECURITY_ADMIN)
@require_POST
def add_domain(request):
    form = DomainForm(request.POST)
    if form.is_valid():
        created = actions.verify_domain(
            current_organization(request), form.cleaned_data["domain"], by=request.user, request=request
        )
        if created:
            messages.success(request, _("ドメイン %(domain)s を確認済みとして登録しました。") % form.cleaned_data)
        else:
            messages.info(request, _("ドメイン %(domain)s は登録済みです。") % form.cleaned_data)
    else:
        for error in form.errors.get("domain", []):
            messages.error(request, error)
    return redirect("core:settings")


@require_role(Membership.Role.SECURITY_ADMIN)
@require_POST
def remove_domain(request, domain_id):
    domain = get_for_organization(request, VerifiedDomain, public_id=domain_id)
    actions.remove_domain(domain, by=request.user, request=request)
    messages.success(request, _("ドメイン %(domain)s を削除しました。") % {"domain": domain.domain})
    return redirect("core:settings")
