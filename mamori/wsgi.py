"""The WSGI application: Django, with drill links answered by a lean path (``mamori.drills.tracking.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.settings")

django_application = get_wsgi_application()

# Imported once the apps are loaded: it resolves the tracking routes and builds the middleware chain.
from mamori.drills.tracking.wsgi import TrackingDispatcher  # noqa: E402

application = TrackingDispatcher(django_application)
