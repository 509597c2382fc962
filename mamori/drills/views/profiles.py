"""Sending profile (送信設定) pages: list, create, edit, and a test mail that shows the server's answer.

security_admin only: a profile holds the relay's credentials, and its test mail reaches real mailboxes.
"""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mamori.core.models import Membership
from mamori.core.scoping import current_organization, for_organization, get_for_organization, require_role
from mamori.drills.actions import sending as actions
from mamori.drills.forms.profiles import SendingProfileForm, TrialSendForm
from mamori.drills.models import SendingProfile

ADMIN = Membership.Role.SECURITY_ADMIN


@require_role(ADMIN)
def profile_list(request):
    profiles = for_organization(request, SendingProfile).annotate(campaign_count=Count("campaigns"))
    return render(request, "drills/profile_list.html", {"profiles": profiles})


@require_role(ADMIN)
def profile_new(request):
    form = SendingProfileForm(request.POST or None, organization=current_organization(request))
    if request.method == "POST" and form.is_valid():
        profile = actions.save_sending_profile(form, by=request.user, request=request)
        messages.success(request, _("送信設定「%(name)s」を作成しました。") % {"name": profile.name})
        return redirect("drills:profiles")
    return render(request, "drills/profile_form.html", {"form": form, "profile": None})


@require_role(ADMIN)
def profile_edit(request, profile_id):
    profile = get_for_organization(request, SendingProfile, public_id=profile_id)
    form = SendingProfileForm(request.POST or None, instance=profile, organization=current_organization(request))
    if request.method == "POST" and form.is_valid():
        actions.save_sending_profile(form, by=request.user, request=request)
        messages.success(request, _("送信設定「%(name)s」を保存しました。") % {"name": profile.name})
        return redirect("drills:profiles")
    return render(request, "drills/profile_form.html", {"form": form, "profile": profile})


@require_role(ADMIN)
def profile_test(request, profile_id):
    """GET: the form; POST: send one test mail now and show what the server answered."""
    profile = get_for_organization(request, SendingProfile.objects.select_related("organization"), public_id=profile_id)
    organization = current_organization(request)
    initial = {"recipient": request.user.email} if organization.accepts_email(request.user.email or "") else {}
    form = TrialSendForm(request.POST or None, organization=organization, initial=initial)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.send_test_mail(profile, form.cleaned_data["recipient"], by=request.user, request=request)
        except actions.OutsiderAddress as error:  # the domain was removed meanwhile
            form.add_error("recipient", str(error))
    return render(request, "drills/profile_test.html", {"profile": profile, "form": form, "result": result})
