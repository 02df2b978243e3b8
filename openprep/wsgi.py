"""The WSGI entry point: what ``openprep serve`` (gunicorn) and any production server run.

Static files are served by WhiteNoise's middleware (settings), so this is Django's
application and nothing else.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprep.settings")

application = get_wsgi_application()
