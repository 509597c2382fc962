"""On-duty contacts (当番の連絡先) of the current organization: who is mailed on escalations and on the joint
body's entries. A ward's csirt/security_admin or a joint body's csirt/joint_admin keep them."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mamori.core.scoping import current_organization, for_organization, require_role
from mamori.incidents import actions
from mamori.incidents.forms import DutyContactForm
from mamori.incidents.models import DutyContact
from mamori.incidents.views.access import CONTACT_ROLES

WEEKDAY_LABELS = dict(DutyContactForm.base_fields["weekdays"].choices)


def schedule_label(contact: DutyContact) -> str:
    """「月・水・金 22:00〜08:30」, 「毎日 終日」."""
    days = "・".join(str(WEEKDAY_LABELS[day]) for day in contact.weekdays if day in WEEKDAY_LABELS) or _("毎日")
    if contact.hours_start is None or contact.hours_end is None:
        return _("%(days)s 終日") % {"days": days}
    return f"{days} {contact.hours_start:%H:%M}〜{contact.hours_end:%H:%M}"


def _save(request, form: DutyContactForm, contact: DutyContact | None) -> DutyContact:
    data = form.cleaned_data
    return actions.save_duty_contact(
        current_organization(request),
        actor=request.user,
        name=data["name"],
        email=data["email"],
        active=data["active"],
        weekdays=data["weekdays"],
        hours_start=data["hours_start"],
        hours_end=data["hours_end"],
        contact=contact,
        request=request,
    )


@require_http_methods(["GET", "POST"])
@require_role(*CONTACT_ROLES)
def contact_list(request):
    form = DutyContactForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        try:
            contact = _save(request, form, None)
        except actions.IncidentActionError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("「%(name)s」を登録しました。") % {"name": contact.name})
            return redirect("incidents:contacts")
    contacts = list(for_organization(request, DutyContact).order_by("name", "id"))
    for contact in contacts:
        contact.schedule = schedule_label(contact)
    return render(
        request,
        "incidents/contacts.html",
        {"contacts": contacts, "form": form, "organization": current_organization(request)},
    )


@require_http_methods(["GET", "POST"])
@require_role(*CONTACT_ROLES)
def contact_edit(request, contact_id):
    contact = get_object_or_404(for_organization(request, DutyContact), public_id=contact_id)
    form = DutyContactForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            _save(request, form, contact)
        except actions.IncidentActionError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("「%(name)s」を保存しました。") % {"name": contact.name})
            return redirect("incidents:contacts")
    return render(request, "incidents/contact_form.html", {"form": form, "contact": contact})


@require_POST
@require_role(*CONTACT_ROLES)
def contact_delete(request, contact_id):
    contact = get_object_or_404(for_organization(request, DutyContact), public_id=contact_id)
    actions.delete_duty_contact(
        contact, actor=request.user, organization=current_organization(request), request=request
    )
    messages.success(request, _("「%(name)s」を削除しました。") % {"name": contact.name})
    return redirect("incidents:contacts")
