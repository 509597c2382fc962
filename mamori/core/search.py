from django.db.models import Q, QuerySet


def people_matching(people: QuerySet, text: str) -> QuerySet:
    """Staff whose name, kana, email or employee number contains each of the words in ``text``."""
    for word in text.split():
        people = people.filter(
            Q(name__icontains=word)
            | Q(name_kana__icontains=word)
            | Q(email__icontains=word)
            | Q(employee_number__icontains=word)
        )
    return people
