from django.urls import reverse
from django.utils.translation import pgettext_lazy

from mamori.core.scoping import tenancy

# The areas of the product. Entries without a URL are the later issues' areas, shown but not linked yet.
# The "メニュー" context lets a menu entry differ from the same word elsewhere (English: 「委託先」 is the
# menu's "Contractors" but an employment type's "Contractor").
AREAS = [
    ("drills", pgettext_lazy("メニュー", "訓練"), "drills:campaigns"),
    ("reporting", pgettext_lazy("メニュー", "報告"), "reporting:triage"),
    ("incidents", pgettext_lazy("メニュー", "インシデント"), "incidents:case-list"),
    ("intel", pgettext_lazy("メニュー", "脅威情報"), None),
    ("vendors", pgettext_lazy("メニュー", "委託先"), None),
    ("metrics", pgettext_lazy("メニュー", "指標"), "metrics:dashboard"),
]


def navigation(request):
    if not hasattr(request, "tenancy") or not request.user.is_authenticated:
        return {}
    return {
        "tenancy": tenancy(request),
        "nav_areas": [{"key": key, "label": label, "url": url and reverse(url)} for key, label, url in AREAS],
    }
