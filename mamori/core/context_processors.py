from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mamori.core.scoping import tenancy

# The areas of the product. Entries without a URL are the later issues' areas, shown but not linked yet.
AREAS = [
    ("drills", _("訓練"), "drills:campaigns"),
    ("reporting", _("報告"), None),
    ("incidents", _("インシデント"), None),
    ("intel", _("脅威情報"), None),
    ("vendors", _("委託先"), None),
    ("metrics", _("指標"), None),
]


def navigation(request):
    if not hasattr(request, "tenancy") or not request.user.is_authenticated:
        return {}
    return {
        "tenancy": tenancy(request),
        "nav_areas": [{"key": key, "label": label, "url": url and reverse(url)} for key, label, url in AREAS],
    }
