from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from mamori.core.forms import PeopleFilterForm
from mamori.core.models import Department, Person
from mamori.core.scoping import for_organization, people_visible_to, require_role
from mamori.core.search import people_matching

PAGE_SIZE = 50


def filtered_people(request, form: PeopleFilterForm):
    people = people_visible_to(request).select_related("department", "manager")
    if not form.is_valid():
        return people.filter(active=True)
    data = form.cleaned_data
    status = data.get("status") or "active"
    if status != "all":
        people = people.filter(active=status == "active")
    if data.get("q"):
        people = people_matching(people, data["q"])
    if data.get("department"):
        department = for_organization(request, Department).filter(public_id=data["department"]).first()
        people = people.filter(department.subtree_filter()) if department else people.none()
    if data.get("employment_type") in Person.EmploymentType.values:
        people = people.filter(employment_type=data["employment_type"])
    return people


@require_role()
def people_list(request):
    form = PeopleFilterForm(request.GET or None)
    people = filtered_people(request, form)
    page = Paginator(people.order_by("department__path", "employee_number"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "departments": for_organization(request, Department).filter(active=True),
        "employment_types": Person.EmploymentType.choices,
        "query_without_page": _query_without_page(request),
    }
    template = "core/partials/people_table.html" if request.htmx else "core/people_list.html"
    return render(request, template, context)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_role()
def person_detail(request, person_id):
    person = get_object_or_404(people_visible_to(request).select_related("department", "manager"), public_id=person_id)
    subordinates = people_visible_to(request).filter(manager=person, active=True).order_by("employee_number")
    return render(request, "core/person_detail.html", {"person": person, "subordinates": subordinates})


@require_role()
def department_list(request):
    departments = for_organization(request, Department).annotate(
        active_people=Count("people", filter=Q(people__active=True))
    )
    return render(request, "core/department_list.html", {"departments": departments})
